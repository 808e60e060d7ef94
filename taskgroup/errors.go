package taskgroup

import (
	"context"
	"errors"

	"github.com/tether-go/tether/cancel"
)

// isCancellation reports whether err, a task's error, is a cancellation and
// nothing else, which the group may leave out or report once: a chain that
// reaches context.Canceled or context.DeadlineExceeded, or, for an error
// that joins several (a nested group's), one whose every part is such.
//
// A task's own panic is a failure even when its value is a cancellation
// error, and so is a timeout ([cancel.ErrTimeout], from the task's own
// FailAfter), although it is also context.DeadlineExceeded; but a
// [*cancel.Error] is a cancellation whatever its cause, even the timeout of
// the sibling that cancelled the group.
func isCancellation(err error) bool {
	for err != nil {
		switch e := err.(type) {
		case *cancel.Error:
			return true
		case *PanicError:
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
		switch err {
		case cancel.ErrTimeout:
			return false
		case context.Canceled, context.DeadlineExceeded:
			return true
		}
		if x, ok := err.(interface{ Is(error) bool }); ok && (x.Is(context.Canceled) || x.Is(context.DeadlineExceeded)) {
			return true
		}
		err = errors.Unwrap(err)
	}
	return false
}
