package cancel_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tether-go/tether/cancel"
)

var errBoom = errors.New("boom")

// sliceError is an error type whose values cannot be compared with ==.
type sliceError []string

func (e sliceError) Error() string { return fmt.Sprint([]string(e)) }

func TestCloseCatchesOnlyItsOwnCancellation(t *testing.T) {
	tests := []struct {
		name       string
		cancel     bool
		work       func(ctx context.Context) error
		wantNil    bool // Close returns nil; otherwise it returns work's error
		wantCaught bool
	}{
		{name: "cancelled, ctx.Err", cancel: true, work: func(ctx context.Context) error { return ctx.Err() }, wantNil: true, wantCaught: true},
		{name: "cancelled, Checkpoint", cancel: true, work: cancel.Checkpoint, wantNil: true, wantCaught: true},
		{name: "cancelled, wrapped", cancel: true, work: func(ctx context.Context) error {
			return fmt.Errorf("read: %w", cancel.Checkpoint(ctx))
		}, wantNil: true, wantCaught: true},
		{name: "cancelled, Sleep", cancel: true, work: func(ctx context.Context) error { return cancel.Sleep(ctx, time.Hour) }, wantNil: true, wantCaught: true},
		{name: "cancelled, other error", cancel: true, work: func(context.Context) error { return errBoom }},
		{name: "cancelled, nil", cancel: true, work: func(context.Context) error { return nil }, wantNil: true},
		{name: "not cancelled, foreign Canceled", work: func(context.Context) error { return context.Canceled }},
		{name: "not cancelled, other error", work: func(context.Context) error { return errBoom }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, ctx := cancel.Open(context.Background())
			if tt.cancel {
				s.Cancel()
			}
			werr := tt.work(ctx)
			err := s.Close(werr)
			if tt.wantNil && err != nil {
				t.Errorf("Close(%v) = %v, want nil", werr, err)
			}
			if !tt.wantNil && err != werr {
				t.Errorf("Close(%v) = %v, want the same error back", werr, err)
			}
			if got := s.CancelledCaught(); got != tt.wantCaught {
				t.Errorf("CancelledCaught() = %v, want %v", got, tt.wantCaught)
			}
			if got := s.CancelCalled(); got != tt.cancel {
				t.Errorf("CancelCalled() = %v, want %v", got, tt.cancel)
			}
		})
	}
}

// Close takes apart what errors.Join made (a task group's errors), as Trio
// splits an exception group: its own cancellations go, the rest stays.
func TestCloseSplitsJoinedErrors(t *testing.T) {
	errOther := errors.New("other")
	tests := []struct {
		name       string
		err        func(own, foreign error) error
		want       func(err error) error // what Close must return, given err
		wantCaught bool
	}{
		{name: "failure and own cancellation", err: func(own, _ error) error { return errors.Join(errBoom, own) },
			want: func(error) error { return errBoom }, wantCaught: true},
		{name: "own cancellations only", err: func(own, _ error) error { return errors.Join(own, context.Canceled) },
			want: func(error) error { return nil }, wantCaught: true},
		{name: "nested joins", err: func(own, _ error) error {
			return errors.Join(errors.Join(own, errBoom), errors.Join(own, errOther))
		}, want: nil, wantCaught: true},
		{name: "failures only", err: func(_, _ error) error { return errors.Join(errBoom, errOther) },
			want: func(err error) error { return err }},
		{name: "foreign cancellation", err: func(_, foreign error) error { return errors.Join(foreign, errBoom) },
			want: func(err error) error { return err }},
		{name: "other multi-error with a failure", err: func(own, _ error) error { return fmt.Errorf("%w; %w", errBoom, own) },
			want: func(err error) error { return err }},
		{name: "other multi-error, cancellations only", err: func(own, _ error) error { return fmt.Errorf("%w; %w", own, own) },
			want: func(error) error { return nil }, wantCaught: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			other, octx := cancel.Open(context.Background())
			other.Cancel()
			defer other.Close(nil)
			s, ctx := cancel.Open(context.Background())
			s.Cancel()
			err := tt.err(cancel.Checkpoint(ctx), cancel.Checkpoint(octx))
			got := s.Close(err)
			if tt.want == nil { // nested joins: both failures, no cancellation
				if !errors.Is(got, errBoom) || !errors.Is(got, errOther) || cancel.IsCancelled(got) {
					t.Errorf("Close(%v) = %v, want errBoom and other without the cancellations", err, got)
				}
			} else if want := tt.want(err); got != want {
				t.Errorf("Close(%v) = %v, want %v", err, got, want)
			}
			if s.CancelledCaught() != tt.wantCaught {
				t.Errorf("CancelledCaught() = %v, want %v", s.CancelledCaught(), tt.wantCaught)
			}
		})
	}
}

