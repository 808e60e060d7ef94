package streams_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tether-go/tether/cancel"
	"github.com/tether-go/tether/streams"
	"github.com/tether-go/tether/taskgroup"
)

// TestServeMaxConns: with MaxConns(n), the n+1-th connection is not
// accepted until a handler returns.
func TestServeMaxConns(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newSrvListener()
		release := map[int]chan struct{}{0: make(chan struct{}), 1: make(chan struct{}), 2: make(chan struct{})}
		h := func(ctx context.Context, c *srvConn) error {
			select {
			case <-release[c.id]:
			case <-ctx.Done():
			}
			return nil
		}
		ctx, stop := context.WithCancel(t.Context())
		done := serveAsync(ctx, l, h, nil, streams.MaxConns(2))
		c0, c1, c2 := newSrvConn(0), newSrvConn(1), newSrvConn(2)
		l.dial(c0)
		l.dial(c1)
		synctest.Wait()
		if got := l.accepts.Load(); got != 2 {
			t.Fatalf("Accept calls with 2 handlers running: got %d, want 2 (waiting for a slot)", got)
		}
		taken := l.tryDial(ctx, c2)
		synctest.Wait()
		select {
		case <-taken:
			t.Fatal("third connection accepted while 2 handlers run")
		default:
		}

		close(release[0])
		<-taken
		synctest.Wait()
		if !c0.isClosed() {
			t.Error("conn 0 not closed after its handler returned")
		}
		if got := l.accepts.Load(); got != 3 {
			t.Errorf("Accept calls after one handler returned: got %d, want 3", got)
		}

		stop()
		if err := <-done; err != nil {
			t.Errorf("Serve: got %v, want nil", err)
		}
		if !c1.isClosed() || !c2.isClosed() {
			t.Error("conns not closed after shutdown")
		}
	})
}

// TestServeFailFast: under FailFast a handler's error or panic cancels the
// group, the other handlers at once (even under Drain), and Serve returns
// the failure.
func TestServeFailFast(t *testing.T) {
	for _, tc := range []struct {
		name       string
		panic      bool
		opts       []streams.ServeOption
		drainFirst bool // the failure happens during a drain
	}{
		{name: "error"},
		{name: "panic", panic: true},
		{name: "error with Drain", opts: []streams.ServeOption{streams.Drain(time.Hour)}},
		{name: "error during a drain", opts: []streams.ServeOption{streams.Drain(time.Hour)}, drainFirst: true},
		{name: "panic during a drain", panic: true, opts: []streams.ServeOption{streams.Drain(time.Hour)}, drainFirst: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				l := newSrvListener()
				var otherErr error
				fail := make(chan struct{})
				h := func(ctx context.Context, c *srvConn) error {
					if c.id == 0 {
						<-ctx.Done()
						otherErr = ctx.Err()
						return ctx.Err()
					}
					<-fail
					if tc.panic {
						panic(errBoom)
					}
					return errBoom
				}
				var log errorLog
				opts := append([]streams.ServeOption{streams.FailFast(), streams.OnError(log.hook)}, tc.opts...)
				ctx, stop := context.WithCancel(t.Context())
				defer stop()
				done := serveAsync(ctx, l, h, nil, opts...)
				c0, c1 := newSrvConn(0), newSrvConn(1)
				l.dial(c0)
				l.dial(c1)
				synctest.Wait()
				if tc.drainFirst {
					stop()
					time.Sleep(time.Minute)
				}
				start := time.Now()
				close(fail)
				err := <-done
				if !errors.Is(err, errBoom) || (!tc.panic && err != errBoom) {
					t.Errorf("Serve: got %v, want %v", err, errBoom)
				}
				var pe *taskgroup.PanicError
				if got := errors.As(err, &pe); got != tc.panic {
					t.Errorf("Serve returned a *taskgroup.PanicError: got %v, want %v", got, tc.panic)
				}
				if !cancel.IsCancelled(otherErr) {
					t.Errorf("other handler's ctx: got %v, want cancelled", otherErr)
				}
				if d := time.Since(start); d != 0 {
					t.Errorf("other handler cancelled after %v, want at once", d)
				}
				if !c0.isClosed() || !c1.isClosed() {
					t.Error("conns not closed")
				}
				if errs := log.get(); len(errs) != 0 {
					t.Errorf("reported: got %v, want nothing under FailFast", errs)
				}
			})
		})
	}
}

// TestServeFailFastCallerGroup: under FailFast with a caller's group, the
// failure fails that group and its Wait returns it once; Serve returns the
// group's cancellation, whose cause is the failure.
func TestServeFailFastCallerGroup(t *testing.T) {
	for _, tc := range []struct {
		name  string
		panic bool
	}{
		{name: "error"},
		{name: "panic", panic: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				l := newSrvListener()
				h := func(ctx context.Context, c *srvConn) error {
					if tc.panic {
						panic(errBoom)
					}
					return errBoom
				}
				var serveErr error
				err := taskgroup.Run(t.Context(), func(ctx context.Context, g *taskgroup.Group) error {
					go l.dial(newSrvConn(0))
					serveErr = streams.Serve(ctx, l, h, g, streams.FailFast())
					return serveErr
				}, taskgroup.PanicsAsErrors())
				var pe *taskgroup.PanicError
				if tc.panic {
					if !errors.As(err, &pe) || pe.Value != errBoom {
						t.Errorf("Run: got %v, want a *taskgroup.PanicError of %v", err, errBoom)
					}
				} else if err != errBoom {
					t.Errorf("Run: got %v, want %v (once, unwrapped)", err, errBoom)
				}
				if !cancel.IsCancelled(serveErr) || !errors.Is(serveErr, errBoom) {
					t.Errorf("Serve: got %v, want a cancellation caused by %v", serveErr, errBoom)
				}
			})
		})
	}
}

