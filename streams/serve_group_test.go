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

// TestServeGroups: with g nil, Serve waits for its handlers; with a
// caller's group, it returns when the accept loop stops and the handlers
// go on in g.
func TestServeGroups(t *testing.T) {
	t.Run("own group waits", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			l := newSrvListener()
			release := make(chan struct{})
			var ctxErr error
			h := func(ctx context.Context, c *srvConn) error {
				<-release
				ctxErr = ctx.Err()
				return nil
			}
			done := serveAsync(t.Context(), l, h, nil)
			l.dial(newSrvConn(0))
			l.Close()
			synctest.Wait()
			returned(done) // still waiting for the handler
			close(release)
			if err := <-done; err != nil {
				t.Errorf("Serve: got %v, want nil", err)
			}
			if ctxErr != nil {
				t.Errorf("handler's ctx after the listener closed: got %v, want nil (not cancelled)", ctxErr)
			}
		})
	})
	t.Run("caller's group", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			l := newSrvListener()
			release := make(chan struct{})
			finished := make(chan struct{})
			h := func(ctx context.Context, c *srvConn) error {
				<-release
				close(finished)
				return nil
			}
			err := taskgroup.Run(t.Context(), func(ctx context.Context, g *taskgroup.Group) error {
				done := serveAsync(ctx, l, h, g)
				l.dial(newSrvConn(0))
				l.Close()
				if err := <-done; err != nil {
					t.Errorf("Serve: got %v, want nil", err)
				}
				select {
				case <-finished:
					t.Error("handler finished before Serve returned; want it still running in g")
				default:
				}
				close(release)
				return nil
			})
			if err != nil {
				t.Errorf("Run: got %v, want nil", err)
			}
			select {
			case <-finished:
			default:
				t.Error("Run returned before the handler finished")
			}
		})
	})
}

// TestServeGroupCancelled: when the caller's group is cancelled, in any
// way, Serve stops accepting (even if its ctx is not the group's) and
// returns the group's cancellation error; the handlers are cancelled at
// once, or, under Drain, when the drain ends: a signal under tether.Run is
// such a cancellation (CancelWithCause), and the case Drain exists for.
func TestServeGroupCancelled(t *testing.T) {
	errBoom := errors.New("boom")
	signalled := errors.New("signalled") // stands in for *tether.SignalError
	for _, tc := range []struct {
		name     string
		drain    time.Duration // 0: no Drain
		cancel   func(g *taskgroup.Group)
		wantWait error // what g.Wait returns
	}{
		{name: "Cancel", cancel: (*taskgroup.Group).Cancel},
		{name: "Cancel, drain", drain: time.Hour, cancel: (*taskgroup.Group).Cancel},
		{name: "as tether.Run on a signal, drain", drain: time.Hour, cancel: func(g *taskgroup.Group) {
			g.Scope().CancelWithCause(signalled)
		}},
		{name: "failed task", cancel: failTask(errBoom), wantWait: errBoom},
		{name: "failed task, drain", drain: time.Minute, cancel: failTask(errBoom), wantWait: errBoom},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				l := newSrvListener()
				var handlerErr error
				var cancelledAt time.Time
				h := func(ctx context.Context, c *srvConn) error {
					<-ctx.Done()
					cancelledAt, handlerErr = time.Now(), ctx.Err()
					return ctx.Err()
				}
				var opts []streams.ServeOption
				if tc.drain > 0 {
					opts = append(opts, streams.Drain(tc.drain))
				}
				g, _ := taskgroup.New(t.Context())
				done := serveAsync(t.Context(), l, h, g, opts...)
				c := newSrvConn(0)
				l.dial(c)
				synctest.Wait()
				start := time.Now()
				tc.cancel(g)
				if err := <-done; !cancel.IsCancelled(err) {
					t.Errorf("Serve: got %v, want the group's cancellation error", err)
				}
				if err := l.lastAcceptErr(); !cancel.IsCancelled(err) {
					t.Errorf("Accept: got %v, want cancelled", err)
				}
				if err := g.Wait(); err != tc.wantWait {
					t.Errorf("g.Wait: got %v, want %v", err, tc.wantWait)
				}
				if !cancel.IsCancelled(handlerErr) {
					t.Errorf("handler's ctx: got %v, want cancelled", handlerErr)
				}
				if got := cancelledAt.Sub(start); got != tc.drain {
					t.Errorf("handler cancelled %v after the group, want %v", got, tc.drain)
				}
				if !c.isClosed() {
					t.Error("conn not closed")
				}
			})
		})
	}
}

// failTask returns a function that fails a task of g with err.
func failTask(err error) func(g *taskgroup.Group) {
	return func(g *taskgroup.Group) {
		g.Go(func(context.Context) error { return err })
	}
}

// TestServeDrainHandlerFinishes: under Drain, a handler that was running
// when the group was cancelled finishes its work with a live ctx, and the
// group's Wait waits for it.
func TestServeDrainHandlerFinishes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newSrvListener()
		release := make(chan struct{})
		var ctxErr error
		finished := false
		h := func(ctx context.Context, c *srvConn) error {
			<-release
			ctxErr, finished = ctx.Err(), true
			return nil
		}
		g, _ := taskgroup.New(t.Context())
		done := serveAsync(t.Context(), l, h, g, streams.Drain(time.Hour))
		l.dial(newSrvConn(0))
		synctest.Wait()
		g.Cancel()
		<-done
		time.Sleep(time.Minute) // within the drain
		close(release)
		if err := g.Wait(); err != nil {
			t.Errorf("g.Wait: got %v, want nil", err)
		}
		if !finished || ctxErr != nil {
			t.Errorf("handler finished %v with ctx error %v, want true with nil", finished, ctxErr)
		}
	})
}

// TestServeCallerGroupLimit: a connection accepted while the caller's
// group (which has a limit) is full, and then cancelled, gets no handler
// and is closed.
func TestServeCallerGroupLimit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newSrvListener()
		var served []int
		h := func(ctx context.Context, c *srvConn) error {
			served = append(served, c.id)
			<-ctx.Done()
			return ctx.Err()
		}
		g, _ := taskgroup.New(t.Context())
		g.SetLimit(2)
		g.Go(func(ctx context.Context) error { // holds a slot
			<-ctx.Done()
			return nil
		})
		done := serveAsync(t.Context(), l, h, g)
		c0, c1 := newSrvConn(0), newSrvConn(1)
		l.dial(c0) // takes the second slot
		l.dial(c1) // its task waits for a slot
		synctest.Wait()
		if c1.isClosed() {
			t.Fatal("conn 1 closed before the group was cancelled")
		}
		g.Cancel()
		if err := <-done; !cancel.IsCancelled(err) {
			t.Errorf("Serve: got %v, want the group's cancellation", err)
		}
		if err := g.Wait(); err != nil {
			t.Errorf("g.Wait: got %v, want nil", err)
		}
		if !c0.isClosed() || !c1.isClosed() {
			t.Errorf("conns closed: got %v, %v, want both", c0.isClosed(), c1.isClosed())
		}
		if len(served) != 1 || served[0] != 0 {
			t.Errorf("handlers ran for conns %v, want [0]", served)
		}
	})
}
