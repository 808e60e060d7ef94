package cancel_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tether-go/tether/cancel"
)

func TestRun(t *testing.T) {
	tests := []struct {
		name string
		opts []cancel.Option
		fn   func(ctx context.Context) error
		want error // nil: Run returns nil
	}{
		{name: "nil", fn: func(context.Context) error { return nil }},
		{name: "error", fn: func(context.Context) error { return errBoom }, want: errBoom},
		{name: "own deadline caught", opts: []cancel.Option{cancel.WithTimeout(time.Second)},
			fn: func(ctx context.Context) error { return cancel.Sleep(ctx, time.Hour) }},
		{name: "error after own deadline", opts: []cancel.Option{cancel.WithTimeout(time.Second)},
			fn: func(ctx context.Context) error { _ = cancel.Sleep(ctx, time.Hour); return errBoom }, want: errBoom},
		{name: "zero timeout", opts: []cancel.Option{cancel.WithTimeout(0)}, fn: cancel.Checkpoint},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				if got := cancel.Run(context.Background(), tt.fn, tt.opts...); got != tt.want {
					t.Errorf("Run = %v, want %v", got, tt.want)
				}
			})
		})
	}
}

func TestRunPassesOuterCancellation(t *testing.T) {
	outer, octx := cancel.Open(context.Background())
	outer.Cancel()
	err := cancel.Run(octx, cancel.Checkpoint, cancel.WithTimeout(time.Hour))
	if !cancel.IsCancelled(err) {
		t.Fatalf("Run = %v, want the outer cancellation", err)
	}
	if got := outer.Close(err); got != nil {
		t.Errorf("outer.Close = %v, want nil (outer catches its own)", got)
	}
}

func TestRunReleasesContextOnPanic(t *testing.T) {
	var inner context.Context
	func() {
		defer func() {
			if r := recover(); r != "oops" {
				t.Errorf("recovered %v, want oops", r)
			}
		}()
		_ = cancel.Run(context.Background(), func(ctx context.Context) error {
			inner = ctx
			panic("oops")
		})
	}()
	if inner.Err() == nil {
		t.Error("Run's ctx not released after fn panicked")
	}
}

func TestMoveOnAfter(t *testing.T) {
	tests := []struct {
		name         string
		d            time.Duration
		fn           func(ctx context.Context) error
		wantTimedOut bool
		wantErr      error
		wantElapsed  time.Duration
	}{
		{name: "finishes in time", d: time.Minute, fn: func(ctx context.Context) error { return cancel.Sleep(ctx, time.Second) },
			wantElapsed: time.Second},
		{name: "deadline passes", d: time.Second, fn: func(ctx context.Context) error { return cancel.Sleep(ctx, time.Hour) },
			wantTimedOut: true, wantElapsed: time.Second},
		{name: "error after deadline", d: time.Second, fn: func(ctx context.Context) error {
			<-ctx.Done()
			return errBoom
		}, wantTimedOut: true, wantErr: errBoom, wantElapsed: time.Second},
		{name: "error in time", d: time.Minute, fn: func(ctx context.Context) error { return errBoom },
			wantErr: errBoom},
		{name: "zero", d: 0, fn: func(ctx context.Context) error { return cancel.Sleep(ctx, time.Hour) },
			wantTimedOut: true},
		{name: "negative", d: -time.Second, fn: cancel.Checkpoint, wantTimedOut: true},
		{name: "deadline ignored", d: time.Second, fn: func(ctx context.Context) error {
			time.Sleep(2 * time.Second) // does not look at ctx
			return nil
		}, wantTimedOut: true, wantElapsed: 2 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				start := time.Now()
				timedOut, err := cancel.MoveOnAfter(context.Background(), tt.d, tt.fn)
				if timedOut != tt.wantTimedOut || err != tt.wantErr {
					t.Errorf("MoveOnAfter = %v, %v; want %v, %v", timedOut, err, tt.wantTimedOut, tt.wantErr)
				}
				if got := time.Since(start); got != tt.wantElapsed {
					t.Errorf("MoveOnAfter took %v, want %v", got, tt.wantElapsed)
				}
			})
		})
	}
}

func TestMoveOnAfterOuterCancellation(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		outer, octx := cancel.Open(context.Background(), cancel.WithTimeout(time.Second))
		timedOut, err := cancel.MoveOnAfter(octx, time.Minute, func(ctx context.Context) error {
			return cancel.Sleep(ctx, time.Hour)
		})
		if timedOut {
			t.Error("timedOut = true, want false: the outer deadline passed, not this one")
		}
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("err = %v, want the outer scope's DeadlineExceeded", err)
		}
		if got := outer.Close(err); got != nil {
			t.Errorf("outer.Close = %v, want nil", got)
		}
	})
}

