package streams_test

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tether-go/tether/cancel"
	"github.com/tether-go/tether/streams"
)

// pipe returns the two ends of a net.Pipe as streams, closed at the end
// of the test.
func pipe(t *testing.T) (*streams.ConnStream, *streams.ConnStream) {
	a, b := net.Pipe()
	sa, sb := streams.FromConn(a), streams.FromConn(b)
	t.Cleanup(func() {
		sa.Close()
		sb.Close()
	})
	return sa, sb
}

// receiveString receives once and returns what came.
func receiveString(ctx context.Context, s streams.ByteReceiver) (string, error) {
	buf := make([]byte, 64)
	n, err := s.Receive(ctx, buf)
	return string(buf[:n]), err
}

func TestFromConnRoundTrip(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := t.Context()
		a, b := pipe(t)
		errc := make(chan error, 1)
		go func() { errc <- a.Send(ctx, []byte("hello")) }()
		if got, err := receiveString(ctx, b); err != nil || got != "hello" {
			t.Fatalf("Receive = %q, %v; want %q, nil", got, err, "hello")
		}
		if err := <-errc; err != nil {
			t.Fatalf("Send = %v, want nil", err)
		}
		if _, err := b.Receive(ctx, nil); !errors.Is(err, io.ErrShortBuffer) {
			t.Errorf("Receive(empty) = %v, want an io.ErrShortBuffer error", err)
		}
		if err := a.Send(ctx, nil); err != nil {
			t.Errorf("Send(empty) = %v, want nil", err)
		}
		a.Close()
		if _, err := receiveString(ctx, b); err != streams.ErrEndOfStream {
			t.Errorf("Receive after the peer closed = %v, want ErrEndOfStream", err)
		}
		if err := b.Send(ctx, []byte("x")); !errors.Is(err, streams.ErrBroken) || !errors.Is(err, io.ErrClosedPipe) {
			t.Errorf("Send after the peer closed = %v, want ErrBroken wrapping io.ErrClosedPipe", err)
		}
		if b.NetConn() == nil {
			t.Errorf("NetConn() = nil, want the pipe")
		}
	})
}

func TestFromConnCancelReceive(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b := pipe(t)
		for i := range 3 {
			ctx, cancelFn := context.WithCancelCause(t.Context())
			errc := make(chan error, 1)
			go func() {
				_, err := receiveString(ctx, b)
				errc <- err
			}()
			synctest.Wait()
			why := errors.New("enough")
			cancelFn(why)
			if err := <-errc; !cancel.IsCancelled(err) || !errors.Is(err, why) {
				t.Fatalf("round %d: cancelled Receive = %v, want a cancellation with its cause", i, err)
			}
			// The deadline set to interrupt the read is gone: the next
			// Receive waits for data as usual.
			go func() { errc <- a.Send(t.Context(), []byte("data")) }()
			ctx2, cancel2 := context.WithCancel(t.Context())
			got, err := receiveString(ctx2, b)
			cancel2()
			if err != nil || got != "data" {
				t.Fatalf("round %d: Receive after a cancel = %q, %v; want %q, nil", i, got, err, "data")
			}
			if err := <-errc; err != nil {
				t.Fatalf("round %d: Send = %v, want nil", i, err)
			}
		}
	})
}

func TestFromConnCancelSend(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b := pipe(t)
		ctx, cancelFn := context.WithCancel(t.Context())
		errc := make(chan error, 1)
		go func() { errc <- a.Send(ctx, []byte("nobody reads this")) }()
		synctest.Wait()
		cancelFn()
		if err := <-errc; !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled Send = %v, want context.Canceled", err)
		}
		go func() { errc <- a.Send(t.Context(), []byte("again")) }()
		if got, err := receiveString(t.Context(), b); err != nil || got != "again" {
			t.Errorf("Receive = %q, %v; want %q, nil", got, err, "again")
		}
		if err := <-errc; err != nil {
			t.Errorf("Send after a cancel = %v, want nil", err)
		}
		done, cancelDone := context.WithCancel(t.Context())
		cancelDone()
		if err := a.Send(done, []byte("x")); !errors.Is(err, context.Canceled) {
			t.Errorf("Send with a done context = %v, want context.Canceled", err)
		}
		if _, err := a.Receive(done, make([]byte, 1)); !errors.Is(err, context.Canceled) {
			t.Errorf("Receive with a done context = %v, want context.Canceled", err)
		}
	})
}

