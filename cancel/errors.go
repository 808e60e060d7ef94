package cancel

import (
	"context"
	"errors"
)

// ErrTimeout is returned by [FailAfter] when its deadline passed before the
// work finished. errors.Is(err, context.DeadlineExceeded) also holds for it.
var ErrTimeout error = timeoutError{}

type timeoutError struct{}

func (timeoutError) Error() string { return "cancel: timed out" }

func (timeoutError) Is(target error) bool { return target == context.DeadlineExceeded }

func isTimeout(err error) bool { return errors.Is(err, ErrTimeout) }

// IsCancelled reports whether err is a cancellation error: whether
// errors.Is(err, context.Canceled) or errors.Is(err, context.DeadlineExceeded)
// holds.
func IsCancelled(err error) bool {
	return err != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded))
}

// Error is the cancellation error that the blocking calls of this module
// return when their context is done: Err is the context's Err
// (context.Canceled or context.DeadlineExceeded) and Cause its
// context.Cause. errors.Is and errors.As reach both.
type Error struct {
	Err   error
	Cause error
}

func (e *Error) Error() string {
	if e.Cause == nil || e.Cause == e.Err {
		return e.Err.Error()
	}
	return e.Err.Error() + ": " + e.Cause.Error()
}

// Unwrap returns Err and Cause.
func (e *Error) Unwrap() []error { return []error{e.Err, e.Cause} }

// cancelledError is the cause of a scope's explicit Cancel; each scope has
// its own, which is how Close knows its own cancellation.
type cancelledError struct{ s *Scope }

func (e *cancelledError) Error() string { return "cancel: scope cancelled" }

func (e *cancelledError) Is(target error) bool { return target == context.Canceled }

// deadlineError is the cause with which a scope's own deadline cancels it.
type deadlineError struct{ s *Scope }

func (e *deadlineError) Error() string { return "cancel: scope deadline exceeded" }

func (e *deadlineError) Is(target error) bool { return target == context.DeadlineExceeded }

// errClosed is the cause with which Close releases a scope's context.
var errClosed = errors.New("cancel: scope closed")
