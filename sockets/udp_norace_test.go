//go:build !race

package sockets_test

// udpRaceEnabled says that the race detector is on: it allocates, so the
// zero-allocation test is skipped.
const udpRaceEnabled = false