func TestFailAfter(t *testing.T) {
	tests := []struct {
		name        string
		d           time.Duration
		fn          func(ctx context.Context) error
		wantTimeout bool
		wantErr     error // when not a timeout
	}{
		{name: "finishes in time", d: time.Minute, fn: func(ctx context.Context) error { return cancel.Sleep(ctx, time.Second) }},
		{name: "deadline passes", d: time.Second, fn: func(ctx context.Context) error { return cancel.Sleep(ctx, time.Hour) },
			wantTimeout: true},
		{name: "wrapped cancellation", d: time.Second, fn: func(ctx context.Context) error {
			return fmt.Errorf("read: %w", cancel.Sleep(ctx, time.Hour))
		}, wantTimeout: true},
		{name: "zero", d: 0, fn: cancel.Checkpoint, wantTimeout: true},
		{name: "negative", d: -time.Hour, fn: cancel.Checkpoint, wantTimeout: true},
		{name: "error after deadline", d: time.Second, fn: func(ctx context.Context) error {
			<-ctx.Done()
			return errBoom
		}, wantErr: errBoom},
		{name: "deadline ignored", d: time.Second, fn: func(ctx context.Context) error {
			time.Sleep(2 * time.Second)
			return nil
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				err := cancel.FailAfter(context.Background(), tt.d, tt.fn)
				if !tt.wantTimeout {
					if err != tt.wantErr {
						t.Errorf("FailAfter = %v, want %v", err, tt.wantErr)
					}
					return
				}
				if !errors.Is(err, cancel.ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) || !cancel.IsCancelled(err) {
					t.Errorf("FailAfter = %v, want ErrTimeout (and DeadlineExceeded)", err)
				}
			})
		})
	}
}

// An outer cancellation 1ns before the deadline, with fn still running when
// the deadline passes, must come back as itself: never as a timeout.
func TestFailAfterOuterCancelJustBeforeDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const d = 5 * time.Second
		outer, octx := cancel.Open(context.Background())
		time.AfterFunc(d-time.Nanosecond, outer.Cancel)
		err := cancel.FailAfter(octx, d, func(ctx context.Context) error {
			<-ctx.Done()
			time.Sleep(time.Second) // the deadline passes meanwhile
			return cancel.Checkpoint(ctx)
		})
		if errors.Is(err, cancel.ErrTimeout) {
			t.Fatalf("FailAfter = %v, want the outer cancellation, not a timeout", err)
		}
		if !errors.Is(err, context.Canceled) {
			t.Errorf("FailAfter = %v, want context.Canceled", err)
		}
		if got := outer.Close(err); got != nil {
			t.Errorf("outer.Close = %v, want nil (outer catches it)", got)
		}
	})
}

// AnyIO test_nested_fail_after: an enclosing scope cancelled before the
// inner fail_after's deadline catches the cancellation; no timeout.
func TestFailAfterInsideCancelledScope(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		outer, octx := cancel.Open(context.Background())
		middle, mctx := cancel.Open(octx)
		time.AfterFunc(time.Second, outer.Cancel)
		err := cancel.FailAfter(mctx, 2*time.Second, func(ctx context.Context) error {
			return cancel.Sleep(ctx, time.Hour)
		})
		err = middle.Close(err)
		if errors.Is(err, cancel.ErrTimeout) || !cancel.IsCancelled(err) {
			t.Fatalf("after middle.Close: %v, want the outer cancellation", err)
		}
		if got := outer.Close(err); got != nil {
			t.Errorf("outer.Close = %v, want nil", got)
		}
		if !outer.CancelCalled() || middle.CancelCalled() {
			t.Errorf("CancelCalled: outer %v, middle %v; want true, false", outer.CancelCalled(), middle.CancelCalled())
		}
	})
}

// AnyIO test_nested_shield: a timeout inside a shielded scope inside a
// cancelled scope is not caught by either: it is the timeout's error.
func TestFailAfterTimeoutPassesThroughScopes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		outer, octx := cancel.Open(context.Background())
		shield, sctx := cancel.Open(octx, cancel.Shielded())
		outer.Cancel()
		err := cancel.FailAfter(sctx, time.Second, func(ctx context.Context) error {
			return cancel.Sleep(ctx, time.Hour)
		})
		err = outer.Close(shield.Close(err))
		if !errors.Is(err, cancel.ErrTimeout) {
			t.Errorf("through shielded and cancelled scopes: %v, want ErrTimeout", err)
		}
	})
}

func TestSleep(t *testing.T) {
	tests := []struct {
		name        string
		d           time.Duration
		cancelAfter time.Duration // 0: never
		wantErr     bool
		wantElapsed time.Duration
	}{
		{name: "sleeps", d: time.Minute, wantElapsed: time.Minute},
		{name: "cancelled midway", d: time.Minute, cancelAfter: time.Second, wantErr: true, wantElapsed: time.Second},
		{name: "zero", d: 0},
		{name: "negative", d: -time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s, ctx := cancel.Open(context.Background())
				if tt.cancelAfter > 0 {
					time.AfterFunc(tt.cancelAfter, s.Cancel)
				}
				start := time.Now()
				err := cancel.Sleep(ctx, tt.d)
				if (err != nil) != tt.wantErr || (err != nil && !cancel.IsCancelled(err)) {
					t.Errorf("Sleep = %v, want error: %v", err, tt.wantErr)
				}
				if got := time.Since(start); got != tt.wantElapsed {
					t.Errorf("Sleep took %v, want %v", got, tt.wantElapsed)
				}
				s.Close(nil)
				if err := cancel.Sleep(ctx, 0); !cancel.IsCancelled(err) {
					t.Errorf("Sleep(0) on a closed scope's ctx = %v, want a cancellation", err)
				}
			})
		})
	}
}

