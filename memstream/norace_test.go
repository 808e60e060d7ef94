//go:build !race

package memstream_test

const raceEnabled = false
