package cancel_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tether-go/tether/cancel"
)

func TestShieldedOwnDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		outer, octx := cancel.Open(context.Background(), cancel.WithTimeout(time.Second))
		defer outer.Close(nil)
		s, sctx := cancel.Open(octx, cancel.Shielded(), cancel.WithTimeout(time.Minute))
		start := time.Now()
		if d, ok := sctx.Deadline(); !ok || !d.Equal(start.Add(time.Minute)) {
			t.Errorf("shielded ctx Deadline() = %v, %v; want %v, true (own only)", d, ok, start.Add(time.Minute))
		}
		err := cancel.Sleep(sctx, time.Hour)
		if got := time.Since(start); got != time.Minute {
			t.Errorf("Sleep returned after %v, want 1m (own deadline, not the outer 1s)", got)
		}
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Sleep = %v, want DeadlineExceeded", err)
		}
		if err := s.Close(err); err != nil {
			t.Errorf("Close = %v, want nil", err)
		}
	})
}

func TestSetDeadline(t *testing.T) {
	tests := []struct {
		name     string
		initial  time.Duration // 0: none
		moveTo   time.Duration // from the start; 0: remove
		wantDone time.Duration // when the ctx is done; 0: never (within a day)
	}{
		{name: "later", initial: 10 * time.Second, moveTo: 30 * time.Second, wantDone: 30 * time.Second},
		{name: "earlier", initial: 10 * time.Second, moveTo: 3 * time.Second, wantDone: 3 * time.Second},
		{name: "added", moveTo: 5 * time.Second, wantDone: 5 * time.Second},
		{name: "removed", initial: 10 * time.Second},
		{name: "already passed", initial: 10 * time.Second, moveTo: -time.Second, wantDone: time.Nanosecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				start := time.Now()
				var opts []cancel.Option
				if tt.initial != 0 {
					opts = append(opts, cancel.WithTimeout(tt.initial))
				}
				s, ctx := cancel.Open(context.Background(), opts...)
				defer s.Close(nil)
				// Move it after a moment, as code inside the scope would.
				time.Sleep(time.Nanosecond)
				var target time.Time
				if tt.moveTo != 0 {
					target = start.Add(tt.moveTo)
				}
				s.SetDeadline(target)
				if got := s.Deadline(); !got.Equal(target) {
					t.Errorf("Deadline() = %v, want %v", got, target)
				}
				d, ok := ctx.Deadline()
				if ok != !target.IsZero() || !d.Equal(target) {
					t.Errorf("ctx.Deadline() = %v, %v; want %v, %v", d, ok, target, !target.IsZero())
				}
				select {
				case <-ctx.Done():
				case <-time.After(24 * time.Hour):
				}
				got := time.Since(start)
				if tt.wantDone == 0 {
					if ctx.Err() != nil {
						t.Errorf("ctx done after %v, want not done", got)
					}
					return
				}
				want := tt.wantDone
				if want == time.Nanosecond {
					want = time.Nanosecond // at once, when SetDeadline was called
				}
				if got != want {
					t.Errorf("ctx done after %v, want %v", got, want)
				}
				if ctx.Err() != context.DeadlineExceeded {
					t.Errorf("ctx.Err() = %v, want DeadlineExceeded", ctx.Err())
				}
				if !s.CancelCalled() {
					t.Error("CancelCalled() = false after the deadline, want true")
				}
			})
		})
	}
}

func TestSetDeadlineRepeatedly(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		s, ctx := cancel.Open(context.Background(), cancel.WithTimeout(time.Second))
		defer s.Close(nil)
		// Keep pushing the deadline back, as a watchdog would, each time
		// just before it passes.
		for i := 1; i <= 10; i++ {
			time.Sleep(time.Second - time.Nanosecond)
			if ctx.Err() != nil {
				t.Fatalf("ctx done at %v, before the deadline", time.Since(start))
			}
			s.SetDeadline(time.Now().Add(time.Second))
		}
		<-ctx.Done()
		want := 10*(time.Second-time.Nanosecond) + time.Second
		if got := time.Since(start); got != want {
			t.Errorf("ctx done after %v, want %v", got, want)
		}
		if !cancel.DeadlineHit(s) {
			t.Error("DeadlineHit = false, want true")
		}
	})
}

