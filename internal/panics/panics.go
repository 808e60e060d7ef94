// Package panics is the one place where the module turns a recovered panic
// into an error: taskgroup's tasks, Start's starting tasks and Serve's
// isolated handlers all build their [*Error] with [New], so that each
// carries the same thing, the value and the stack of the goroutine that
// panicked.
//
// The type is exported to users as taskgroup.PanicError, an alias of
// [Error]; this package exists so that packages above taskgroup (streams)
// can build one without a second copy of the code.
package panics

import (
	"fmt"
	"runtime/debug"
)

// Error is a panic recovered from a goroutine: Value is what it panicked
// with and Stack the stack of the goroutine that panicked, taken where it
// panicked. taskgroup.PanicError is this type.
type Error struct {
	Value any
	Stack []byte
}

// New returns the [*Error] for r, a value that recover returned. It must be
// called in the deferred function that recovered r (or in a function that
// this one calls), while the goroutine's stack still holds the frames that
// panicked: that stack is what it records.
func New(r any) *Error {
	return &Error{Value: r, Stack: debug.Stack()}
}

// Error returns the panic value and the stack of the goroutine that
// panicked.
func (e *Error) Error() string {
	return fmt.Sprintf("taskgroup: task panicked: %v\n\n%s", e.Value, e.Stack)
}

// Unwrap returns the panic value if it is an error, so that errors.Is and
// errors.As reach it, and nil otherwise.
func (e *Error) Unwrap() error {
	if err, ok := e.Value.(error); ok {
		return err
	}
	return nil
}
