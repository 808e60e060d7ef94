package tlsstream_test

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tether-go/tether/cancel"
	"github.com/tether-go/tether/memstream"
	"github.com/tether-go/tether/streams"
	"github.com/tether-go/tether/streams/tlsstream"
	"github.com/tether-go/tether/taskgroup"
)

// errorLog collects what a Listener reports.
type errorLog struct {
	mu   sync.Mutex
	errs []error
	c    chan struct{} // one token per error
}

func newErrorLog() *errorLog { return &errorLog{c: make(chan struct{}, 100)} }

func (l *errorLog) add(err error) {
	l.mu.Lock()
	l.errs = append(l.errs, err)
	l.mu.Unlock()
	l.c <- struct{}{}
}

func (l *errorLog) wait(t *testing.T, ctx context.Context, n int) []error {
	t.Helper()
	for range n {
		select {
		case <-l.c:
		case <-ctx.Done():
			t.Fatalf("waiting for %d reported errors: %v", n, ctx.Err())
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]error(nil), l.errs...)
}

// echoClient dials l, handshakes, and checks one echo.
func echoClient(ctx context.Context, l *memstream.Listener, ccfg *tls.Config, msg string) error {
	raw, err := l.Dial(ctx)
	if err != nil {
		return err
	}
	c, err := tlsstream.Client(ctx, raw, ccfg)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Send(ctx, []byte(msg)); err != nil {
		return err
	}
	if err := c.SendEOF(ctx); err != nil {
		return err
	}
	got, err := receiveAll(ctx, c)
	if err != io.EOF || string(got) != msg {
		return errors.New("echo: got " + string(got) + ", want " + msg)
	}
	return nil
}

func echoHandler(ctx context.Context, s *tlsstream.Stream) error {
	got, err := receiveAll(ctx, s)
	if err != io.EOF {
		return err
	}
	return s.Send(ctx, got)
}

