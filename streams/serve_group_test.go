package streams_test

import (
	"context"
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

// TestServeGroupCancelled: when the caller's group is cancelled, Serve
// stops accepting (even if its ctx is not the group's) and returns the
// group's cancellation error, and the handlers are cancelled at once.
func TestServeGroupCancelled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newSrvListener()
		var handlerErr error
		h := func(ctx context.Context, c *srvConn) error {
			<-ctx.Done()
			handlerErr = ctx.Err()
			return ctx.Err()
		}
		g, _ := taskgroup.New(t.Context())
		done := serveAsync(t.Context(), l, h, g, streams.Drain(time.Hour))
		l.dial(newSrvConn(0))
		synctest.Wait()
		start := time.Now()
		g.Cancel()
		err := <-done
		if !cancel.IsCancelled(err) {
			t.Errorf("Serve: got %v, want the group's cancellation error", err)
		}
		if err := g.Wait(); err != nil {
			t.Errorf("g.Wait: got %v, want nil", err)
		}
		if !cancel.IsCancelled(handlerErr) {
			t.Errorf("handler's ctx: got %v, want cancelled", handlerErr)
		}
		if d := time.Since(start); d != 0 {
			t.Errorf("handler cancelled after %v, want at once despite Drain", d)
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
