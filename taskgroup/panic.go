package taskgroup

import "github.com/tether-go/tether/internal/panics"

// PanicError is a panic recovered from a task: its field Value is what the
// task panicked with and Stack the stack of the goroutine that panicked,
// taken where it panicked. Its Error method returns both; Unwrap returns
// Value when it is an error, so that errors.Is and errors.As reach it.
//
// [Group.Wait] and [Run] raise it again in the waiting goroutine, or return
// it as an error under [PanicsAsErrors]; [Start] does the same for a panic
// before the task called started. Test for it with errors.As:
//
//	var pe *taskgroup.PanicError
//	if errors.As(err, &pe) { log.Printf("task panicked: %v\n%s", pe.Value, pe.Stack) }
//
// It is an alias, so that the one function that builds it (in an internal
// package) serves every package of the module that recovers panics.
type PanicError = panics.Error
