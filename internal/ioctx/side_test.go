package ioctx_test

import (
	"context"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tether-go/tether/cancel"
	"github.com/tether-go/tether/internal/ioctx"
)

// deadlines is a Side's owner that records the deadlines the Side sets.
type deadlines struct {
	closed atomic.Bool
	mu     sync.Mutex
	set    []time.Time
}

func (d *deadlines) Closed() bool { return d.closed.Load() }

func (d *deadlines) SetReadDeadline(t time.Time) error {
	d.mu.Lock()
	d.set = append(d.set, t)
	d.mu.Unlock()
	return nil
}

func (d *deadlines) SetWriteDeadline(t time.Time) error {
	panic("SetWriteDeadline on a Side of reads")
}

func (d *deadlines) get() []time.Time {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]time.Time(nil), d.set...)
}

func newSide() (*ioctx.Side, *atomic.Bool, *deadlines) {
	d := &deadlines{}
	s := &ioctx.Side{}
	s.Init(d, false)
	return s, &d.closed, d
}

func TestSideAcquire(t *testing.T) {
	s, closed, _ := newSide()
	if !s.Acquire() {
		t.Fatal("first Acquire = false, want true")
	}
	if s.Acquire() {
		t.Fatal("Acquire while held = true, want false")
	}
	if s.Closed() {
		t.Fatal("Closed() = true before close")
	}
	s.Release()
	closed.Store(true)
	if s.Acquire() {
		t.Fatal("Acquire after close = true, want false")
	}
	if !s.Closed() {
		t.Fatal("Closed() = false after close, want true")
	}
}

// TestSideCancelledCall: a done ctx sets the past deadline, Finish waits
// for it and clears it, and reports the cancellation.
func TestSideCancelledCall(t *testing.T) {
	s, _, d := newSide()
	ctx, cancelFn := context.WithCancel(context.Background())
	s.Acquire()
	s.Watch(ctx)
	cancelFn()
	// Finish must wait for the abort, however late it runs, and clear
	// the deadline after it: never before.
	if !s.Finish(ctx, os.ErrDeadlineExceeded) {
		t.Fatal("Finish = false, want true: the call was cancelled")
	}
	s.Release()
	got := d.get()
	if len(got) != 2 || got[0].IsZero() || !got[1].IsZero() {
		t.Fatalf("deadlines set = %v, want a past one, then the zero one", got)
	}
}

// TestSideNoCost: a ctx that is never done sets no deadline, and a ctx
// reused across calls is registered once.
func TestSideNoCost(t *testing.T) {
	s, _, d := newSide()
	ctx, cancelFn := context.WithCancel(context.Background())
	defer cancelFn()
	call := func(ctx context.Context) {
		s.Acquire()
		s.Watch(ctx)
		if s.Finish(ctx, nil) {
			t.Error("Finish = true for a ctx that is not done")
		}
		s.Release()
	}
	call(ctx) // registers
	if allocs := testing.AllocsPerRun(100, func() { call(ctx) }); allocs != 0 {
		t.Errorf("calls with a reused ctx allocate %v times, want 0", allocs)
	}
	if allocs := testing.AllocsPerRun(100, func() { call(context.Background()) }); allocs != 0 {
		t.Errorf("calls with context.Background allocate %v times, want 0", allocs)
	}
	if got := d.get(); len(got) != 0 {
		t.Errorf("deadlines set = %v, want none", got)
	}
}

// TestSideErrorNotTimeout: a call that failed on its own while ctx was
// cancelled is not reported as cancelled.
func TestSideErrorNotTimeout(t *testing.T) {
	s, _, _ := newSide()
	ctx, cancelFn := context.WithCancel(context.Background())
	s.Acquire()
	s.Watch(ctx)
	cancelFn()
	if s.Finish(ctx, os.ErrClosed) {
		t.Error("Finish = true for a non-timeout error, want false")
	}
	s.Release()
}

// TestSideAfterClose drops the registration of an idle Side.
func TestSideAfterClose(t *testing.T) {
	s, closed, d := newSide()
	ctx, cancelFn := context.WithCancel(context.Background())
	s.Acquire()
	s.Watch(ctx)
	s.Release()
	closed.Store(true)
	s.AfterClose()
	cancelFn() // no registration left: no deadline set
	if got := d.get(); len(got) != 0 {
		t.Errorf("deadlines set after AfterClose and cancel = %v, want none", got)
	}
}

// TestSideScopeContext: a context with an AfterFunc method (a cancel
// scope's) takes the abort itself, which runs on the cancelling goroutine:
// the past deadline is set when Cancel returns, and the registration is
// dropped when the Side moves to another context.
func TestSideScopeContext(t *testing.T) {
	s, _, d := newSide()
	scope, ctx := cancel.Open(context.Background())
	defer scope.Close(nil)
	s.Acquire()
	s.Watch(ctx)
	scope.Cancel()
	if got := d.get(); len(got) != 1 || got[0].IsZero() {
		t.Fatalf("deadlines set when Cancel returned = %v, want one past deadline", got)
	}
	if !s.Finish(ctx, os.ErrDeadlineExceeded) {
		t.Fatal("Finish = false, want true: the call was cancelled")
	}
	s.Release()
	if got := d.get(); len(got) != 2 || !got[1].IsZero() {
		t.Fatalf("deadlines set = %v, want a past one, then the zero one", got)
	}
}

// countingCtx is a context with an AfterFunc method that counts its
// registrations and their stops.
type countingCtx struct {
	context.Context
	registered, stopped atomic.Int32
}

func (c *countingCtx) AfterFunc(f func()) func() bool {
	c.registered.Add(1)
	stop := context.AfterFunc(c.Context, f)
	return func() bool {
		c.stopped.Add(1)
		return stop()
	}
}

// TestSideAfterFuncMethod: Watch registers through the context's
// AfterFunc method once for calls that share the context, and stops that
// registration when a call comes with another context; a reused
// registration allocates nothing.
func TestSideAfterFuncMethod(t *testing.T) {
	s, _, _ := newSide()
	parent, cancelFn := context.WithCancel(context.Background())
	defer cancelFn()
	ctx := &countingCtx{Context: parent}
	call := func(ctx context.Context) {
		s.Acquire()
		s.Watch(ctx)
		s.Finish(ctx, nil)
		s.Release()
	}
	call(ctx)
	if allocs := testing.AllocsPerRun(100, func() { call(ctx) }); allocs != 0 {
		t.Errorf("calls with a reused ctx allocate %v times, want 0", allocs)
	}
	if got := ctx.registered.Load(); got != 1 {
		t.Errorf("AfterFunc called %d times, want 1", got)
	}
	call(context.Background())
	if got := ctx.stopped.Load(); got != 1 {
		t.Errorf("stop called %d times after a call with another ctx, want 1", got)
	}
}
