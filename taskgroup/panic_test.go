package taskgroup_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tether-go/tether/cancel"
	"github.com/tether-go/tether/taskgroup"
)

//go:noinline
func panickyTask(ctx context.Context) error {
	panic("kaboom")
}

// waitPanic calls Wait and returns the *PanicError it panics with.
func waitPanic(t *testing.T, wait func() error) *taskgroup.PanicError {
	t.Helper()
	r := mustPanic(t, func() { wait() })
	pe, ok := r.(*taskgroup.PanicError)
	if !ok {
		t.Fatalf("panicked with %#v, want a *taskgroup.PanicError", r)
	}
	return pe
}

func TestPanicReraisedFromWait(t *testing.T) {
	g, _ := taskgroup.New(context.Background())
	sibling := make(chan error, 1)
	g.Go(func(ctx context.Context) error {
		err := cancel.Sleep(ctx, time.Hour)
		sibling <- err
		return err
	})
	g.Go(panickyTask)
	pe := waitPanic(t, g.Wait)
	if pe.Value != "kaboom" {
		t.Errorf("PanicError.Value = %v, want kaboom", pe.Value)
	}
	if !strings.Contains(string(pe.Stack), "panickyTask") {
		t.Errorf("PanicError.Stack does not name panickyTask:\n%s", pe.Stack)
	}
	if err := <-sibling; !cancel.IsCancelled(err) {
		t.Errorf("sibling's Sleep = %v, want the group's cancellation", err)
	}
	// Every Wait raises it again.
	if again := waitPanic(t, g.Wait); again != pe {
		t.Errorf("second Wait panicked with %p, want the same %p", again, pe)
	}
	if !strings.Contains(pe.Error(), "kaboom") {
		t.Errorf("Error() = %q, want it to contain the value", pe.Error())
	}
}

func TestPanicInBodyReraisedFromRun(t *testing.T) {
	var childErr error
	pe := waitPanic(t, func() error {
		return taskgroup.Run(context.Background(), func(ctx context.Context, g *taskgroup.Group) error {
			g.Go(func(ctx context.Context) error {
				childErr = cancel.Sleep(ctx, time.Hour)
				return childErr
			})
			return panickyTask(ctx)
		})
	})
	if pe.Value != "kaboom" || !strings.Contains(string(pe.Stack), "panickyTask") {
		t.Errorf("PanicError = %v, want kaboom with panickyTask in its stack", pe.Value)
	}
	if !cancel.IsCancelled(childErr) {
		t.Errorf("child's Sleep = %v, want a cancellation", childErr)
	}
}

func TestFirstPanicWins(t *testing.T) {
	g, _ := taskgroup.New(context.Background())
	// The group is cancelled once the first panic is recorded.
	g.Go(func(context.Context) error { panic("first") })
	g.Go(func(ctx context.Context) error { <-ctx.Done(); panic("second") })
	g.Go(func(ctx context.Context) error { <-ctx.Done(); return errBoom })
	if pe := waitPanic(t, g.Wait); pe.Value != "first" {
		t.Errorf("Wait panicked with %v, want first", pe.Value)
	}
}

func TestPanicsAsErrors(t *testing.T) {
	errValue := errors.New("panic value")
	tests := []struct {
		name  string
		value any
		is    error // errors.Is(Wait(), is) must hold, if set
	}{
		{name: "string", value: "kaboom"},
		{name: "error", value: errValue, is: errValue},
		{name: "cancellation", value: context.Canceled, is: context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, _ := taskgroup.New(context.Background(), taskgroup.PanicsAsErrors())
			for range 3 {
				g.Go(func(ctx context.Context) error { return cancel.Sleep(ctx, time.Hour) })
			}
			g.Go(func(context.Context) error { panic(tt.value) })
			err := g.Wait()
			var pe *taskgroup.PanicError
			if !errors.As(err, &pe) || pe.Value != tt.value {
				t.Fatalf("Wait() = %v, want a *PanicError with value %v", err, tt.value)
			}
			if err != error(pe) {
				t.Errorf("Wait() = %v, want the *PanicError alone: the siblings' cancellations are left out", err)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("errors.Is(Wait(), %v) = false, want true", tt.is)
			}
			if tt.is == nil && pe.Unwrap() != nil {
				t.Errorf("Unwrap() = %v, want nil for a value that is not an error", pe.Unwrap())
			}
		})
	}
}

func TestPanicsAsErrorsInBody(t *testing.T) {
	err := taskgroup.Run(context.Background(), func(ctx context.Context, g *taskgroup.Group) error {
		g.Go(func(ctx context.Context) error { return cancel.Sleep(ctx, time.Hour) })
		return panickyTask(ctx)
	}, taskgroup.PanicsAsErrors())
	var pe *taskgroup.PanicError
	if !errors.As(err, &pe) || err != error(pe) {
		t.Fatalf("Run = %v, want a *PanicError alone", err)
	}
	if !strings.Contains(string(pe.Stack), "panickyTask") {
		t.Errorf("stack does not name panickyTask:\n%s", pe.Stack)
	}
}
