package streams_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tether-go/tether/cancel"
	"github.com/tether-go/tether/streams"
	"github.com/tether-go/tether/taskgroup"
)

// scriptListener returns its script's results in order, one per Accept,
// recording when each Accept was called; after the script, Accept waits
// for ctx.
type scriptListener struct {
	start  time.Time
	mu     sync.Mutex
	script []acceptResult
	calls  []time.Duration
}

func (l *scriptListener) Accept(ctx context.Context) (*srvConn, error) {
	l.mu.Lock()
	l.calls = append(l.calls, time.Since(l.start))
	var r acceptResult
	more := len(l.script) > 0
	if more {
		r, l.script = l.script[0], l.script[1:]
	}
	l.mu.Unlock()
	if more {
		return r.conn, r.err
	}
	<-ctx.Done()
	return nil, cancel.Checkpoint(ctx)
}

func (l *scriptListener) Close() error { return nil }

// gaps returns the time between each Accept call and the one before.
func (l *scriptListener) gaps() []time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	var gaps []time.Duration
	for i := 1; i < len(l.calls); i++ {
		gaps = append(gaps, l.calls[i]-l.calls[i-1])
	}
	return gaps
}

func repeatErr(err error, n int) []acceptResult {
	return slices.Repeat([]acceptResult{{err: err}}, n)
}

// TestServeAcceptBackoff: temporary accept errors are retried after 5 ms,
// doubling up to 1 s; a success resets the pause; each is reported.
func TestServeAcceptBackoff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		emfile := &net.OpError{Op: "accept", Net: "tcp", Err: os.NewSyscallError("accept4", syscall.EMFILE)}
		var script []acceptResult
		script = append(script, repeatErr(emfile, 10)...)
		script = append(script, acceptResult{conn: newSrvConn(0)})
		script = append(script, repeatErr(syscall.ENFILE, 2)...)
		l := &scriptListener{start: time.Now(), script: script}
		var log errorLog
		ctx, stop := context.WithCancel(t.Context())
		done := serveAsync(ctx, l, func(context.Context, *srvConn) error { return nil }, nil, streams.OnError(log.hook))
		time.Sleep(time.Minute) // fake time: the script is over long before
		stop()
		if err := <-done; err != nil {
			t.Errorf("Serve: got %v, want nil", err)
		}

		ms := time.Millisecond
		want := []time.Duration{5 * ms, 10 * ms, 20 * ms, 40 * ms, 80 * ms, 160 * ms, 320 * ms, 640 * ms, time.Second, time.Second, 0, 5 * ms, 10 * ms}
		if got := l.gaps(); !slices.Equal(got, want) {
			t.Errorf("pauses between Accepts: got %v, want %v", got, want)
		}
		errs := log.get()
		if len(errs) != 12 {
			t.Fatalf("reported: got %d errors, want 12: %v", len(errs), errs)
		}
		for i, err := range errs {
			wantErr := syscall.EMFILE
			if i >= 10 {
				wantErr = syscall.ENFILE
			}
			if !errors.Is(err, wantErr) {
				t.Errorf("report %d: got %v, want one matching %v", i, err, wantErr)
			}
		}
		if got, want := errs[0].Error(), "streams: accept failed, retrying in 5ms: accept tcp: accept4: too many open files"; got != want {
			t.Errorf("report 0: got %q, want %q", got, want)
		}
	})
}

type tempError struct{ temporary bool }

func (e tempError) Error() string   { return fmt.Sprintf("temporary=%v", e.temporary) }
func (e tempError) Timeout() bool   { return false }
func (e tempError) Temporary() bool { return e.temporary }

