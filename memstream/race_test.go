//go:build race

package memstream_test

// raceEnabled is true when the race detector is on: it makes sync.Pool
// drop values at random, so allocation counts mean nothing then.
const raceEnabled = true
