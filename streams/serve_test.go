package streams_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
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

// srvConn is a connection that only knows whether it was closed.
type srvConn struct {
	id     int
	closed chan struct{}
	once   sync.Once
}

func newSrvConn(id int) *srvConn { return &srvConn{id: id, closed: make(chan struct{})} }

func (c *srvConn) Close() error {
	c.once.Do(func() { close(c.closed) })
	return nil
}

func (c *srvConn) isClosed() bool {
	select {
	case <-c.closed:
		return true
	default:
		return false
	}
}

type acceptResult struct {
	conn *srvConn
	err  error
}

// srvListener hands each Accept what the test pushes: a connection (dial)
// or an error (fail). It records its Accept calls and what they returned.
type srvListener struct {
	next    chan acceptResult
	closed  chan struct{}
	once    sync.Once
	accepts atomic.Int64

	mu      sync.Mutex
	lastErr error
}

var _ streams.Listener[*srvConn] = (*srvListener)(nil)

func newSrvListener() *srvListener {
	return &srvListener{next: make(chan acceptResult), closed: make(chan struct{})}
}

func (l *srvListener) Accept(ctx context.Context) (*srvConn, error) {
	l.accepts.Add(1)
	var r acceptResult
	select {
	case r = <-l.next:
	case <-l.closed:
		r.err = streams.ErrClosed
	case <-ctx.Done():
		r.err = cancel.Checkpoint(ctx)
	}
	l.mu.Lock()
	l.lastErr = r.err
	l.mu.Unlock()
	return r.conn, r.err
}

func (l *srvListener) Close() error {
	l.once.Do(func() { close(l.closed) })
	return nil
}

func (l *srvListener) lastAcceptErr() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lastErr
}

// dial hands c to the next Accept and returns once it has taken it.
func (l *srvListener) dial(c *srvConn) { l.next <- acceptResult{conn: c} }

// tryDial is dial in the background: the channel is closed once an Accept
// took c, and never if ctx is done first.
func (l *srvListener) tryDial(ctx context.Context, c *srvConn) <-chan struct{} {
	taken := make(chan struct{})
	go func() {
		select {
		case l.next <- acceptResult{conn: c}:
			close(taken)
		case <-ctx.Done():
		}
	}()
	return taken
}

// fail makes the next Accept return err.
func (l *srvListener) fail(err error) { l.next <- acceptResult{err: err} }

// funcListener is a listener made of a function, for odd behaviours.
type funcListener func(ctx context.Context) (*srvConn, error)

func (f funcListener) Accept(ctx context.Context) (*srvConn, error) { return f(ctx) }
func (f funcListener) Close() error                                 { return nil }

// errorLog collects what OnError receives.
type errorLog struct {
	mu   sync.Mutex
	errs []error
}

func (l *errorLog) hook(err error) {
	l.mu.Lock()
	l.errs = append(l.errs, err)
	l.mu.Unlock()
}

func (l *errorLog) get() []error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]error(nil), l.errs...)
}

func serveAsync[T any](ctx context.Context, l streams.Listener[T], h func(context.Context, T) error, g *taskgroup.Group, opts ...streams.ServeOption) <-chan error {
	done := make(chan error, 1)
	go func() { done <- streams.Serve(ctx, l, h, g, opts...) }()
	return done
}

func returned(done <-chan error) bool {
	select {
	case err := <-done:
		panic(fmt.Sprintf("Serve returned early: %v", err))
	default:
		return false
	}
}

var errBoom = errors.New("boom")