func TestDeadlineReportsEarliest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		now := time.Now()
		at := func(d time.Duration) time.Time { return now.Add(d) }
		outer, octx := cancel.Open(context.Background(), cancel.WithDeadline(at(5*time.Second)))
		defer outer.Close(nil)
		tests := []struct {
			name   string
			opts   []cancel.Option
			want   time.Time
			wantOK bool
		}{
			{name: "no own deadline", want: at(5 * time.Second), wantOK: true},
			{name: "own later", opts: []cancel.Option{cancel.WithDeadline(at(10 * time.Second))}, want: at(5 * time.Second), wantOK: true},
			{name: "own earlier", opts: []cancel.Option{cancel.WithDeadline(at(3 * time.Second))}, want: at(3 * time.Second), wantOK: true},
			{name: "shielded, own later", opts: []cancel.Option{cancel.Shielded(), cancel.WithDeadline(at(10 * time.Second))}, want: at(10 * time.Second), wantOK: true},
			{name: "shielded, none", opts: []cancel.Option{cancel.Shielded()}},
		}
		for _, tt := range tests {
			s, ctx := cancel.Open(octx, tt.opts...)
			derived, stop := context.WithCancel(ctx)
			for what, c := range map[string]context.Context{"scope ctx": ctx, "derived ctx": derived} {
				if d, ok := c.Deadline(); ok != tt.wantOK || !d.Equal(tt.want) {
					t.Errorf("%s: %s Deadline() = %v, %v; want %v, %v", tt.name, what, d, ok, tt.want, tt.wantOK)
				}
			}
			stop()
			s.Close(nil)
		}
		// Moving the outer deadline later is seen through the inner scope.
		inner, ictx := cancel.Open(octx, cancel.WithDeadline(at(8*time.Second)))
		defer inner.Close(nil)
		outer.SetDeadline(at(20 * time.Second))
		if d, _ := ictx.Deadline(); !d.Equal(at(8 * time.Second)) {
			t.Errorf("after outer moved to 20s: inner Deadline() = %v, want %v", d, at(8*time.Second))
		}
	})
}

func TestExpiredAtOpen(t *testing.T) {
	tests := []struct {
		name string
		opt  func() cancel.Option
	}{
		{name: "zero timeout", opt: func() cancel.Option { return cancel.WithTimeout(0) }},
		{name: "negative timeout", opt: func() cancel.Option { return cancel.WithTimeout(-time.Second) }},
		{name: "deadline now", opt: func() cancel.Option { return cancel.WithDeadline(time.Now()) }},
		{name: "deadline passed", opt: func() cancel.Option { return cancel.WithDeadline(time.Now().Add(-time.Hour)) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s, ctx := cancel.Open(context.Background(), tt.opt())
				if ctx.Err() != context.DeadlineExceeded {
					t.Errorf("ctx.Err() right after Open = %v, want DeadlineExceeded", ctx.Err())
				}
				if !s.CancelCalled() {
					t.Error("CancelCalled() = false, want true")
				}
				if !cancel.DeadlineHit(s) {
					t.Error("the expiry at Open does not count as the deadline hit")
				}
				if err := s.Close(cancel.Checkpoint(ctx)); err != nil {
					t.Errorf("Close = %v, want nil", err)
				}
			})
		})
	}
}

func TestWithTimeoutCountsFromOpen(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		opt := cancel.WithTimeout(10 * time.Second) // made once, used later
		time.Sleep(time.Minute)
		s, ctx := cancel.Open(context.Background(), opt)
		defer s.Close(nil)
		want := time.Now().Add(10 * time.Second)
		if d, ok := ctx.Deadline(); !ok || !d.Equal(want) {
			t.Errorf("Deadline() = %v, %v; want %v, true (10s after Open)", d, ok, want)
		}
		if ctx.Err() != nil {
			t.Errorf("ctx.Err() = %v, want nil", ctx.Err())
		}
	})
}

func TestErrAfterDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		outer, octx := cancel.Open(context.Background(), cancel.WithTimeout(time.Second))
		inner, ictx := cancel.Open(octx)
		derived, stop := context.WithCancel(ictx)
		defer stop()
		<-derived.Done()
		if octx.Err() != context.DeadlineExceeded {
			t.Errorf("scope ctx Err() = %v, want DeadlineExceeded", octx.Err())
		}
		if ictx.Err() != context.DeadlineExceeded {
			t.Errorf("nested scope ctx Err() = %v, want DeadlineExceeded", ictx.Err())
		}
		if err := cancel.Checkpoint(derived); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Checkpoint(derived) = %v, want errors.Is DeadlineExceeded", err)
		}
		err := cancel.Checkpoint(ictx)
		if got := inner.Close(err); got != err {
			t.Errorf("inner.Close = %v, want err passed through", got)
		}
		if got := outer.Close(err); got != nil {
			t.Errorf("outer.Close = %v, want nil", got)
		}
	})
}

func TestExplicitCancelBeforeDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const d = 10 * time.Second
		s, ctx := cancel.Open(context.Background(), cancel.WithTimeout(d))
		time.Sleep(d - time.Nanosecond)
		s.Cancel()
		time.Sleep(time.Second) // well past the deadline
		if cancel.DeadlineHit(s) {
			t.Error("deadline counted as hit after an explicit Cancel 1ns before it")
		}
		if ctx.Err() != context.Canceled {
			t.Errorf("ctx.Err() = %v, want Canceled (not DeadlineExceeded)", ctx.Err())
		}
		if err := s.Close(cancel.Checkpoint(ctx)); err != nil {
			t.Errorf("Close = %v, want nil", err)
		}
	})
}
