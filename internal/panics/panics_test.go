package panics_test

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/tether-go/tether/internal/panics"
)

//go:noinline
func explode(v any) { panic(v) }

// recovered calls explode(v) and returns what New made of its panic.
func recovered(v any) (e *panics.Error) {
	defer func() { e = panics.New(recover()) }()
	explode(v)
	return nil
}

func TestNew(t *testing.T) {
	tests := []struct {
		name   string
		value  any
		unwrap error
	}{
		{name: "string", value: "kaboom"},
		{name: "error", value: io.ErrUnexpectedEOF, unwrap: io.ErrUnexpectedEOF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := recovered(tt.value)
			if e.Value != tt.value {
				t.Errorf("Value = %v, want %v", e.Value, tt.value)
			}
			if !strings.Contains(string(e.Stack), "explode") {
				t.Errorf("Stack does not name the function that panicked:\n%s", e.Stack)
			}
			if got := e.Unwrap(); got != tt.unwrap {
				t.Errorf("Unwrap() = %v, want %v", got, tt.unwrap)
			}
			if tt.unwrap != nil && !errors.Is(e, tt.unwrap) {
				t.Errorf("errors.Is(e, %v) = false, want true", tt.unwrap)
			}
			msg := e.Error()
			if !strings.HasPrefix(msg, "taskgroup: task panicked: ") || !strings.Contains(msg, "explode") {
				t.Errorf("Error() = %q, want the value and the stack", msg)
			}
		})
	}
}

// panic(nil) is recovered as a *runtime.PanicNilError (Go 1.21), which New
// keeps as the value.
func TestNewPanicNil(t *testing.T) {
	e := recovered(nil)
	if e.Value == nil || e.Unwrap() == nil {
		t.Errorf("Value = %v, Unwrap() = %v; want the runtime's PanicNilError in both", e.Value, e.Unwrap())
	}
}
