package cancelerr_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/tether-go/tether/internal/cancelerr"
	"github.com/tether-go/tether/internal/panics"
)

// causeError stands for cancel.Error: a cancellation that carries a cause,
// which may itself be a failure; its own Is makes it a cancellation.
type causeError struct{ err, cause error }

func (e *causeError) Error() string        { return e.err.Error() + ": " + e.cause.Error() }
func (e *causeError) Is(target error) bool { return target == e.err }
func (e *causeError) Unwrap() []error      { return []error{e.err, e.cause} }

// isCanceled reports Canceled from its own Is method and wraps nothing.
type isCanceled struct{}

func (isCanceled) Error() string        { return "custom cancellation" }
func (isCanceled) Is(target error) bool { return target == context.Canceled }

// emptyJoin unwraps to no error at all.
type emptyJoin struct{}

func (emptyJoin) Error() string   { return "nothing" }
func (emptyJoin) Unwrap() []error { return nil }

func TestOnly(t *testing.T) {
	boom := errors.New("boom")
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"canceled", context.Canceled, true},
		{"deadline", context.DeadlineExceeded, true},
		{"failure", boom, false},
		{"io.EOF", io.EOF, false},
		{"wrapped canceled", fmt.Errorf("read: %w", context.Canceled), true},
		{"wrapped twice", fmt.Errorf("a: %w", fmt.Errorf("b: %w", context.DeadlineExceeded)), true},
		{"own Is", isCanceled{}, true},
		{"cause is a failure", &causeError{context.Canceled, boom}, true},
		{"cause is a timeout", &causeError{context.Canceled, cancelerr.ErrTimeout}, true},
		{"failure Is Canceled", &causeError{boom, context.Canceled}, false},
		{"timeout", cancelerr.ErrTimeout, false},
		{"wrapped timeout", fmt.Errorf("fetch: %w", cancelerr.ErrTimeout), false},
		{"panic", &panics.Error{Value: "x"}, false},
		{"panic with a cancellation", &panics.Error{Value: context.Canceled}, false},
		{"wrapped panic", fmt.Errorf("task: %w", &panics.Error{Value: context.Canceled}), false},
		{"join of cancellations", errors.Join(context.Canceled, fmt.Errorf("x: %w", context.DeadlineExceeded)), true},
		{"join with a failure", errors.Join(context.Canceled, boom), false},
		{"join with a timeout", errors.Join(context.Canceled, cancelerr.ErrTimeout), false},
		{"join with a panic", errors.Join(context.Canceled, &panics.Error{Value: 1}), false},
		{"nested joins", errors.Join(errors.Join(context.Canceled), context.Canceled), true},
		{"joins nothing", emptyJoin{}, false},
		{"multi %w", fmt.Errorf("%w, %w", context.Canceled, context.DeadlineExceeded), true},
		{"multi %w with failure", fmt.Errorf("%w, %w", context.Canceled, boom), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := cancelerr.Only(tt.err); got != tt.want {
				t.Errorf("Only(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}

func TestErrTimeout(t *testing.T) {
	if !errors.Is(cancelerr.ErrTimeout, context.DeadlineExceeded) {
		t.Error("errors.Is(ErrTimeout, context.DeadlineExceeded) = false, want true")
	}
	if errors.Is(cancelerr.ErrTimeout, context.Canceled) {
		t.Error("errors.Is(ErrTimeout, context.Canceled) = true, want false")
	}
	var te interface{ Timeout() bool }
	if !errors.As(fmt.Errorf("op: %w", cancelerr.ErrTimeout), &te) || !te.Timeout() {
		t.Error("a wrapped ErrTimeout has no Timeout() == true, want one")
	}
}

func TestOnlyAllocs(t *testing.T) {
	err := errors.Join(fmt.Errorf("x: %w", context.Canceled), context.DeadlineExceeded)
	if n := testing.AllocsPerRun(100, func() { cancelerr.Only(err) }); n != 0 {
		t.Errorf("Only allocates %v times, want 0", n)
	}
}