// lockedBuffer is a bytes.Buffer for a logger that handlers write to.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestServeIsolation: a handler's error or panic ends its connection
// only; it is reported through OnError; Serve goes on accepting and the
// other handlers go on running.
func TestServeIsolation(t *testing.T) {
	for _, tc := range []struct {
		name  string
		group bool
	}{
		{name: "own group"},
		{name: "caller's group", group: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				l := newSrvListener()
				var log errorLog
				var longCtxErr atomic.Value
				served := make(chan int, 4)
				h := func(ctx context.Context, c *srvConn) error {
					served <- c.id
					switch c.id {
					case 0:
						return errBoom
					case 1:
						panic("boom")
					case 2:
						<-ctx.Done()
						longCtxErr.Store(ctx.Err())
						return ctx.Err()
					}
					return nil
				}
				var g *taskgroup.Group
				parent := t.Context()
				if tc.group {
					g, parent = taskgroup.New(parent)
				}
				ctx, stop := context.WithCancel(parent)
				done := serveAsync(ctx, l, h, g, streams.OnError(log.hook))
				conns := []*srvConn{newSrvConn(2), newSrvConn(0), newSrvConn(1), newSrvConn(3)}
				for _, c := range conns {
					l.dial(c)
				}
				synctest.Wait()

				if got := len(served); got != 4 {
					t.Fatalf("handlers started: got %d, want 4", got)
				}
				errs := log.get()
				if len(errs) != 2 {
					t.Fatalf("reported errors: got %v, want 2", errs)
				}
				var gotBoom, gotPanic bool
				for _, err := range errs {
					var pe *taskgroup.PanicError
					switch {
					case err == errBoom:
						gotBoom = true
					case errors.As(err, &pe):
						gotPanic = true
						if pe.Value != "boom" {
							t.Errorf("panic value: got %v, want boom", pe.Value)
						}
						if !bytes.Contains(pe.Stack, []byte("TestServeIsolation")) {
							t.Errorf("panic stack does not show the handler:\n%s", pe.Stack)
						}
					default:
						t.Errorf("unexpected reported error %v", err)
					}
				}
				if !gotBoom || !gotPanic {
					t.Errorf("reported: got %v, want errBoom and a *taskgroup.PanicError", errs)
				}
				for _, c := range conns {
					if want := c.id != 2; c.isClosed() != want {
						t.Errorf("conn %d closed: got %v, want %v", c.id, c.isClosed(), want)
					}
				}
				if err := longCtxErr.Load(); err != nil {
					t.Errorf("the long handler was cancelled by the others' failures: %v", err)
				}
				if got := l.accepts.Load(); got != 5 {
					t.Errorf("Accept calls: got %d, want 5 (still accepting)", got)
				}
				returned(done)

				stop()
				if err := <-done; err != nil {
					t.Errorf("Serve: got %v, want nil", err)
				}
				if tc.group {
					if err := g.Wait(); err != nil {
						t.Errorf("g.Wait: got %v, want nil", err)
					}
				}
				if err, _ := longCtxErr.Load().(error); !cancel.IsCancelled(err) {
					t.Errorf("long handler's ctx after shutdown: got %v, want a cancellation", err)
				}
				if !conns[0].isClosed() {
					t.Errorf("conn 2 not closed after its handler returned")
				}
				if got := len(log.get()); got != 2 {
					t.Errorf("reported errors after shutdown: got %d, want 2 (a handler cancelled by Serve is no failure)", got)
				}
			})
		})
	}
}

// TestServeDefaultLog: without OnError, failures go to the default slog
// logger, with the handler's task name when the group is named.
func TestServeDefaultLog(t *testing.T) {
	for _, tc := range []struct {
		name  string
		group string // the caller's group's name; "" for Serve's own group
		want  []string
	}{
		{
			name: "own group",
			want: []string{
				`level=ERROR msg="streams: connection handler failed" error=boom` + "\n",
				`level=ERROR msg="streams: connection handler panicked" error="taskgroup: task panicked: kaboom`,
				`level=WARN msg="streams: accept failed, retrying" error="too many open files" delay=5ms`,
			},
		},
		{
			name:  "named group",
			group: "server",
			want: []string{
				`level=ERROR msg="streams: connection handler failed" error=boom task="handler #1"`,
				`level=ERROR msg="streams: connection handler panicked" error="taskgroup: task panicked: kaboom`,
				` task="handler #2"`,
				`level=WARN msg="streams: accept failed, retrying" error="too many open files" delay=5ms`,
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf lockedBuffer
			prev := slog.Default()
			slog.SetDefault(slog.New(slog.NewTextHandler(&buf, nil)))
			defer slog.SetDefault(prev)

			synctest.Test(t, func(t *testing.T) {
				l := newSrvListener()
				h := func(ctx context.Context, c *srvConn) error {
					if c.id == 1 {
						panic("kaboom")
					}
					return errBoom
				}
				var g *taskgroup.Group
				if tc.group != "" {
					g, _ = taskgroup.New(t.Context(), taskgroup.Named(tc.group))
				}
				ctx, stop := context.WithCancel(t.Context())
				done := serveAsync(ctx, l, h, g)
				l.dial(newSrvConn(0))
				l.dial(newSrvConn(1))
				l.fail(syscall.EMFILE)
				time.Sleep(time.Second)
				stop()
				if err := <-done; err != nil {
					t.Errorf("Serve: got %v, want nil", err)
				}
				if g != nil {
					if err := g.Wait(); err != nil {
						t.Errorf("g.Wait: got %v, want nil", err)
					}
				}
			})
			out := buf.String()
			for _, want := range tc.want {
				if !strings.Contains(out, want) {
					t.Errorf("log: got\n%s\nwant a line with %s", out, want)
				}
			}
			if tc.group == "" && strings.Contains(out, "task=") {
				t.Errorf("log: got\n%s\nwant no task names in an unnamed group", out)
			}
		})
	}
}