func TestNestedScopesCascade(t *testing.T) {
	outer, octx := cancel.Open(context.Background())
	inner, ictx := cancel.Open(octx)
	innermost, iictx := cancel.Open(ictx)

	outer.Cancel()
	for name, ctx := range map[string]context.Context{"inner": ictx, "innermost": iictx} {
		select {
		case <-ctx.Done():
		default:
			t.Fatalf("%s ctx not done after the outer scope was cancelled", name)
		}
	}
	err := cancel.Checkpoint(iictx)
	if err == nil {
		t.Fatal("Checkpoint(innermost ctx) = nil, want a cancellation error")
	}
	if got := innermost.Close(err); got != err {
		t.Errorf("innermost.Close(err) = %v, want err passed through", got)
	}
	if got := inner.Close(err); got != err {
		t.Errorf("inner.Close(err) = %v, want err passed through", got)
	}
	if got := outer.Close(err); got != nil {
		t.Errorf("outer.Close(err) = %v, want nil (caught)", got)
	}
	for name, s := range map[string]*cancel.Scope{"inner": inner, "innermost": innermost} {
		if s.CancelCalled() || s.CancelledCaught() {
			t.Errorf("%s: CancelCalled=%v CancelledCaught=%v, want false, false", name, s.CancelCalled(), s.CancelledCaught())
		}
	}
	if !outer.CancelCalled() || !outer.CancelledCaught() {
		t.Errorf("outer: CancelCalled=%v CancelledCaught=%v, want true, true", outer.CancelCalled(), outer.CancelledCaught())
	}
}

func TestInnerCancelledAfterOuterDoesNotCatch(t *testing.T) {
	outer, octx := cancel.Open(context.Background())
	inner, ictx := cancel.Open(octx)
	outer.Cancel()
	inner.Cancel() // too late: the outer cancellation reached ictx first
	err := cancel.Checkpoint(ictx)
	if got := inner.Close(err); got != err {
		t.Errorf("inner.Close(err) = %v, want err passed through", got)
	}
	if inner.CancelledCaught() {
		t.Error("inner.CancelledCaught() = true, want false")
	}
	if !inner.CancelCalled() {
		t.Error("inner.CancelCalled() = false, want true (Cancel was called)")
	}
	if got := outer.Close(err); got != nil {
		t.Errorf("outer.Close(err) = %v, want nil", got)
	}
}

func TestInnerCancelDoesNotReachOuter(t *testing.T) {
	outer, octx := cancel.Open(context.Background())
	defer outer.Close(nil)
	inner, ictx := cancel.Open(octx)
	inner.Cancel()
	if err := inner.Close(cancel.Checkpoint(ictx)); err != nil {
		t.Errorf("inner.Close = %v, want nil", err)
	}
	if err := cancel.Checkpoint(octx); err != nil {
		t.Errorf("Checkpoint(outer ctx) = %v, want nil", err)
	}
	if outer.CancelCalled() {
		t.Error("outer.CancelCalled() = true, want false")
	}
}

type ctxKey struct{}

func TestShielded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		base := context.WithValue(context.Background(), ctxKey{}, "v")
		outer, octx := cancel.Open(base, cancel.WithTimeout(time.Second))
		defer outer.Close(nil)
		s, sctx := cancel.Open(octx, cancel.Shielded())
		defer s.Close(nil)

		if !s.Shielded() || outer.Shielded() {
			t.Errorf("Shielded() = %v (shielded scope), %v (outer), want true, false", s.Shielded(), outer.Shielded())
		}
		if got := sctx.Value(ctxKey{}); got != "v" {
			t.Errorf("shielded ctx Value = %v, want %q", got, "v")
		}
		if d, ok := sctx.Deadline(); ok {
			t.Errorf("shielded ctx Deadline() = %v, true; want no deadline (outer's hidden)", d)
		}
		outer.Cancel()
		start := time.Now()
		if err := cancel.Sleep(sctx, time.Hour); err != nil {
			t.Errorf("Sleep in shielded scope after outer Cancel = %v, want nil", err)
		}
		if got := time.Since(start); got != time.Hour {
			t.Errorf("Sleep took %v, want 1h (past the outer deadline too)", got)
		}
		if sctx.Err() != nil {
			t.Errorf("shielded ctx Err() = %v, want nil", sctx.Err())
		}
		s.Cancel()
		if err := cancel.Checkpoint(sctx); !cancel.IsCancelled(err) {
			t.Errorf("Checkpoint after own Cancel = %v, want a cancellation", err)
		}
		if err := s.Close(cancel.Checkpoint(sctx)); err != nil {
			t.Errorf("Close = %v, want nil (own cancellation caught)", err)
		}
	})
}