// TestServeAcceptErrors: which accept errors Serve retries, which end it
// cleanly, and which it returns.
func TestServeAcceptErrors(t *testing.T) {
	disk := errors.New("disk on fire")
	for _, tc := range []struct {
		name    string
		err     error
		retried bool  // Serve pauses and calls Accept again
		want    error // else what Serve returns (nil: a clean end)
	}{
		{name: "EMFILE", err: syscall.EMFILE, retried: true},
		{name: "ENFILE", err: syscall.ENFILE, retried: true},
		{name: "ECONNABORTED", err: syscall.ECONNABORTED, retried: true},
		{name: "wrapped ECONNABORTED", err: &net.OpError{Op: "accept", Err: os.NewSyscallError("accept4", syscall.ECONNABORTED)}, retried: true},
		// The deprecated Temporary method is not consulted.
		{name: "Temporary() true", err: tempError{temporary: true}, want: tempError{temporary: true}},
		{name: "streams.ErrClosed", err: streams.ErrClosed},
		{name: "net.ErrClosed", err: net.ErrClosed},
		{name: "wrapped net.ErrClosed", err: fmt.Errorf("accept tcp [::]:80: %w", net.ErrClosed)},
		{name: "other", err: disk, want: disk},
		{name: "not temporary net.Error", err: tempError{}, want: tempError{}},
		{name: "ECONNREFUSED", err: syscall.ECONNREFUSED, want: syscall.ECONNREFUSED},
		{name: "foreign cancellation", err: context.Canceled, want: context.Canceled},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				l := &scriptListener{start: time.Now(), script: []acceptResult{{err: tc.err}}}
				var log errorLog
				ctx, stop := context.WithCancel(t.Context())
				defer stop()
				done := serveAsync(ctx, l, func(context.Context, *srvConn) error { return nil }, nil, streams.OnError(log.hook))
				if tc.retried {
					time.Sleep(time.Second)
					returned(done)
					if got, want := l.gaps(), []time.Duration{5 * time.Millisecond}; !slices.Equal(got, want) {
						t.Errorf("pauses: got %v, want %v", got, want)
					}
					if errs := log.get(); len(errs) != 1 || !errors.Is(errs[0], tc.err) {
						t.Errorf("reported: got %v, want one error matching %v", errs, tc.err)
					}
					stop()
					if err := <-done; err != nil {
						t.Errorf("Serve: got %v, want nil", err)
					}
					return
				}
				err := <-done
				if !errors.Is(err, tc.want) || (tc.want == nil && err != nil) {
					t.Errorf("Serve: got %v, want %v", err, tc.want)
				}
				if got := len(l.gaps()); got != 0 {
					t.Errorf("Accept called again %d times, want 0", got)
				}
				if errs := log.get(); len(errs) != 0 {
					t.Errorf("reported: got %v, want nothing", errs)
				}
			})
		})
	}
}

// TestServeBackoffCancelled: the pause after an accept error ends when ctx
// is done.
func TestServeBackoffCancelled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := &scriptListener{start: time.Now(), script: repeatErr(syscall.EMFILE, 100)}
		ctx, stop := context.WithCancel(t.Context())
		done := serveAsync(ctx, l, func(context.Context, *srvConn) error { return nil }, nil, streams.OnError(func(error) {}))
		// Accepts at 0, 5, 15, 35, 75, 155, 315, 635 ms; the next at 1275.
		time.Sleep(700 * time.Millisecond)
		stop()
		if err := <-done; err != nil {
			t.Errorf("Serve: got %v, want nil", err)
		}
		if got, want := time.Since(l.start), 700*time.Millisecond; got != want {
			t.Errorf("Serve returned after %v, want %v (at once)", got, want)
		}
		if got := len(l.gaps()); got != 7 {
			t.Errorf("Accept calls after the first: got %d, want 7", got)
		}
	})
}

// TestServeCancelInAccept: ctx done while Serve is blocked in Accept
// cancels the Accept, and Serve returns nil; also with ctx done before
// Serve is called.
func TestServeCancelInAccept(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newSrvListener()
		ctx, stop := context.WithCancel(t.Context())
		done := serveAsync(ctx, l, func(context.Context, *srvConn) error { return nil }, nil)
		synctest.Wait()
		if got := l.accepts.Load(); got != 1 {
			t.Fatalf("Accept calls: got %d, want 1", got)
		}
		stop()
		if err := <-done; err != nil {
			t.Errorf("Serve: got %v, want nil", err)
		}
		if err := l.lastAcceptErr(); !cancel.IsCancelled(err) {
			t.Errorf("Accept: got %v, want a cancellation error", err)
		}

		if err := streams.Serve(ctx, l, func(context.Context, *srvConn) error { return nil }, nil); err != nil {
			t.Errorf("Serve with a done ctx: got %v, want nil", err)
		}
	})
}

