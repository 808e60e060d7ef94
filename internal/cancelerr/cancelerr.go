// Package cancelerr is the module's one answer to "is this error a
// cancellation, and nothing else?": the question a cancel scope asks before
// it catches an error, and a task group before it leaves an error out of
// what Wait returns. Package cancel and package taskgroup both call [Only],
// so that the two can never disagree about an error.
//
// It also holds the type behind cancel.ErrTimeout ([ErrTimeout]), because
// [Only] must know it and package cancel imports this one.
package cancelerr

import (
	"context"
	"errors"

	"github.com/tether-go/tether/internal/panics"
)

// ErrTimeout is the value of cancel.ErrTimeout: what FailAfter returns when
// its deadline passed. errors.Is(ErrTimeout, context.DeadlineExceeded)
// holds, and its Timeout method reports true, as context.DeadlineExceeded's
// does; yet [Only] counts it as a failure, not a cancellation.
var ErrTimeout error = timeoutError{}

type timeoutError struct{}

func (timeoutError) Error() string { return "cancel: timed out" }

// Is makes errors.Is(ErrTimeout, context.DeadlineExceeded) hold.
func (timeoutError) Is(target error) bool { return target == context.DeadlineExceeded }

// Timeout reports true, so that checks written for net.Error and
// os.IsTimeout (errors.As to interface{ Timeout() bool }) see a timeout.
func (timeoutError) Timeout() bool { return true }

// Only reports whether err is a cancellation and nothing else: an error
// that is context.Canceled or context.DeadlineExceeded, or whose own Is
// method reports one of them (cancel.Error, whatever its cause), or that
// wraps such an error; for an error that joins several (errors.Join, a
// nested task group's), one whose every part is such.
//
// It is stricter than errors.Is, for which one cancelled part is enough,
// because what it approves is dropped: a scope catches it, a group leaves it
// out. Two errors are failures although they reach a cancellation: a
// recovered panic ([*panics.Error], taskgroup.PanicError), even when its
// value is a cancellation error, and [ErrTimeout], the deadline of a
// FailAfter, which must reach the caller as the failure it is.
//
// Only is safe for concurrent use and does not allocate.
func Only(err error) bool {
	for err != nil {
		switch err.(type) {
		case *panics.Error, timeoutError:
			return false
		}
		if err == context.Canceled || err == context.DeadlineExceeded {
			return true
		}
		if x, ok := err.(interface{ Is(error) bool }); ok && (x.Is(context.Canceled) || x.Is(context.DeadlineExceeded)) {
			return true
		}
		if x, ok := err.(interface{ Unwrap() []error }); ok {
			errs := x.Unwrap()
			for _, e := range errs {
				if !Only(e) {
					return false
				}
			}
			return len(errs) > 0
		}
		err = errors.Unwrap(err)
	}
	return false
}
