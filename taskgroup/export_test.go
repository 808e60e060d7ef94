package taskgroup

// SetHookBeforeFailCancel makes fn run in the first failure's fail, between
// its check that the group is not cancelled and its cancellation, until
// the returned function is called.
func SetHookBeforeFailCancel(fn func(g *Group)) (restore func()) {
	testHookBeforeFailCancel = fn
	return func() { testHookBeforeFailCancel = nil }
}