// TestServeClosesConn: each connection is closed when its handler
// returns, not before, whether or not the handler closed it.
func TestServeClosesConn(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newSrvListener()
		release := make(chan struct{})
		h := func(ctx context.Context, c *srvConn) error {
			<-release
			return nil
		}
		ctx, stop := context.WithCancel(t.Context())
		done := serveAsync(ctx, l, h, nil)
		c := newSrvConn(0)
		l.dial(c)
		synctest.Wait()
		if c.isClosed() {
			t.Fatal("conn closed while its handler runs")
		}
		close(release)
		synctest.Wait()
		if !c.isClosed() {
			t.Error("conn not closed after its handler returned")
		}
		stop()
		if err := <-done; err != nil {
			t.Errorf("Serve: got %v, want nil", err)
		}
	})
}

// TestServeAcceptedDuringShutdown: a connection that Accept returns as the
// shutdown begins gets no handler and is closed.
func TestServeAcceptedDuringShutdown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newSrvConn(0)
		var calls atomic.Int64
		l := funcListener(func(ctx context.Context) (*srvConn, error) {
			calls.Add(1)
			<-ctx.Done()
			return c, nil // a connection that raced the cancellation
		})
		h := func(ctx context.Context, c *srvConn) error {
			t.Errorf("handler ran for a connection accepted during shutdown")
			return nil
		}
		ctx, stop := context.WithCancel(t.Context())
		done := serveAsync(ctx, l, h, nil)
		synctest.Wait()
		stop()
		if err := <-done; err != nil {
			t.Errorf("Serve: got %v, want nil", err)
		}
		if !c.isClosed() {
			t.Error("connection accepted during shutdown was not closed")
		}
		if got := calls.Load(); got != 1 {
			t.Errorf("Accept calls: got %d, want 1", got)
		}
	})
}

// TestServeValues: a handler's ctx has the values of Serve's ctx.
func TestServeValues(t *testing.T) {
	type key struct{}
	for _, tc := range []struct {
		name string
		opts []streams.ServeOption
	}{
		{name: "plain"},
		{name: "drain", opts: []streams.ServeOption{streams.Drain(time.Second)}},
		{name: "zero option does nothing", opts: []streams.ServeOption{{}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				l := newSrvListener()
				var got any
				h := func(ctx context.Context, c *srvConn) error {
					got = ctx.Value(key{})
					return nil
				}
				ctx := context.WithValue(t.Context(), key{}, "v")
				done := serveAsync(ctx, l, h, nil, tc.opts...)
				l.dial(newSrvConn(0))
				l.Close()
				if err := <-done; err != nil {
					t.Errorf("Serve: got %v, want nil", err)
				}
				if got != "v" {
					t.Errorf("value in handler's ctx: got %v, want v", got)
				}
			})
		})
	}
}

// TestServeMisuse: mistakes panic with a "streams: " message.
func TestServeMisuse(t *testing.T) {
	l := newSrvListener()
	h := func(context.Context, *srvConn) error { return nil }
	for _, tc := range []struct {
		name string
		fn   func()
		want string
	}{
		{name: "MaxConns(0)", fn: func() { streams.MaxConns(0) }, want: "streams: MaxConns needs n >= 1, got 0"},
		{name: "MaxConns(-3)", fn: func() { streams.MaxConns(-3) }, want: "streams: MaxConns needs n >= 1, got -3"},
		{name: "Drain(-1s)", fn: func() { streams.Drain(-time.Second) }, want: "streams: Drain needs d >= 0, got -1s"},
		{name: "OnError(nil)", fn: func() { streams.OnError(nil) }, want: "streams: OnError called with a nil function"},
		{name: "nil listener", fn: func() { streams.Serve[*srvConn](context.Background(), nil, h, nil) }, want: "streams: Serve called with a nil listener"},
		{name: "nil handler", fn: func() { streams.Serve(context.Background(), l, nil, nil) }, want: "streams: Serve called with a nil handler"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				if got := recover(); got != tc.want {
					t.Errorf("panic: got %v, want %q", got, tc.want)
				}
			}()
			tc.fn()
		})
	}
	if got := l.accepts.Load(); got != 0 {
		t.Errorf("Accept calls after misuse: got %d, want 0", got)
	}
}