func TestFromConnBusyAndClose(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := t.Context()
		a, _ := pipe(t)
		recvErr, sendErr := make(chan error, 1), make(chan error, 1)
		go func() {
			_, err := receiveString(ctx, a)
			recvErr <- err
		}()
		go func() { sendErr <- a.Send(ctx, []byte("blocked")) }()
		synctest.Wait()
		if _, err := receiveString(ctx, a); err != streams.ErrBusy {
			t.Errorf("concurrent Receive = %v, want ErrBusy", err)
		}
		if err := a.Send(ctx, []byte("x")); err != streams.ErrBusy {
			t.Errorf("concurrent Send = %v, want ErrBusy", err)
		}
		if err := a.SendEOF(ctx); err != streams.ErrBusy {
			t.Errorf("SendEOF during a Send = %v, want ErrBusy", err)
		}
		if err := a.Close(); err != nil {
			t.Fatalf("Close = %v, want nil", err)
		}
		if err := <-recvErr; !errors.Is(err, streams.ErrClosed) || !errors.Is(err, net.ErrClosed) {
			t.Errorf("blocked Receive after Close = %v, want ErrClosed", err)
		}
		if err := <-sendErr; !errors.Is(err, streams.ErrClosed) {
			t.Errorf("blocked Send after Close = %v, want ErrClosed", err)
		}
		if _, err := receiveString(ctx, a); !errors.Is(err, streams.ErrClosed) {
			t.Errorf("Receive after Close = %v, want ErrClosed", err)
		}
		if err := a.Send(ctx, []byte("x")); !errors.Is(err, streams.ErrClosed) {
			t.Errorf("Send after Close = %v, want ErrClosed", err)
		}
		if err := a.SendEOF(ctx); !errors.Is(err, streams.ErrClosed) {
			t.Errorf("SendEOF after Close = %v, want ErrClosed", err)
		}
		if err := a.Close(); err != nil {
			t.Errorf("second Close = %v, want nil", err)
		}
	})
}

// scriptedConn is a net.Conn whose Read and Write return what the test
// says, and which records deadlines and half-closes.
type scriptedConn struct {
	net.Conn // nil: methods not overridden panic
	readN    int
	readErr  error
	writeErr error

	mu         sync.Mutex
	deadlines  int
	closeWrite int
}

func (c *scriptedConn) Read(p []byte) (int, error) { return c.readN, c.readErr }

func (c *scriptedConn) Write(p []byte) (int, error) {
	if c.writeErr != nil {
		return 0, c.writeErr
	}
	return len(p), nil
}

func (c *scriptedConn) SetReadDeadline(time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.deadlines++
	return nil
}

func (c *scriptedConn) SetWriteDeadline(t time.Time) error { return c.SetReadDeadline(t) }
func (c *scriptedConn) Close() error                       { return nil }

type halfClosable struct{ *scriptedConn }

func (c halfClosable) CloseWrite() error {
	c.closeWrite++
	return nil
}

func TestFromConnBroken(t *testing.T) {
	reset := &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)}
	pipeErr := &net.OpError{Op: "write", Net: "tcp", Err: os.NewSyscallError("write", syscall.EPIPE)}
	ctx := context.Background()
	s := streams.FromConn(&scriptedConn{readErr: reset, writeErr: pipeErr})
	if _, err := s.Receive(ctx, make([]byte, 8)); !errors.Is(err, streams.ErrBroken) || !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("Receive on a reset connection = %v, want ErrBroken and ECONNRESET", err)
	}
	if err := s.Send(ctx, []byte("x")); !errors.Is(err, streams.ErrBroken) || !errors.Is(err, syscall.EPIPE) {
		t.Errorf("Send on a broken pipe = %v, want ErrBroken and EPIPE", err)
	}
}

