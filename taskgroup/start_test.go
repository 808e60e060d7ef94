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

func TestStartCallerCancelBeforeStarted(t *testing.T) {
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
			t.Fatalf("Start = %v, want a cancellation", err)
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

func TestStartCallerCancelAfterStarted(t *testing.T) {
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
			t.Fatalf("Start = %v, want nil", err)
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
			var taskErr error
			_, err := taskgroup.Start(cctx, g, func(ctx context.Context, started func(int)) error {
				taskErr = ctx.Err()
				return nil
			})
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("Start = %v, want DeadlineExceeded", err)
			}
			if taskErr == nil {
				t.Error("the task ran with a live context, want it cancelled by the caller's deadline")
			}
			g.Cancel()
			if err := g.Wait(); err != nil {
				t.Errorf("Wait() = %v, want nil: the start was the caller's", err)
			}
		})
	})
	t.Run("group cancelled while waiting", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			g, _ := taskgroup.New(context.Background())
			g.SetLimit(1)
			g.Go(func(ctx context.Context) error { time.Sleep(time.Second); return errBoom })
			var taskErr error
			v, err := taskgroup.Start(context.Background(), g, func(ctx context.Context, started func(int)) error {
				started(1)
				taskErr = cancel.Checkpoint(ctx)
				return taskErr
			})
			if v != 1 || err != nil {
				t.Errorf("Start = %v, %v; want 1, nil: the task runs, and is handed to the cancelled group", v, err)
			}
			if err := g.Wait(); err != errBoom {
				t.Errorf("Wait() = %v, want errBoom", err)
			}
			if !errors.Is(taskErr, errBoom) {
				t.Errorf("task's Checkpoint = %v, want the group's cancellation (cause errBoom)", taskErr)
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

// A start cancelled by its caller never reaches the group (Trio's start):
// a started that comes after the caller's ctx is done leaves the task
// Start's, whose outcome Start returns once fn has returned.
func TestStartCancelledByCaller(t *testing.T) {
	tests := []struct {
		name string
		// fn gets the caller's cancel function, which it calls before or
		// after started.
		fn        func(ctx context.Context, started func(int), cancelCaller func()) error
		wantV     int
		wantErr   func(err error) bool
		wantWait  error
		wantPanic bool
	}{
		{
			name: "cancelled before started, task fails",
			fn: func(ctx context.Context, started func(int), cancelCaller func()) error {
				cancelCaller()
				started(1)
				if ctx.Err() == nil {
					return errors.New("task's ctx not cancelled after a refused started")
				}
				return errBoom
			},
			wantErr: func(err error) bool { return err == errBoom },
		},
		{
			name: "cancelled before started, task returns nil",
			fn: func(ctx context.Context, started func(int), cancelCaller func()) error {
				cancelCaller()
				started(1)
				return nil
			},
			wantErr: func(err error) bool { return cancel.IsCancelled(err) && errors.Is(err, errOther) },
		},
		{
			name: "cancelled before started, task panics",
			fn: func(ctx context.Context, started func(int), cancelCaller func()) error {
				cancelCaller()
				started(1)
				panic("kaboom")
			},
			wantPanic: true,
		},
		{
			name: "cancelled after started",
			fn: func(ctx context.Context, started func(int), cancelCaller func()) error {
				started(1)
				cancelCaller()
				if err := ctx.Err(); err != nil {
					return fmt.Errorf("the caller's cancellation reached a started task: %w", err)
				}
				return errBoom
			},
			wantV:    1,
			wantErr:  func(err error) bool { return err == nil },
			wantWait: errBoom,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, gctx := taskgroup.New(context.Background())
			sibling := make(chan error, 1)
			g.Go(func(ctx context.Context) error {
				<-ctx.Done()
				sibling <- ctx.Err()
				return nil
			})
			cctx, cancelCaller := context.WithCancelCause(context.Background())
			defer cancelCaller(nil)
			var v int
			var err error
			r := func() (r any) {
				defer func() { r = recover() }()
				v, err = taskgroup.Start(cctx, g, func(ctx context.Context, started func(int)) error {
					return tt.fn(ctx, started, func() { cancelCaller(errOther) })
				})
				return nil
			}()
			if tt.wantPanic {
				if _, ok := r.(*taskgroup.PanicError); !ok {
					t.Errorf("Start panicked with %v, want a *PanicError", r)
				}
			} else if r != nil {
				t.Fatalf("Start panicked with %v", r)
			} else if v != tt.wantV || !tt.wantErr(err) {
				t.Errorf("Start = %v, %v; want %v and the error the case expects", v, err, tt.wantV)
			}
			if tt.wantWait == nil && gctx.Err() != nil {
				t.Errorf("group cancelled (cause %v), want it untouched by a cancelled start", context.Cause(gctx))
			}
			g.Cancel()
			if err := g.Wait(); err != tt.wantWait {
				t.Errorf("Wait() = %v, want %v", err, tt.wantWait)
			}
			<-sibling
		})
	}
}

// stress runs try until n tries or d have passed, whichever comes first,
// and reports how many it ran.
func stress(n int, d time.Duration, try func(i int) bool) int {
	deadline := time.Now().Add(d)
	i := 0
	for ; i < n && time.Now().Before(deadline); i++ {
		if !try(i) {
			break
		}
	}
	return i
}

// The caller's cancellation races started: whichever comes first under
// Start's lock decides, and the outcome is one of two, never a mix.
func TestStartCancelRacesStarted(t *testing.T) {
	var handed, refused int
	n := stress(5000, time.Second, func(int) bool {
		g, gctx := taskgroup.New(context.Background())
		cctx, cancelCaller := context.WithCancelCause(context.Background())
		race, cancelled := make(chan struct{}), make(chan struct{})
		go func() {
			defer close(cancelled)
			<-race
			cancelCaller(errOther)
		}()
		var afterStarted error
		v, err := taskgroup.Start(cctx, g, func(ctx context.Context, started func(int)) error {
			close(race)
			started(1)
			afterStarted = ctx.Err()
			return errBoom
		})
		groupErr := gctx.Err()
		<-cancelled
		waitErr := g.Wait()
		switch {
		case v == 1 && err == nil:
			handed++
			if afterStarted != nil || waitErr != errBoom {
				t.Errorf("handed over: task's ctx after started = %v, Wait() = %v; want nil, errBoom", afterStarted, waitErr)
				return false
			}
		case v == 0 && err == errBoom:
			refused++
			if afterStarted == nil || groupErr != nil || waitErr != nil {
				t.Errorf("refused: task's ctx after started = %v, group ctx = %v, Wait() = %v; want cancelled, nil, nil", afterStarted, groupErr, waitErr)
				return false
			}
		default:
			t.Errorf("Start = %v, %v; want 1, nil (handed over) or 0, errBoom (cancelled start)", v, err)
			return false
		}
		return true
	})
	t.Logf("%d tries: %d handed over, %d refused", n, handed, refused)
}

// started, called from another goroutine, races fn's return: either
// started wins (Start returns the value, the group gets fn's error), or the
// return wins (Start returns fn's error, started panics); never both.
func TestStartedRacesReturn(t *testing.T) {
	var won, lost int
	n := stress(100000, 2*time.Second, func(int) bool {
		g, _ := taskgroup.New(context.Background())
		panicked := make(chan any, 1)
		v, err := taskgroup.Start(context.Background(), g, func(ctx context.Context, started func(int)) error {
			go func() {
				defer func() { panicked <- recover() }()
				started(1)
			}()
			return errBoom
		})
		r := <-panicked
		waitErr := g.Wait()
		switch {
		case v == 1 && err == nil:
			won++
			if r != nil || waitErr != errBoom {
				t.Errorf("started won: it panicked with %v, Wait() = %v; want no panic, errBoom", r, waitErr)
				return false
			}
		case v == 0 && err == errBoom:
			lost++
			if msg := fmt.Sprint(r); !strings.HasPrefix(msg, "taskgroup: started called after the task returned") || waitErr != nil {
				t.Errorf("return won: started panicked with %q, Wait() = %v; want the documented panic, nil", msg, waitErr)
				return false
			}
		default:
			t.Errorf("Start = %v, %v; want 1, nil or 0, errBoom", v, err)
			return false
		}
		return true
	})
	t.Logf("%d tries: started won %d, return won %d", n, won, lost)
}

// A task that returns nil without calling started because it was
// cancelled reports the cancellation, not ErrNotStarted.
func TestStartCancelledTaskReturnsNil(t *testing.T) {
	t.Run("by the caller", func(t *testing.T) {
		g, _ := taskgroup.New(context.Background())
		cctx, stop := context.WithCancelCause(context.Background())
		stop(errOther)
		_, err := taskgroup.Start(cctx, g, func(ctx context.Context, started func(int)) error {
			<-ctx.Done()
			return nil
		})
		if !cancel.IsCancelled(err) || !errors.Is(err, errOther) {
			t.Errorf("Start = %v, want the caller's cancellation (cause errOther)", err)
		}
		if err := g.Wait(); err != nil {
			t.Errorf("Wait() = %v, want nil", err)
		}
	})
	t.Run("by the group", func(t *testing.T) {
		g, _ := taskgroup.New(context.Background())
		g.Cancel()
		_, err := taskgroup.Start(context.Background(), g, func(ctx context.Context, started func(int)) error {
			<-ctx.Done()
			return nil
		})
		if !cancel.IsCancelled(err) {
			t.Errorf("Start = %v, want the group's cancellation", err)
		}
		if err := g.Wait(); err != nil {
			t.Errorf("Wait() = %v, want nil", err)
		}
	})
}
