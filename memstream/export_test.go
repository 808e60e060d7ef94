package memstream

// SetAwaitHook makes f run whenever a Send or Receive has queued itself
// and is about to wait, and returns a function that removes it. Tests that
// use it must not run in parallel with others.
func SetAwaitHook(f func()) (restore func()) {
	awaitHook = f
	return func() { awaitHook = nil }
}
