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
//     current one (the earlier of its own and its parent's).
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
// A scope's context is a standard cancel context underneath: contexts
// derived from it cost no goroutine, and context.Cause, context.AfterFunc
// and context.WithoutCancel work as usual. Opening and closing a scope
// costs about as much as context.WithCancel and its cancel func.
package cancel
