package cancel

import (
	"context"
	"time"
)

// Run runs fn in a new scope opened with opts, and returns what
// [Scope.Close] makes of fn's error: a cancellation caused by the scope
// itself (its deadline, say) is caught and becomes nil.
func Run(ctx context.Context, fn func(ctx context.Context) error, opts ...Option) error {
	s, sctx := Open(ctx, opts...)
	return s.run(sctx, fn)
}

// MoveOnAfter runs fn with a deadline d from now, AnyIO's move_on_after: if
// the deadline passes, fn's context is cancelled, and its cancellation
// error is caught. timedOut reports whether the deadline passed before fn
// returned; err is fn's error, less the caught cancellation. A cancellation
// from outside (ctx) is returned, never caught.
func MoveOnAfter(ctx context.Context, d time.Duration, fn func(ctx context.Context) error) (timedOut bool, err error) {
	s, sctx := Open(ctx, WithTimeout(d))
	err = s.run(sctx, fn)
	return s.has(deadlineHit), err
}

// FailAfter runs fn with a deadline d from now, AnyIO's fail_after: if the
// deadline passes and fn returns the resulting cancellation error, FailAfter
// returns [ErrTimeout] (which is also context.DeadlineExceeded). An explicit
// cancellation that came first, even just before the deadline, is never
// reported as a timeout.
func FailAfter(ctx context.Context, d time.Duration, fn func(ctx context.Context) error) error {
	s, sctx := Open(ctx, WithTimeout(d))
	err := s.run(sctx, fn)
	if err == nil && s.has(deadlineHit) && s.CancelledCaught() {
		return ErrTimeout
	}
	return err
}

// run is the function forms' body: it calls fn with the scope's context
// ctx and closes the scope with fn's error, or with nil before a panic of
// fn goes on (or fn's runtime.Goexit), so that the scope never outlives
// the call.
func (s *Scope) run(ctx context.Context, fn func(ctx context.Context) error) error {
	returned := false
	defer func() {
		if !returned {
			s.Close(nil)
		}
	}()
	err := fn(ctx)
	returned = true
	return s.Close(err)
}

// Sleep waits for d, or until ctx is done, when it returns the cancellation
// error (see [Checkpoint]). A zero or negative d only checks ctx.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return Checkpoint(ctx)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return Checkpoint(ctx)
	}
}

// Checkpoint returns nil while ctx is not done, and the cancellation error
// once it is: ctx.Err() itself when the context has no other cause, else an
// [*Error] that carries both ctx.Err() and context.Cause(ctx). It never
// blocks.
func Checkpoint(ctx context.Context) error {
	// A scope's own context, the common case, costs one call, not two.
	if c, ok := ctx.(*scopeCtx); ok {
		if c.Context.Err() == nil {
			return nil
		}
	} else if ctx.Err() == nil {
		return nil
	}
	return checkpointErr(ctx)
}

// checkpointErr is Checkpoint's error once ctx is done.
func checkpointErr(ctx context.Context) error {
	var err, cause error
	if c, ok := ctx.(*scopeCtx); ok {
		// What Err and context.Cause would say, with one lookup of the
		// cause, not three: q's cause is the scope context's.
		err, cause = c.Context.Err(), context.Cause(c.Context)
		if _, ok := cause.(*deadlineError); ok && err == context.Canceled {
			err = context.DeadlineExceeded // see doneErr
		}
	} else {
		err, cause = ctx.Err(), context.Cause(ctx)
	}
	if cause == nil || sameError(cause, err) {
		return err
	}
	return &Error{Err: err, Cause: cause}
}
