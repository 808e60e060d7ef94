package cancel

import (
	"context"
	"errors"

	"github.com/tether-go/tether/internal/cancelerr"
)

// ErrTimeout is returned by [FailAfter] when its deadline passed before the
// work finished. errors.Is(err, context.DeadlineExceeded) also holds for it,
// and, as context.DeadlineExceeded does, it has a Timeout method that
// reports true, so that checks written for net.Error and os.IsTimeout
// (errors.As to interface{ Timeout() bool }) see a timeout.
var ErrTimeout error = cancelerr.ErrTimeout

// isCancellation reports whether err is a cancellation and nothing else,
// which a scope may catch: the module's one rule, [cancelerr.Only]. A
// timeout ([ErrTimeout]) is not a cancellation there, but an [*Error] whose
// cause is one is: a sibling cancelled because a FailAfter timed out is a
// cancellation, which the scope that caused it catches.
func isCancellation(err error) bool { return cancelerr.Only(err) }

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

// Is reports whether target is e.Err. errors.Is reaches Err and Cause
// through Unwrap alone; Is says, in addition, that the error is what its Err
// is, a cancellation, whatever its Cause: a task cancelled because a sibling
// failed returns a cancellation, not that sibling's failure.
func (e *Error) Is(target error) bool { return target == e.Err }

// Unwrap returns Err and Cause.
func (e *Error) Unwrap() []error { return []error{e.Err, e.Cause} }

// cancelledError is the cause of a scope's explicit Cancel; each scope has
// its own, which is how Close knows its own cancellation: its address (the
// one byte keeps the addresses of two scopes' apart).
type cancelledError struct{ _ byte }

func (e *cancelledError) Error() string { return "cancel: scope cancelled" }

func (e *cancelledError) Is(target error) bool { return target == context.Canceled }

// deadlineError is the cause with which a scope's own deadline cancels it;
// each scope has its own, as for cancelledError.
type deadlineError struct{ _ byte }

func (e *deadlineError) Error() string { return "cancel: scope deadline exceeded" }

func (e *deadlineError) Is(target error) bool { return target == context.DeadlineExceeded }

// errClosed is the cause with which Close releases a scope's context. It
// is a cancellation error, as context.Canceled is for context.WithCancel, so
// that code returning context.Cause(ctx) after Close still returns one.
var errClosed error = closedError{}

type closedError struct{}

func (closedError) Error() string { return "cancel: scope closed" }

func (closedError) Is(target error) bool { return target == context.Canceled }
