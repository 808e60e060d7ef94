// Package busy is the one guard behind every "another call is already
// running" refusal in tether: a stream direction that admits one call at
// a time claims its [Guard] without waiting, and refuses the call when the
// guard is held.
//
// The guard only reports whether it could be claimed: the caller turns a
// refusal into its own error, which names the operation and wraps
// streams.ErrBusy (this package cannot import streams, which imports it).
package busy

import "sync/atomic"

// Guard admits one holder at a time and never makes anyone wait: a
// second claimant is refused at once (Try* methods never block).
//
// The zero value is a free guard. It is safe for concurrent use, reusable
// for as long as its owner lives, and must not be copied after first use.
// TryAcquire and Release each cost one atomic compare-and-swap.
type Guard struct {
	held atomic.Bool
}

// TryAcquire claims the guard and reports whether it could: false means
// another holder has it. A true result must be paired with one
// [Guard.Release].
func (g *Guard) TryAcquire() bool {
	return g.held.CompareAndSwap(false, true)
}

// Release frees the guard for the next claimant. Releasing a guard that
// is not held is a bug in the caller, and panics.
func (g *Guard) Release() {
	if !g.held.CompareAndSwap(true, false) {
		panic("busy: Release of a Guard that is not held")
	}
}

// Held reports whether the guard is held right now. The answer may be
// stale by the time the caller looks at it; it is meant for assertions
// and for choosing an error after a refusal.
func (g *Guard) Held() bool {
	return g.held.Load()
}