func TestLevelTriggered(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, ctx := cancel.Open(context.Background())
		s.Cancel()
		start := time.Now()
		for i := range 3 {
			if err := cancel.Sleep(ctx, time.Hour); !cancel.IsCancelled(err) {
				t.Errorf("Sleep #%d = %v, want a cancellation", i, err)
			}
			if err := cancel.Checkpoint(ctx); !cancel.IsCancelled(err) {
				t.Errorf("Checkpoint #%d = %v, want a cancellation", i, err)
			}
			select {
			case <-ctx.Done():
			case <-time.After(time.Hour):
				t.Errorf("select #%d: Done not ready", i)
			}
		}
		if got := time.Since(start); got != 0 {
			t.Errorf("blocking calls in a cancelled scope took %v, want 0", got)
		}
		if err := s.Close(cancel.Checkpoint(ctx)); err != nil {
			t.Errorf("Close = %v, want nil", err)
		}
	})
}

// Trio: cancel_called is whether the scope was cancelled; cancelled_caught
// whether a cancellation error it caused came out of it.
func TestCancelCalledAndCaught(t *testing.T) {
	tests := []struct {
		name                   string
		cancel                 bool
		block                  bool
		wantCalled, wantCaught bool
	}{
		{name: "never cancelled", block: true},
		{name: "cancelled, never blocked", cancel: true, wantCalled: true},
		{name: "cancelled, blocked", cancel: true, block: true, wantCalled: true, wantCaught: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s, ctx := cancel.Open(context.Background())
				if tt.cancel {
					s.Cancel()
				}
				var err error
				if tt.block {
					err = cancel.Sleep(ctx, time.Second)
				}
				if err := s.Close(err); err != nil {
					t.Errorf("Close = %v, want nil", err)
				}
				if s.CancelCalled() != tt.wantCalled || s.CancelledCaught() != tt.wantCaught {
					t.Errorf("CancelCalled, CancelledCaught = %v, %v; want %v, %v",
						s.CancelCalled(), s.CancelledCaught(), tt.wantCalled, tt.wantCaught)
				}
			})
		})
	}
}

func TestCancelBeforeBlocking(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, ctx := cancel.Open(context.Background())
		s.Cancel()
		start := time.Now()
		err := cancel.Sleep(ctx, time.Minute)
		if !cancel.IsCancelled(err) {
			t.Errorf("first Sleep = %v, want a cancellation", err)
		}
		if got := time.Since(start); got != 0 {
			t.Errorf("first Sleep blocked %v, want 0", got)
		}
		if err := s.Close(err); err != nil {
			t.Errorf("Close = %v, want nil", err)
		}
		if !s.CancelledCaught() {
			t.Error("CancelledCaught() = false, want true")
		}
	})
}

