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

// isCancellation reports whether err is a cancellation and nothing else:
// a chain that reaches context.Canceled or context.DeadlineExceeded, or, for
// an error that joins several, one whose every part is such. It is stricter
// than [IsCancelled], for which one cancelled part is enough, because a
// scope must not catch, and so drop, failures that travel with a
// cancellation. A timeout ([ErrTimeout]) is not a cancellation here, but an
// [*Error] whose cause is one is: a sibling cancelled because a FailAfter
// timed out is a cancellation, which the scope that caused it catches.
func isCancellation(err error) bool {
	for err != nil {
		switch e := err.(type) {
		case *Error:
			return true
		case timeoutError:
			return false
		case interface{ Unwrap() []error }:
			errs := e.Unwrap()
			for _, err := range errs {
				if !isCancellation(err) {
					return false
				}
			}
			return len(errs) > 0
		}
		if err == context.Canceled || err == context.DeadlineExceeded {
			return true
		}
		if x, ok := err.(interface{ Is(error) bool }); ok && (x.Is(context.Canceled) || x.Is(context.DeadlineExceeded)) {
			return true
		}
		err = errors.Unwrap(err)
	}
	return false
}

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

// Error returns the context's error, followed by the cause when there is a
// distinct one: "context canceled: cancel: scope cancelled".
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

// errClosed is the cause with which Close releases a scope's context. It
// is a cancellation error, as context.Canceled is for context.WithCancel, so
// that code returning context.Cause(ctx) after Close still returns one.
var errClosed error = closedError{}

type closedError struct{}

func (closedError) Error() string { return "cancel: scope closed" }

func (closedError) Is(target error) bool { return target == context.Canceled }