func TestFromConnDataWithError(t *testing.T) {
	ctx := context.Background()
	c := &scriptedConn{readN: 3, readErr: io.EOF}
	s := streams.FromConn(c)
	if n, err := s.Receive(ctx, make([]byte, 8)); n != 3 || err != nil {
		t.Fatalf("Receive = %d, %v; want 3, nil (the error later)", n, err)
	}
	c.readN = 0
	if n, err := s.Receive(ctx, make([]byte, 8)); n != 0 || err != streams.ErrEndOfStream {
		t.Errorf("next Receive = %d, %v; want 0, ErrEndOfStream", n, err)
	}
}

func TestFromConnSendEOF(t *testing.T) {
	ctx := context.Background()
	a, _ := pipe(t)
	if err := a.SendEOF(ctx); !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("SendEOF on net.Pipe = %v, want errors.ErrUnsupported", err)
	}
	if err := a.Send(ctx, nil); err != nil {
		t.Errorf("Send after an unsupported SendEOF = %v, want nil", err)
	}

	c := halfClosable{&scriptedConn{readErr: io.EOF}}
	s := streams.FromConn(c)
	for i := range 2 {
		if err := s.SendEOF(ctx); err != nil {
			t.Fatalf("SendEOF #%d = %v, want nil", i+1, err)
		}
	}
	if c.closeWrite != 1 {
		t.Errorf("CloseWrite called %d times, want 1", c.closeWrite)
	}
	if err := s.Send(ctx, []byte("x")); !errors.Is(err, streams.ErrClosed) {
		t.Errorf("Send after SendEOF = %v, want ErrClosed", err)
	}
	if _, err := s.Receive(ctx, make([]byte, 1)); err != streams.ErrEndOfStream {
		t.Errorf("Receive after SendEOF = %v, want the conn's ErrEndOfStream", err)
	}
}

func TestFromConnNoCostWithoutDone(t *testing.T) {
	c := &scriptedConn{readN: 1}
	s := streams.FromConn(c)
	buf := make([]byte, 1)
	allocs := testing.AllocsPerRun(100, func() {
		s.Receive(context.Background(), buf)
		s.Send(context.Background(), buf)
	})
	if allocs != 0 {
		t.Errorf("Receive and Send with context.Background allocate %v times, want 0", allocs)
	}
	ctx, cancelFn := context.WithCancel(context.Background())
	defer cancelFn()
	s.Receive(ctx, buf)
	if c.deadlines != 0 {
		t.Errorf("a context that was not cancelled set %d deadlines, want 0", c.deadlines)
	}
}

func TestFromConnNilPanics(t *testing.T) {
	wantPanic(t, func() { streams.FromConn(nil) })
}

func TestFromConnContextKeptBetweenCalls(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b := pipe(t)
		send := func(s string) chan error {
			errc := make(chan error, 1)
			go func() { errc <- a.Send(t.Context(), []byte(s)) }()
			return errc
		}
		ctx1, cancel1 := context.WithCancel(t.Context())
		errc := send("one")
		if got, err := receiveString(ctx1, b); err != nil || got != "one" {
			t.Fatalf("Receive = %q, %v; want %q, nil", got, err, "one")
		}
		<-errc

		// ctx1 ends while no call runs: its registration fires, and the
		// next call with ctx1 fails, but one with another context works.
		cancel1()
		synctest.Wait()
		if _, err := receiveString(ctx1, b); !errors.Is(err, context.Canceled) {
			t.Fatalf("Receive with the ended context = %v, want context.Canceled", err)
		}
		ctx2, cancel2 := context.WithCancel(t.Context())
		defer cancel2()
		errc = send("two")
		if got, err := receiveString(ctx2, b); err != nil || got != "two" {
			t.Fatalf("Receive with a new context = %q, %v; want %q, nil", got, err, "two")
		}
		<-errc

		// A call with another context drops ctx2's registration: ending
		// ctx2 then does not interrupt it.
		done := make(chan string, 1)
		go func() {
			got, _ := receiveString(context.Background(), b)
			done <- got
		}()
		synctest.Wait()
		cancel2()
		synctest.Wait()
		select {
		case got := <-done:
			t.Fatalf("Receive(Background) returned %q when an earlier context ended, want it still blocked", got)
		default:
		}
		send("three")
		if got := <-done; got != "three" {
			t.Errorf("Receive(Background) = %q, want %q", got, "three")
		}
	})
}