func TestCause(t *testing.T) {
	t.Run("CancelWithCause", func(t *testing.T) {
		outer, octx := cancel.Open(context.Background())
		inner, ictx := cancel.Open(octx)
		outer.CancelWithCause(errBoom)
		for name, ctx := range map[string]context.Context{"outer": octx, "inner": ictx} {
			if got := context.Cause(ctx); got != errBoom {
				t.Errorf("context.Cause(%s ctx) = %v, want errBoom", name, got)
			}
			err := cancel.Checkpoint(ctx)
			if !errors.Is(err, errBoom) || !errors.Is(err, context.Canceled) || !cancel.IsCancelled(err) {
				t.Errorf("Checkpoint(%s ctx) = %v: want errors.Is errBoom and context.Canceled", name, err)
			}
			var ce *cancel.Error
			if !errors.As(err, &ce) || ce.Err != context.Canceled || ce.Cause != errBoom {
				t.Errorf("Checkpoint(%s ctx) = %#v, want *cancel.Error{Canceled, errBoom}", name, err)
			}
		}
		err := cancel.Checkpoint(ictx)
		if got := inner.Close(err); got != err {
			t.Errorf("inner.Close = %v, want err passed through", got)
		}
		if got := outer.Close(err); got != nil {
			t.Errorf("outer.Close = %v, want nil", got)
		}
	})
	t.Run("cause of a type that is not comparable", func(t *testing.T) {
		s, ctx := cancel.Open(context.Background())
		cause := sliceError{"a", "b"}
		s.CancelWithCause(cause)
		err := cancel.Checkpoint(ctx)
		if !errors.As(err, new(sliceError)) {
			t.Errorf("Checkpoint = %v, want the cause reachable with errors.As", err)
		}
		if got := s.Close(err); got != nil {
			t.Errorf("Close = %v, want nil (its own cancellation)", got)
		}
	})
	t.Run("ErrTimeout as the cause", func(t *testing.T) {
		// As in a task group whose first failure was a FailAfter timeout:
		// the siblings' cancellations are the group's, not timeouts.
		s, ctx := cancel.Open(context.Background())
		s.CancelWithCause(cancel.ErrTimeout)
		err := cancel.Checkpoint(ctx)
		if got := s.Close(err); got != nil {
			t.Errorf("Close(%v) = %v, want nil", err, got)
		}
	})
	t.Run("Cancel has a cause of its own", func(t *testing.T) {
		a, actx := cancel.Open(context.Background())
		b, bctx := cancel.Open(context.Background())
		a.Cancel()
		b.Cancel()
		ca, cb := context.Cause(actx), context.Cause(bctx)
		if ca == cb {
			t.Errorf("two scopes' causes are equal (%v), want one per scope", ca)
		}
		if !errors.Is(ca, context.Canceled) {
			t.Errorf("cause %v: errors.Is(cause, context.Canceled) = false, want true", ca)
		}
		if got := b.Close(cancel.Checkpoint(actx)); got == nil {
			t.Error("scope b caught scope a's cancellation")
		}
		a.Close(nil)
	})
	t.Run("deadline cause", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			s, ctx := cancel.Open(context.Background(), cancel.WithTimeout(time.Second))
			err := cancel.Sleep(ctx, time.Hour)
			if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(context.Cause(ctx), context.DeadlineExceeded) {
				t.Errorf("Sleep = %v, cause %v: want both DeadlineExceeded", err, context.Cause(ctx))
			}
			if err := s.Close(err); err != nil {
				t.Errorf("Close = %v, want nil", err)
			}
		})
	})
	t.Run("after Close", func(t *testing.T) {
		s, ctx := cancel.Open(context.Background())
		s.Close(nil)
		if ctx.Err() != context.Canceled {
			t.Errorf("ctx.Err() after Close = %v, want Canceled", ctx.Err())
		}
		if cause := context.Cause(ctx); !cancel.IsCancelled(cause) {
			t.Errorf("context.Cause after Close = %v, want a cancellation error", cause)
		}
		s.Cancel() // no effect, no panic
		if s.CancelCalled() {
			t.Error("CancelCalled() = true after Cancel on a closed scope, want false")
		}
	})
}

func TestCloseIsIdempotent(t *testing.T) {
	s, ctx := cancel.Open(context.Background())
	s.Cancel()
	err := cancel.Checkpoint(ctx)
	for i := range 3 {
		if got := s.Close(err); got != nil {
			t.Errorf("Close #%d = %v, want nil", i, got)
		}
		if got := s.Close(errBoom); got != errBoom {
			t.Errorf("Close(errBoom) #%d = %v, want errBoom", i, got)
		}
	}
}

// context.propagateCancel starts a goroutine per child for a parent that
// it does not recognise as a cancel context; a scope's context must not be
// one.
func TestDerivedContextsCostNoGoroutine(t *testing.T) {
	tests := []struct {
		name string
		open func(ctx context.Context) (context.Context, func())
	}{
		{name: "scope", open: func(ctx context.Context) (context.Context, func()) {
			s, sctx := cancel.Open(ctx)
			return sctx, func() { s.Close(nil) }
		}},
		{name: "shielded", open: func(ctx context.Context) (context.Context, func()) {
			s, sctx := cancel.Open(ctx, cancel.Shielded(), cancel.WithTimeout(time.Hour))
			return sctx, func() { s.Close(nil) }
		}},
		{name: "nested", open: func(ctx context.Context) (context.Context, func()) {
			outer, octx := cancel.Open(ctx, cancel.WithTimeout(time.Hour))
			s, sctx := cancel.Open(octx)
			return sctx, func() { s.Close(nil); outer.Close(nil) }
		}},
	}
	parent, stopParent := context.WithCancel(context.Background())
	defer stopParent()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, closeScope := tt.open(parent)
			defer closeScope()
			before := runtime.NumGoroutine()
			var stops []context.CancelFunc
			for range 100 {
				c, stop := context.WithCancel(ctx)
				stops = append(stops, stop)
				_ = c
			}
			after := runtime.NumGoroutine()
			for _, stop := range stops {
				stop()
			}
			// A few goroutines of earlier tests may come or go meanwhile;
			// one per derived context would be 100.
			if grew := after - before; grew > 5 {
				t.Errorf("deriving 100 contexts started %d goroutines, want 0", grew)
			}
		})
	}
}