func TestCheckpoint(t *testing.T) {
	plain, stopPlain := context.WithCancel(context.Background())
	stopPlain()
	caused, stopCaused := context.WithCancelCause(context.Background())
	stopCaused(errBoom)
	expired, stopExpired := context.WithTimeout(context.Background(), -time.Second)
	defer stopExpired()

	tests := []struct {
		name      string
		ctx       context.Context
		wantNil   bool
		wantSame  error // Checkpoint returns exactly this
		wantCause error // or a *cancel.Error with this cause
		wantErr   error
	}{
		{name: "live", ctx: context.Background(), wantNil: true},
		{name: "cancelled", ctx: plain, wantSame: context.Canceled},
		{name: "deadline", ctx: expired, wantSame: context.DeadlineExceeded},
		{name: "with cause", ctx: caused, wantCause: errBoom, wantErr: context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := cancel.Checkpoint(tt.ctx)
			switch {
			case tt.wantNil:
				if err != nil {
					t.Errorf("Checkpoint = %v, want nil", err)
				}
			case tt.wantSame != nil:
				if err != tt.wantSame {
					t.Errorf("Checkpoint = %#v, want %v itself", err, tt.wantSame)
				}
			default:
				var ce *cancel.Error
				if !errors.As(err, &ce) || ce.Err != tt.wantErr || ce.Cause != tt.wantCause {
					t.Fatalf("Checkpoint = %#v, want &cancel.Error{%v, %v}", err, tt.wantErr, tt.wantCause)
				}
				if want := tt.wantErr.Error() + ": " + tt.wantCause.Error(); err.Error() != want {
					t.Errorf("Error() = %q, want %q", err.Error(), want)
				}
				if !errors.Is(err, tt.wantErr) || !errors.Is(err, tt.wantCause) || !cancel.IsCancelled(err) {
					t.Errorf("Checkpoint = %v: errors.Is does not reach both Err and Cause", err)
				}
			}
		})
	}
}

func TestIsCancelled(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{name: "nil", err: nil},
		{name: "other", err: errBoom},
		{name: "Canceled", err: context.Canceled, want: true},
		{name: "DeadlineExceeded", err: context.DeadlineExceeded, want: true},
		{name: "wrapped", err: fmt.Errorf("op: %w", context.Canceled), want: true},
		{name: "joined", err: errors.Join(errBoom, context.DeadlineExceeded), want: true},
		{name: "ErrTimeout", err: cancel.ErrTimeout, want: true},
		{name: "*Error", err: &cancel.Error{Err: context.Canceled, Cause: errBoom}, want: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := cancel.IsCancelled(tt.err); got != tt.want {
				t.Errorf("IsCancelled(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}

func TestErrTimeout(t *testing.T) {
	if !errors.Is(cancel.ErrTimeout, context.DeadlineExceeded) {
		t.Error("errors.Is(ErrTimeout, context.DeadlineExceeded) = false, want true")
	}
	if errors.Is(cancel.ErrTimeout, context.Canceled) {
		t.Error("errors.Is(ErrTimeout, context.Canceled) = true, want false")
	}
	if got, want := cancel.ErrTimeout.Error(), "cancel: timed out"; got != want {
		t.Errorf("ErrTimeout.Error() = %q, want %q", got, want)
	}
}

// AnyIO test_nested_move_on_after: the outer deadline, the earlier, ends
// both; only the outer one timed out, and only it catches.
func TestNestedMoveOnAfter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var innerTimedOut, innerCompleted, sleepCompleted bool
		outerTimedOut, err := cancel.MoveOnAfter(context.Background(), 100*time.Millisecond, func(ctx context.Context) error {
			outerDeadline, _ := ctx.Deadline()
			var err error
			innerTimedOut, err = cancel.MoveOnAfter(ctx, time.Second, func(ctx context.Context) error {
				if d, _ := ctx.Deadline(); !d.Equal(outerDeadline) {
					t.Errorf("inner effective deadline %v, want the outer's %v", d, outerDeadline)
				}
				if err := cancel.Sleep(ctx, 2*time.Second); err != nil {
					return err
				}
				sleepCompleted = true
				return nil
			})
			if err != nil {
				return err
			}
			innerCompleted = true
			return nil
		})
		if !outerTimedOut || err != nil {
			t.Errorf("outer MoveOnAfter = %v, %v; want true, nil", outerTimedOut, err)
		}
		if innerTimedOut || innerCompleted || sleepCompleted {
			t.Errorf("inner timed out %v, completed %v, sleep completed %v; want all false", innerTimedOut, innerCompleted, sleepCompleted)
		}
	})
}
