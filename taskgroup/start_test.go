package taskgroup_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tether-go/tether/cancel"
	"github.com/tether-go/tether/taskgroup"
)

func TestStartReturnsValue(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var after atomic.Bool
		err := taskgroup.Run(context.Background(), func(ctx context.Context, g *taskgroup.Group) error {
			port, err := taskgroup.Start(ctx, g, func(ctx context.Context, started func(int)) error {
				time.Sleep(time.Second) // "listening"
				started(8080)
				time.Sleep(time.Second) // "serving"
				after.Store(true)
				return nil
			})
			if port != 8080 || err != nil {
				t.Errorf("Start = %v, %v; want 8080, nil", port, err)
			}
			if after.Load() {
				t.Error("Start returned after the task finished, want as soon as it called started")
			}
			return nil
		})
		if err != nil || !after.Load() {
			t.Errorf("Run = %v (task finished: %v), want nil after the task ran on", err, after.Load())
		}
	})
}

func TestStartBeforeStarted(t *testing.T) {
	tests := []struct {
		name string
		fn   func(ctx context.Context, started func(string)) error
		want error
	}{
		{name: "error", fn: func(context.Context, func(string)) error { return errBoom }, want: errBoom},
		{name: "nil", fn: func(context.Context, func(string)) error { return nil }, want: taskgroup.ErrNotStarted},
		{name: "Goexit", fn: func(context.Context, func(string)) error { runtime.Goexit(); return nil }, want: taskgroup.ErrNotStarted},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, ctx := taskgroup.New(context.Background())
			v, err := taskgroup.Start(ctx, g, tt.fn)
			if v != "" || err != tt.want {
				t.Errorf("Start = %q, %v; want \"\", %v", v, err, tt.want)
			}
			if ctx.Err() != nil {
				t.Errorf("group ctx = %v after Start failed, want not cancelled", context.Cause(ctx))
			}
			if err := g.Wait(); err != nil {
				t.Errorf("Wait() = %v, want nil: a failure before started is Start's", err)
			}
		})
	}
}

func TestStartErrorAfterStartedFailsGroup(t *testing.T) {
	g, ctx := taskgroup.New(context.Background())
	v, err := taskgroup.Start(ctx, g, func(ctx context.Context, started func(int)) error {
		started(2)
		return errBoom
	})
	if v != 2 || err != nil {
		t.Errorf("Start = %v, %v; want 2, nil", v, err)
	}
	if err := g.Wait(); err != errBoom {
		t.Errorf("Wait() = %v, want errBoom", err)
	}
	if context.Cause(ctx) != errBoom {
		t.Errorf("group cause = %v, want errBoom", context.Cause(ctx))
	}
}

func TestStartedTwicePanics(t *testing.T) {
	g, _ := taskgroup.New(context.Background())
	var msg string
	_, err := taskgroup.Start(context.Background(), g, func(ctx context.Context, started func(int)) error {
		started(1)
		defer func() { msg = fmt.Sprint(recover()) }()
		started(2)
		return nil
	})
	if err != nil {
		t.Errorf("Start = %v, want nil", err)
	}
	g.Wait()
	if want := "taskgroup: started called twice"; msg != want {
		t.Errorf("second started panicked with %q, want %q", msg, want)
	}
}

func TestStartedAfterReturnPanics(t *testing.T) {
	g, _ := taskgroup.New(context.Background())
	var started func(int)
	_, err := taskgroup.Start(context.Background(), g, func(ctx context.Context, s func(int)) error {
		started = s
		return errBoom
	})
	if err != errBoom {
		t.Errorf("Start = %v, want errBoom", err)
	}
	g.Wait()
	r := mustPanic(t, func() { started(1) })
	if msg := fmt.Sprint(r); !strings.HasPrefix(msg, "taskgroup: started called after") {
		t.Errorf("panic %q, want it to name the mistake", msg)
	}
}

func TestStartPanicBeforeStarted(t *testing.T) {
	t.Run("re-raised from Start", func(t *testing.T) {
		g, ctx := taskgroup.New(context.Background())
		r := mustPanic(t, func() {
			taskgroup.Start(ctx, g, func(ctx context.Context, started func(int)) error { return panickyTask(ctx) })
		})
		pe, ok := r.(*taskgroup.PanicError)
		if !ok || pe.Value != "kaboom" || !strings.Contains(string(pe.Stack), "panickyTask") {
			t.Errorf("Start panicked with %#v, want a *PanicError from panickyTask", r)
		}
		if ctx.Err() != nil {
			t.Error("group cancelled by a panic before started, want it untouched")
		}
		if err := g.Wait(); err != nil {
			t.Errorf("Wait() = %v, want nil", err)
		}
	})
	t.Run("PanicsAsErrors", func(t *testing.T) {
		g, _ := taskgroup.New(context.Background(), taskgroup.PanicsAsErrors())
		_, err := taskgroup.Start(context.Background(), g, func(ctx context.Context, started func(int)) error { return panickyTask(ctx) })
		var pe *taskgroup.PanicError
		if !errors.As(err, &pe) || pe.Value != "kaboom" {
			t.Errorf("Start = %v, want a *PanicError", err)
		}
		if err := g.Wait(); err != nil {
			t.Errorf("Wait() = %v, want nil", err)
		}
	})
	t.Run("after started: the group's", func(t *testing.T) {
		g, _ := taskgroup.New(context.Background())
		v, err := taskgroup.Start(context.Background(), g, func(ctx context.Context, started func(int)) error {
			started(7)
			return panickyTask(ctx)
		})
		if v != 7 || err != nil {
			t.Errorf("Start = %v, %v; want 7, nil", v, err)
		}
		if pe := waitPanic(t, g.Wait); pe.Value != "kaboom" {
			t.Errorf("Wait panicked with %v, want kaboom", pe.Value)
		}
	})
}