// TestServeAcceptFails: an accept error that is not temporary ends Serve
// with that error; with g nil the running handlers are cancelled first.
func TestServeAcceptFails(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newSrvListener()
		var handlerErr error
		h := func(ctx context.Context, c *srvConn) error {
			<-ctx.Done()
			handlerErr = ctx.Err()
			return ctx.Err()
		}
		var log errorLog
		done := serveAsync(t.Context(), l, h, nil, streams.OnError(log.hook), streams.Drain(time.Hour))
		c := newSrvConn(0)
		l.dial(c)
		synctest.Wait() // the handler is running
		disk := errors.New("disk on fire")
		l.fail(disk)
		err := <-done
		if err != disk {
			t.Errorf("Serve: got %v, want %v", err, disk)
		}
		if !cancel.IsCancelled(handlerErr) {
			t.Errorf("handler's ctx: got %v, want cancelled", handlerErr)
		}
		if !c.isClosed() {
			t.Error("conn not closed")
		}
		if errs := log.get(); len(errs) != 0 {
			t.Errorf("reported: got %v, want nothing", errs)
		}
		if !strings.Contains(fmt.Sprint(err), "disk") {
			t.Errorf("error text: got %q", err)
		}
	})
}

// TestServeAcceptPanics: a panic in Accept goes on up Serve's caller's
// stack, as it was, once Serve has stopped accepting and cancelled its
// handlers at once (a drain included); with g nil, once they have also
// returned and their conns are closed: nothing of Serve outlives it.
func TestServeAcceptPanics(t *testing.T) {
	for _, tc := range []struct {
		name  string
		group bool
		opts  []streams.ServeOption
	}{
		{name: "own group"},
		{name: "own group, drain", opts: []streams.ServeOption{streams.Drain(time.Hour)}},
		{name: "caller's group", group: true},
		{name: "caller's group, drain", group: true, opts: []streams.ServeOption{streams.Drain(time.Hour)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				handling := make(chan struct{})
				var handlerErr error
				var handlerDone atomic.Bool // read while the handler may run, in g
				h := func(ctx context.Context, c *srvConn) error {
					close(handling)
					<-ctx.Done()
					handlerErr = ctx.Err()
					handlerDone.Store(true)
					return ctx.Err()
				}
				c := newSrvConn(0)
				accepts := 0
				l := funcListener(func(ctx context.Context) (*srvConn, error) {
					accepts++
					if accepts == 1 {
						return c, nil
					}
					<-handling
					panic("accept exploded")
				})
				var g *taskgroup.Group
				if tc.group {
					g, _ = taskgroup.New(t.Context())
				}
				type outcome struct {
					value       any
					handlerDone bool
					connClosed  bool
				}
				panicked := make(chan outcome, 1)
				go func() {
					defer func() {
						panicked <- outcome{recover(), handlerDone.Load(), c.isClosed()}
					}()
					streams.Serve(t.Context(), l, h, g, tc.opts...)
				}()
				o := <-panicked
				if o.value != "accept exploded" {
					t.Errorf("Serve panicked with %v, want %q", o.value, "accept exploded")
				}
				if g != nil {
					if err := g.Wait(); err != nil {
						t.Errorf("g.Wait: got %v, want nil", err)
					}
				} else if !o.handlerDone || !o.connClosed {
					t.Errorf("when the panic left Serve: handler returned %v, conn closed %v; want both", o.handlerDone, o.connClosed)
				}
				if !cancel.IsCancelled(handlerErr) {
					t.Errorf("handler's ctx: got %v, want cancelled", handlerErr)
				}
				if !c.isClosed() {
					t.Error("conn not closed")
				}
			})
		})
	}
}
