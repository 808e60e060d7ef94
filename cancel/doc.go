// Package cancel provides cancel scopes: Trio's and AnyIO's way of
// cancelling a region of work as a unit, built on package context.
//
// A [Scope] wraps a context. Open one, pass its context to the work inside,
// and close it with the work's error:
//
//	s, ctx := cancel.Open(ctx, cancel.WithTimeout(5*time.Second))
//	err := s.Close(work(ctx)) // nil if the scope's own deadline stopped work
//
// What it adds to context.WithCancel and context.WithTimeout:
//
//   - A scope knows its own cancellation. [Scope.Close] catches the
//     cancellation error that the scope itself caused (its Cancel, its
//     deadline) and returns nil, and passes on every other error, including
//     the cancellation of an enclosing scope, which that scope catches in
//     turn. Each scope cancels with a cause of its own (context.Cause), so
//     the two are told apart; [Scope.CancelCalled] and
//     [Scope.CancelledCaught] report what happened, as in Trio.
//   - Deadlines move. [Scope.SetDeadline] moves the deadline earlier or
//     later while the scope is open, and the scope's context reports the
//     current one (the earlier of its own and its parent's). Derived
//     contexts see a deadline as context.DeadlineExceeded (below).
//   - Shielding. A scope opened with [Shielded] ignores the cancellation and
//     the deadlines outside it but keeps the context's values, so that
//     cleanup can run to completion during shutdown, bounded by a timeout of
//     its own.
//   - Cancellation is level-triggered: once a scope is cancelled, every
//     blocking call inside fails at once, every time, until it is closed.
//
// The function forms are what most code uses: [Run], [MoveOnAfter] (give up
// quietly after d) and [FailAfter] (fail with [ErrTimeout] after d):
//
//	timedOut, err := cancel.MoveOnAfter(ctx, time.Second, fetch)
//	err := cancel.FailAfter(ctx, time.Second, fetch) // errors.Is(err, cancel.ErrTimeout)
//
// Blocking calls of this module, when their context is done, return
// [Checkpoint]'s error: ctx.Err(), or an [*Error] that carries both
// ctx.Err() and context.Cause(ctx), so that errors.Is reaches
// context.Canceled (or context.DeadlineExceeded) and the cause alike.
// [IsCancelled] tells a cancellation error; [Sleep] is a cancellable
// time.Sleep.
//
// # Deadlines that other libraries see
//
// When a deadline ends a scope (its own, or an enclosing scope's), its
// context and every context derived from it, by context.WithCancel,
// WithTimeout, WithValue or any library (net/http, gRPC), report
// context.DeadlineExceeded, not context.Canceled, and context.Cause gives
// the scope's deadline as the cause. So a request inside [FailAfter] fails
// as a timeout wherever it looks. A scope cancelled before its deadline
// ([Scope.Cancel], an enclosing scope's Cancel) reports context.Canceled.
// [ErrTimeout] has a Timeout method that reports true, as
// context.DeadlineExceeded has, so that os.IsTimeout and net.Error-style
// checks see a timeout too.
//
// A context derived from a scope's context costs no goroutine, and a
// cancellation by a scope reaches it before the call that cancelled
// returns. What the rule costs, where package context leaves no cheaper
// way (cancel/context.go says why):
//
//   - A context derived from a scope that a deadline may end attaches
//     through the scope context's AfterFunc method: no goroutine, about
//     four allocations more than attaching to a plain context. Scopes that
//     no deadline can end cost nothing more.
//   - When such a scope is cancelled by a plain context above every scope
//     (not by a scope), its derived contexts are cancelled one goroutine
//     step later, not before that cancel function returns.
//   - A context derived through a context.WithValue wrapper of such a
//     scope's context costs the goroutine that package context starts for a
//     parent it does not know.
//   - A context derived before the first deadline of its scope, or of an
//     enclosing one, was set (SetDeadline on a scope opened without one)
//     sees that deadline as context.Canceled, with the deadline as its
//     cause.
//
// A scope's context is a standard cancel context underneath, so
// context.Cause, context.AfterFunc and context.WithoutCancel work as usual.
// Opening and closing a scope costs one allocation more than
// context.WithCancel and its cancel func (the Scope, 128 bytes); with a
// deadline, one more than context.WithTimeout.
package cancel