func TestStartContextCancelBeforeStarted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g, gctx := taskgroup.New(context.Background())
		sibling := make(chan struct{})
		g.Go(func(ctx context.Context) error {
			defer close(sibling)
			return cancel.Sleep(ctx, time.Hour)
		})
		caller, cctx := cancel.Open(context.Background())
		time.AfterFunc(time.Second, caller.Cancel)
		_, err := taskgroup.Start(cctx, g, func(ctx context.Context, started func(int)) error {
			return cancel.Sleep(ctx, time.Hour) // never gets to started
		})
		if !cancel.IsCancelled(err) {
			t.Fatalf("StartContext = %v, want a cancellation", err)
		}
		if got := caller.Close(err); got != nil {
			t.Errorf("caller.Close(err) = %v, want nil: the caller's own cancellation", got)
		}
		if gctx.Err() != nil {
			t.Error("group cancelled by the caller's cancellation, want it untouched")
		}
		synctest.Wait()
		select {
		case <-sibling:
			t.Error("sibling task ended, want it still running")
		default:
		}
		g.Cancel()
		if err := g.Wait(); err != nil {
			t.Errorf("Wait() = %v, want nil", err)
		}
	})
}

func TestStartContextCancelAfterStarted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g, _ := taskgroup.New(context.Background())
		caller, cctx := cancel.Open(context.Background())
		var taskErr error
		_, err := taskgroup.Start(cctx, g, func(ctx context.Context, started func(int)) error {
			started(1)
			taskErr = cancel.Sleep(ctx, time.Minute)
			return taskErr
		})
		if err != nil {
			t.Fatalf("StartContext = %v, want nil", err)
		}
		caller.Cancel()
		caller.Close(nil)
		if err := g.Wait(); err != nil {
			t.Errorf("Wait() = %v, want nil", err)
		}
		if taskErr != nil {
			t.Errorf("task's Sleep = %v, want nil: the caller's cancellation no longer reaches it", taskErr)
		}
	})
}

func TestStartWithLimit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g, _ := taskgroup.New(context.Background())
		g.SetLimit(1)
		g.Go(func(ctx context.Context) error { time.Sleep(time.Second); return nil })
		start := time.Now()
		v, err := taskgroup.Start(context.Background(), g, func(ctx context.Context, started func(int)) error { started(1); return nil })
		if v != 1 || err != nil || time.Since(start) != time.Second {
			t.Errorf("Start = %v, %v after %v; want 1, nil after 1s (a free slot)", v, err, time.Since(start))
		}
		g.Wait()
	})
	t.Run("caller cancelled while waiting", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			g, _ := taskgroup.New(context.Background())
			g.SetLimit(1)
			g.Go(func(ctx context.Context) error { return cancel.Sleep(ctx, time.Hour) })
			cctx, stop := context.WithTimeout(context.Background(), time.Second)
			defer stop()
			var ran atomic.Bool
			_, err := taskgroup.Start(cctx, g, func(ctx context.Context, started func(int)) error { ran.Store(true); return nil })
			if !errors.Is(err, context.DeadlineExceeded) || ran.Load() {
				t.Errorf("StartContext = %v (ran: %v), want DeadlineExceeded without running", err, ran.Load())
			}
			g.Cancel()
			g.Wait()
		})
	})
	t.Run("group cancelled while waiting", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			g, _ := taskgroup.New(context.Background())
			g.SetLimit(1)
			g.Go(func(ctx context.Context) error { time.Sleep(time.Second); return errBoom })
			_, err := taskgroup.Start(context.Background(), g, func(ctx context.Context, started func(int)) error { started(1); return nil })
			if !cancel.IsCancelled(err) || !errors.Is(err, errBoom) {
				t.Errorf("Start = %v, want the group's cancellation (cause errBoom)", err)
			}
			if err := g.Wait(); err != errBoom {
				t.Errorf("Wait() = %v, want errBoom", err)
			}
		})
	})
}

// AnyIO test_start_cancelled: Start on a cancelled group runs the task,
// which meets the cancellation.
func TestStartOnCancelledGroup(t *testing.T) {
	var ran atomic.Bool
	err := taskgroup.Run(context.Background(), func(ctx context.Context, g *taskgroup.Group) error {
		g.Cancel()
		_, err := taskgroup.Start(ctx, g, func(ctx context.Context, started func(int)) error {
			ran.Store(true)
			return cancel.Sleep(ctx, time.Hour)
		})
		if !cancel.IsCancelled(err) {
			t.Errorf("Start = %v, want a cancellation", err)
		}
		return nil
	})
	if err != nil || !ran.Load() {
		t.Errorf("Run = %v, ran %v; want nil, true", err, ran.Load())
	}
}
