package taskgroup

import "fmt"

// PanicError is a panic recovered from a task: Value is what the task
// panicked with and Stack the stack of the goroutine that panicked, taken
// where it panicked. [Group.Wait] and [Run] raise it again in the waiting
// goroutine, or return it as an error under [PanicsAsErrors].
type PanicError struct {
	Value any
	Stack []byte
}

// Error returns the panic value and the stack of the task that panicked.
func (e *PanicError) Error() string {
	return fmt.Sprintf("taskgroup: task panicked: %v\n\n%s", e.Value, e.Stack)
}

// Unwrap returns the panic value if it is an error, so that errors.Is and
// errors.As reach it, and nil otherwise.
func (e *PanicError) Unwrap() error {
	if err, ok := e.Value.(error); ok {
		return err
	}
	return nil
}