// TestServeShutdown: when ctx is done, Serve stops accepting at once;
// without Drain the handlers are cancelled at once; with Drain(d) a
// handler that finishes within d is not cancelled, and one that outlives d
// is cancelled d after.
func TestServeShutdown(t *testing.T) {
	const drain = time.Second
	for _, tc := range []struct {
		name   string
		opts   []streams.ServeOption
		group  bool
		cancel time.Duration // when the long handler is cancelled, after ctx
	}{
		{name: "no drain", cancel: 0},
		{name: "no drain, caller's group", group: true, cancel: 0},
		{name: "drain", opts: []streams.ServeOption{streams.Drain(drain)}, cancel: drain},
		{name: "drain, caller's group", opts: []streams.ServeOption{streams.Drain(drain)}, group: true, cancel: drain},
		{name: "drain 0", opts: []streams.ServeOption{streams.Drain(0)}, cancel: 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				type outcome struct {
					at       time.Duration // since ctx was cancelled
					ctxErr   error
					deadline time.Time
				}
				var stopped time.Time
				quick, long := make(chan outcome, 1), make(chan outcome, 1)
				finish := make(chan struct{})
				h := func(ctx context.Context, c *srvConn) error {
					if c.id == 0 {
						select {
						case <-finish:
						case <-ctx.Done():
						}
						dl, _ := ctx.Deadline()
						quick <- outcome{time.Since(stopped), ctx.Err(), dl}
						return nil
					}
					<-ctx.Done()
					long <- outcome{at: time.Since(stopped), ctxErr: ctx.Err()}
					return cancel.Checkpoint(ctx)
				}
				l := newSrvListener()
				var log errorLog
				var g *taskgroup.Group
				parent := t.Context()
				if tc.group {
					g, parent = taskgroup.New(parent)
				}
				ctx, stop := context.WithCancel(parent)
				done := serveAsync(ctx, l, h, g, append(tc.opts, streams.OnError(log.hook))...)
				c0, c1 := newSrvConn(0), newSrvConn(1)
				l.dial(c0)
				l.dial(c1)
				time.Sleep(time.Minute) // nothing is cancelled meanwhile
				synctest.Wait()
				if len(quick) != 0 || len(long) != 0 {
					t.Fatal("a handler returned before the shutdown")
				}

				stopped = time.Now()
				stop()
				synctest.Wait()
				if err := l.lastAcceptErr(); !cancel.IsCancelled(err) {
					t.Errorf("Accept after the shutdown began: got %v, want cancelled", err)
				}
				dialCtx, stopDial := context.WithCancel(t.Context())
				late := l.tryDial(dialCtx, newSrvConn(2))

				if tc.cancel > 0 {
					time.Sleep(tc.cancel / 2)
					close(finish)
					q := <-quick
					if q.ctxErr != nil {
						t.Errorf("quick handler's ctx during the drain: got %v, want nil", q.ctxErr)
					}
					if want := stopped.Add(drain); !q.deadline.Equal(want) {
						t.Errorf("quick handler's deadline: got %v, want the drain's end %v", q.deadline, want)
					}
				}
				lo := <-long
				if lo.at != tc.cancel {
					t.Errorf("long handler cancelled %v after ctx, want %v", lo.at, tc.cancel)
				}
				if !cancel.IsCancelled(lo.ctxErr) {
					t.Errorf("long handler's ctx: got %v, want cancelled", lo.ctxErr)
				}
				if tc.cancel == 0 {
					if q := <-quick; q.at != 0 || !cancel.IsCancelled(q.ctxErr) {
						t.Errorf("quick handler: cancelled after %v with %v, want at once", q.at, q.ctxErr)
					}
				}

				if err := <-done; err != nil {
					t.Errorf("Serve: got %v, want nil", err)
				}
				if g != nil {
					if err := g.Wait(); err != nil {
						t.Errorf("g.Wait: got %v, want nil", err)
					}
				}
				if !c0.isClosed() || !c1.isClosed() {
					t.Error("conns not closed")
				}
				select {
				case <-late:
					t.Error("a connection was accepted after the shutdown began")
				default:
				}
				stopDial()
				if errs := log.get(); len(errs) != 0 {
					t.Errorf("reported: got %v, want nothing (cancelled handlers are no failures)", errs)
				}
			})
		})
	}
}

// TestServeDrainThenGroupCancel: a drain in progress is neither cut short
// nor extended when the group is cancelled too: the first event that ends
// the serving starts the drain, and the handlers are cancelled when it
// ends.
func TestServeDrainThenGroupCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newSrvListener()
		var cancelledAt time.Time
		h := func(ctx context.Context, c *srvConn) error {
			<-ctx.Done()
			cancelledAt = time.Now()
			return ctx.Err()
		}
		g, gctx := taskgroup.New(t.Context())
		ctx, stop := context.WithCancel(gctx)
		done := serveAsync(ctx, l, h, g, streams.Drain(time.Hour))
		l.dial(newSrvConn(0))
		synctest.Wait()
		stop()
		drainStart := time.Now()
		if err := <-done; err != nil {
			t.Errorf("Serve: got %v, want nil", err)
		}
		time.Sleep(time.Minute)
		g.Cancel()
		if err := g.Wait(); err != nil {
			t.Errorf("g.Wait: got %v, want nil", err)
		}
		if want := drainStart.Add(time.Hour); !cancelledAt.Equal(want) {
			t.Errorf("handler cancelled at %v, want at the drain's end %v", cancelledAt, want)
		}
	})
}