func TestFromConnCloseDropsContext(t *testing.T) {
	tests := []struct {
		name          string
		close         bool
		wantDeadlines int
	}{
		{"open stream keeps the registration", false, 1},
		{"Close drops it", true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c := &scriptedConn{readN: 1}
				s := streams.FromConn(c)
				ctx, cancelFn := context.WithCancel(t.Context())
				if _, err := s.Receive(ctx, make([]byte, 1)); err != nil {
					t.Fatalf("Receive = %v, want nil", err)
				}
				if tt.close {
					s.Close()
				}
				cancelFn()
				synctest.Wait()
				c.mu.Lock()
				defer c.mu.Unlock()
				if c.deadlines != tt.wantDeadlines {
					t.Errorf("the ended context set %d deadlines, want %d", c.deadlines, tt.wantDeadlines)
				}
			})
		})
	}
}

func TestFromConnAddresses(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	s := streams.FromConn(c)
	defer s.Close()
	peer, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	tests := []struct {
		name string
		key  streams.Attr[net.Addr]
		want net.Addr
	}{
		{"local", streams.LocalAddr, c.LocalAddr()},
		{"remote", streams.RemoteAddr, l.Addr()},
	}
	for _, tt := range tests {
		got, ok := streams.Extra(s, tt.key)
		if !ok || got.String() != tt.want.String() {
			t.Errorf("%s: Extra = %v, %v; want %v, true", tt.name, got, ok, tt.want)
		}
	}
	if got := s.RemoteAddr().String(); got != l.Addr().String() {
		t.Errorf("RemoteAddr() = %s, want %s", got, l.Addr())
	}
	if got := streams.AsConn(s).LocalAddr().String(); got != c.LocalAddr().String() {
		t.Errorf("AsConn(s).LocalAddr() = %s, want %s", got, c.LocalAddr())
	}
	if _, ok := streams.Extra(s, streams.NewAttr[int]("other")); ok {
		t.Errorf("Extra(other key) reported ok, want false")
	}
}

func TestFromConnReusedContextAllocatesNothing(t *testing.T) {
	c := &scriptedConn{readN: 1}
	s := streams.FromConn(c)
	ctx, cancelFn := context.WithCancel(context.Background())
	defer cancelFn()
	buf := make([]byte, 1)
	s.Receive(ctx, buf) // the first call registers with ctx
	s.Send(ctx, buf)
	allocs := testing.AllocsPerRun(100, func() {
		s.Receive(ctx, buf)
		s.Send(ctx, buf)
	})
	if allocs != 0 {
		t.Errorf("Receive and Send with a reused cancellable ctx allocate %v times, want 0", allocs)
	}
}

// attrConn is a net.Conn with an attribute of its own.
type attrConn struct {
	net.Conn
	key streams.Attr[string]
}

func (c attrConn) Attribute(key any) (any, bool) {
	if key == c.key {
		return "from the conn", true
	}
	return nil, false
}

// TestFromConnUnwrap: Extra reaches the conn under a ConnStream through
// its Unwrap, for what the stream itself does not answer.
func TestFromConnUnwrap(t *testing.T) {
	key := streams.NewAttr[string]("conn's own")
	a, b := net.Pipe()
	defer b.Close()
	c := attrConn{a, key}
	s := streams.FromConn(c)
	defer s.Close()
	if got := s.Unwrap(); got != net.Conn(c) {
		t.Errorf("Unwrap() = %v, want the conn given to FromConn", got)
	}
	if got, ok := streams.Extra(s, key); !ok || got != "from the conn" {
		t.Errorf("Extra(s, the conn's key) = %q, %v; want %q, true", got, ok, "from the conn")
	}
	// The stream's own answers still come first.
	if got, ok := streams.Extra(s, streams.LocalAddr); !ok || got != a.LocalAddr() {
		t.Errorf("Extra(s, LocalAddr) = %v, %v; want %v, true", got, ok, a.LocalAddr())
	}
}