// TestListenerSurvivesBadClients: garbage, a client that says nothing, and
// a client that leaves mid-handshake never reach the handler nor stop
// Serve, and good clients are served all the while.
func TestListenerSurvivesBadClients(t *testing.T) {
	ctx := testContext(t)
	scfg, ccfg := configs(t)
	ml := memstream.Listen()
	log := newErrorLog()
	tl := tlsstream.NewListener(ml, scfg, tlsstream.OnError(log.add), tlsstream.HandshakeTimeout(time.Minute))
	defer tl.Close()

	var handled sync.Map
	err := taskgroup.Run(ctx, func(ctx context.Context, g *taskgroup.Group) error {
		serveCtx, stopServe := context.WithCancel(ctx)
		defer stopServe()
		g.Go(func(context.Context) error {
			return tl.Serve(serveCtx, func(ctx context.Context, s *tlsstream.Stream) error {
				handled.Store(s, true)
				return echoHandler(ctx, s)
			}, nil)
		})
		if err := echoClient(ctx, ml, ccfg, "first"); err != nil {
			t.Errorf("good client before the bad ones: %v", err)
		}

		// A client that connects and says nothing: its handshake waits
		// (for a minute) while the others go on.
		silent, err := ml.Dial(ctx)
		if err != nil {
			return err
		}
		defer silent.Close()
		// Garbage instead of a ClientHello.
		garbage, err := ml.Dial(ctx)
		if err != nil {
			return err
		}
		garbage.Send(ctx, []byte("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"))
		// A client that starts the handshake and leaves: the first bytes
		// of a ClientHello record, then the end.
		leaver, err := ml.Dial(ctx)
		if err != nil {
			return err
		}
		leaver.Send(ctx, []byte{22, 3, 1, 0, 200, 1, 0})
		leaver.Close()

		errs := log.wait(t, ctx, 2)
		garbage.Close()
		for i := range 5 {
			if err := echoClient(ctx, ml, ccfg, "client "+string(rune('a'+i))); err != nil {
				t.Errorf("good client %d among the bad ones: %v", i, err)
			}
		}
		for _, err := range errs {
			var he *tlsstream.HandshakeError
			if !errors.As(err, &he) || !he.Server {
				t.Errorf("reported %v; want a server *HandshakeError", err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	n := 0
	handled.Range(func(any, any) bool { n++; return true })
	if n != 6 {
		t.Errorf("the handler ran %d times, want 6 (the good clients only)", n)
	}
}

// TestListenerCompletionOrder: a client whose handshake is stuck does not
// hold up one that comes after it.
func TestListenerCompletionOrder(t *testing.T) {
	ctx := testContext(t)
	scfg, ccfg := configs(t)
	ml := memstream.Listen()
	tl := tlsstream.NewListener(ml, scfg, tlsstream.OnError(func(err error) { t.Errorf("reported %v, want nothing", err) }))

	accepted := make(chan *tlsstream.Stream, 1)
	go func() {
		s, err := tl.Accept(ctx)
		if err != nil {
			t.Errorf("Accept: %v", err)
		}
		accepted <- s
	}()
	slow, err := ml.Dial(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	defer tl.Close() // first, so that the slow client's leaving is no failure
	fast, err := ml.Dial(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c, err := tlsstream.Client(ctx, fast, ccfg)
	if err != nil {
		t.Fatalf("fast client: %v", err)
	}
	defer c.Close()
	s := <-accepted
	if s == nil {
		t.Fatal("no stream accepted")
	}
	defer s.Close()
	c.Send(ctx, []byte("x"))
	if _, err := s.Receive(ctx, make([]byte, 1)); err != nil {
		t.Fatalf("the accepted stream is not the fast client's: Receive: %v", err)
	}
}

// TestListenerHandshakeTimeout runs in a synctest bubble: a client that
// says nothing is dropped after the HandshakeTimeout, in fake time.
func TestListenerHandshakeTimeout(t *testing.T) {
	scfg, _ := configs(t)
	synctest.Test(t, func(t *testing.T) {
		ml := memstream.Listen()
		log := newErrorLog()
		tl := tlsstream.NewListener(ml, scfg, tlsstream.OnError(log.add), tlsstream.HandshakeTimeout(5*time.Second))
		defer tl.Close()
		accepted := make(chan error, 1)
		go func() { // starts the listener's tasks; ends with Close
			_, err := tl.Accept(t.Context())
			accepted <- err
		}()
		silent, err := ml.Dial(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		defer silent.Close()
		start := time.Now()
		errs := log.wait(t, t.Context(), 1)
		if d := time.Since(start); d != 5*time.Second {
			t.Errorf("the handshake failed after %v, want 5s", d)
		}
		if !errors.Is(errs[0], cancel.ErrTimeout) {
			t.Fatalf("reported %v, want a timeout", errs[0])
		}
		if _, err := silent.Receive(t.Context(), make([]byte, 1)); err != io.EOF {
			t.Errorf("the silent client after the timeout: %v, want io.EOF", err)
		}
		tl.Close()
		if err := <-accepted; !errors.Is(err, streams.ErrClosed) {
			t.Errorf("Accept woken by Close: %v, want ErrClosed", err)
		}
	})
}

func TestListenerAcceptAndClose(t *testing.T) {
	ctx := testContext(t)
	scfg, _ := configs(t)
	ml := memstream.Listen()
	tl := tlsstream.NewListener(ml, scfg)

	// A cancelled Accept leaves the listener usable.
	actx, stop := context.WithCancel(ctx)
	stop()
	if _, err := tl.Accept(actx); !errors.Is(err, context.Canceled) {
		t.Errorf("Accept with a done ctx: %v, want context.Canceled", err)
	}
	// Close wakes a blocked Accept.
	done := make(chan error, 1)
	go func() { _, err := tl.Accept(ctx); done <- err }()
	// Once a Dial got through, the accept task is running (and the
	// Accept above has started it or is about to).
	raw, err := ml.Dial(ctx)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	defer raw.Close()
	if err := tl.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := <-done; !errors.Is(err, streams.ErrClosed) {
		t.Errorf("Accept woken by Close: %v, want ErrClosed", err)
	}
	if _, err := tl.Accept(ctx); !errors.Is(err, streams.ErrClosed) {
		t.Errorf("Accept after Close: %v, want ErrClosed", err)
	}
	// Close cancelled the pending handshake and closed its connection.
	if _, err := raw.Receive(ctx, make([]byte, 1)); err != io.EOF {
		t.Errorf("the pending client after Close: %v, want io.EOF", err)
	}
	if err := tl.Close(); err != nil {
		t.Errorf("second Close: %v, want nil", err)
	}
	// Dial after Close: the listener under it was closed.
	if _, err := ml.Dial(ctx); err == nil {
		t.Errorf("Dial after Close succeeded, want an error")
	}
}

// TestListenerUnderClosed: when the listener under it is closed by
// someone else, Accept says so, and Serve ends cleanly.
func TestListenerUnderClosed(t *testing.T) {
	ctx := testContext(t)
	scfg, _ := configs(t)
	ml := memstream.Listen()
	tl := tlsstream.NewListener(ml, scfg)
	defer tl.Close()
	ml.Close()
	for i := range 2 {
		if _, err := tl.Accept(ctx); !errors.Is(err, streams.ErrClosed) {
			t.Errorf("Accept %d: %v, want ErrClosed", i, err)
		}
	}
	err := tl.Serve(ctx, func(context.Context, *tlsstream.Stream) error { return nil }, nil)
	if err != nil {
		t.Errorf("Serve: %v, want nil", err)
	}
}

func TestListenerCloseWithoutAccept(t *testing.T) {
	scfg, _ := configs(t)
	tl := tlsstream.NewListener(memstream.Listen(), scfg)
	if err := tl.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if _, err := tl.Accept(context.Background()); !errors.Is(err, streams.ErrClosed) || !strings.Contains(err.Error(), "closed") {
		t.Fatalf("Accept after Close: %v, want ErrClosed", err)
	}
}

// flakyListener fails its first Accept with EMFILE, a temporary error,
// then accepts from l.
type flakyListener struct {
	*memstream.Listener
	failed bool
}

func (f *flakyListener) Accept(ctx context.Context) (streams.ByteStream, error) {
	if !f.failed { // only the listener's accept task calls Accept
		f.failed = true
		return nil, os.NewSyscallError("accept", syscall.EMFILE)
	}
	return f.Listener.Accept(ctx)
}

// TestListenerTemporaryError: an accept error reaches one Accept, which
// Serve reports and retries after a pause, and serving goes on.
func TestListenerTemporaryError(t *testing.T) {
	ctx := testContext(t)
	scfg, ccfg := configs(t)
	ml := memstream.Listen()
	tl := tlsstream.NewListener(&flakyListener{Listener: ml}, scfg)
	defer tl.Close()
	reported := make(chan error, 10)
	err := taskgroup.Run(ctx, func(ctx context.Context, g *taskgroup.Group) error {
		serveCtx, stop := context.WithCancel(ctx)
		defer stop()
		g.Go(func(context.Context) error {
			return tl.Serve(serveCtx, echoHandler, nil, streams.OnError(func(err error) { reported <- err }))
		})
		return echoClient(ctx, ml, ccfg, "after EMFILE")
	})
	if err != nil {
		t.Fatalf("client: %v", err)
	}
	select {
	case err := <-reported:
		if !errors.Is(err, syscall.EMFILE) {
			t.Errorf("Serve reported %v, want EMFILE", err)
		}
	default:
		t.Errorf("Serve reported nothing, want the EMFILE")
	}
}

// nilListener accepts nil streams without an error: a broken listener.
type nilListener struct{ *memstream.Listener }

func (nilListener) Accept(context.Context) (streams.ByteStream, error) { return nil, nil }

func TestListenerNilAccept(t *testing.T) {
	scfg, _ := configs(t)
	tl := tlsstream.NewListener(nilListener{memstream.Listen()}, scfg)
	defer tl.Close()
	if _, err := tl.Accept(testContext(t)); err == nil || !strings.Contains(err.Error(), "nil stream") {
		t.Fatalf("Accept over a listener that accepts nil: %v, want an error saying so", err)
	}
}
