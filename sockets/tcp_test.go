package sockets_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/tether-go/tether/sockets"
	"github.com/tether-go/tether/streams"
)

func TestTCPAttributes(t *testing.T) {
	client, server := tcpPair(t)
	cport := client.LocalAddr().(*net.TCPAddr).Port
	sport := server.LocalAddr().(*net.TCPAddr).Port
	if got, _ := streams.Extra(client, sockets.RemotePort); got != sport {
		t.Errorf("client RemotePort = %d, want %d", got, sport)
	}
	if got, _ := streams.Extra(client, sockets.LocalPort); got != cport {
		t.Errorf("client LocalPort = %d, want %d", got, cport)
	}
	if got, _ := streams.Extra(server, sockets.RemotePort); got != cport {
		t.Errorf("server RemotePort = %d, want %d", got, cport)
	}
	if got, _ := streams.Extra(client, sockets.Family); got != syscall.AF_INET {
		t.Errorf("Family = %d, want AF_INET (%d)", got, syscall.AF_INET)
	}
	if got, ok := streams.Extra(client, sockets.LocalAddr); !ok || got.String() != client.LocalAddr().String() {
		t.Errorf("LocalAddr = %v, %v; want %v, true", got, ok, client.LocalAddr())
	}
	if got, ok := streams.Extra(server, sockets.RemoteAddr); !ok || got.String() != client.LocalAddr().String() {
		t.Errorf("server RemoteAddr = %v, %v; want %v, true", got, ok, client.LocalAddr())
	}
	raw, ok := streams.Extra(client, sockets.RawConn)
	if !ok {
		t.Fatal("RawConn missing")
	}
	var nodelay int
	raw.Control(func(fd uintptr) {
		nodelay, _ = syscall.GetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_NODELAY)
	})
	if nodelay == 0 {
		t.Errorf("TCP_NODELAY = 0, want set")
	}
	// Through AsConn, which net/http and crypto/tls see.
	if got := streams.AsConn(client).RemoteAddr().String(); got != server.LocalAddr().String() {
		t.Errorf("AsConn(client).RemoteAddr() = %s, want %s", got, server.LocalAddr())
	}
}

func TestTCPListenerAttributes(t *testing.T) {
	l := listenTCP4(t)
	if got, _ := streams.Extra(l, sockets.LocalPort); got != l.Port() || got == 0 {
		t.Errorf("LocalPort = %d, want %d (not 0)", got, l.Port())
	}
	if got, _ := streams.Extra(l, sockets.Family); got != syscall.AF_INET {
		t.Errorf("Family = %d, want AF_INET", got)
	}
	if _, ok := streams.Extra(l, sockets.RemoteAddr); ok {
		t.Errorf("a listener answered RemoteAddr, want no answer")
	}
	if _, ok := streams.Extra(l, sockets.RawConn); !ok {
		t.Errorf("a listener did not answer RawConn")
	}
}

// TestTCPLargeTransfer sends 4 MiB each way at once (AnyIO's
// test_send_large_buffer, both ways).
func TestTCPLargeTransfer(t *testing.T) {
	client, server := tcpPair(t)
	ctx := t.Context()
	data := bytes.Repeat([]byte("0123456789abcdef"), 1<<18)
	errc := make(chan error, 2)
	go func() { errc <- client.Send(ctx, data) }()
	go func() { errc <- server.Send(ctx, data) }()
	for _, s := range []*sockets.SocketStream{server, client} {
		got := make([]byte, 0, len(data))
		buf := make([]byte, 64<<10)
		for len(got) < len(data) {
			n, err := s.Receive(ctx, buf)
			if err != nil {
				t.Fatalf("Receive after %d bytes: %v", len(got), err)
			}
			got = append(got, buf[:n]...)
		}
		if !bytes.Equal(got, data) {
			t.Fatalf("received %d bytes that differ from the %d sent", len(got), len(data))
		}
	}
	for range 2 {
		if err := <-errc; err != nil {
			t.Fatalf("Send = %v, want nil", err)
		}
	}
}

// TestTCPHalfClose: each side half-closes, reads to the end, and can
// still send (AnyIO's test_send_eof, both ways).
func TestTCPHalfClose(t *testing.T) {
	tests := []struct {
		name string
		from func(c, s *sockets.SocketStream) (closer, other *sockets.SocketStream)
	}{
		{"client", func(c, s *sockets.SocketStream) (*sockets.SocketStream, *sockets.SocketStream) { return c, s }},
		{"server", func(c, s *sockets.SocketStream) (*sockets.SocketStream, *sockets.SocketStream) { return s, c }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := t.Context()
			closer, other := tt.from(tcpPair(t))
			if err := closer.Send(ctx, []byte("hello")); err != nil {
				t.Fatal(err)
			}
			if err := closer.SendEOF(ctx); err != nil {
				t.Fatalf("SendEOF = %v, want nil", err)
			}
			if err := closer.SendEOF(ctx); err != nil {
				t.Fatalf("second SendEOF = %v, want nil", err)
			}
			got, err := readAll(ctx, other)
			if err != nil || string(got) != "hello" {
				t.Fatalf("read to the end = %q, %v; want %q, nil", got, err, "hello")
			}
			if err := closer.Send(ctx, []byte("x")); !errors.Is(err, streams.ErrClosed) {
				t.Errorf("Send after SendEOF = %v, want ErrClosed", err)
			}
			if err := other.Send(ctx, []byte("reply")); err != nil {
				t.Fatalf("Send from the other side = %v, want nil", err)
			}
			other.SendEOF(ctx)
			got, err = readAll(ctx, closer)
			if err != nil || string(got) != "reply" {
				t.Fatalf("the half-closed side read %q, %v; want %q, nil", got, err, "reply")
			}
		})
	}
}

// readAll receives until the end of the stream, AnyIO's "iterate until
// EOF".
func readAll(ctx context.Context, s streams.ByteReceiver) ([]byte, error) {
	var got []byte
	buf := make([]byte, 3)
	for {
		n, err := s.Receive(ctx, buf)
		got = append(got, buf[:n]...)
		if err == io.EOF {
			return got, nil
		}
		if err != nil {
			return got, err
		}
	}
}

// TestTCPReceiveTimeout: a Receive whose deadline passes returns
// DeadlineExceeded, consumes nothing, and the stream still works.
func TestTCPReceiveTimeout(t *testing.T) {
	client, server := tcpPair(t)
	ctx, cancelFn := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancelFn()
	buf := make([]byte, 8)
	if _, err := server.Receive(ctx, buf); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Receive past its deadline = %v, want context.DeadlineExceeded", err)
	}
	if err := client.Send(t.Context(), []byte("after")); err != nil {
		t.Fatal(err)
	}
	n, err := server.Receive(t.Context(), buf)
	if err != nil || string(buf[:n]) != "after" {
		t.Fatalf("Receive after the timeout = %q, %v; want %q, nil", buf[:n], err, "after")
	}
}

// TestTCPCancelCause: the cancellation error carries the context's
// cause.
func TestTCPCancelCause(t *testing.T) {
	_, server := tcpPair(t)
	ctx, cancelFn := context.WithCancelCause(t.Context())
	why := errors.New("shutting down")
	errc := make(chan error, 1)
	go func() {
		_, err := server.Receive(ctx, make([]byte, 1))
		errc <- err
	}()
	cancelFn(why)
	if err := <-errc; !errors.Is(err, context.Canceled) || !errors.Is(err, why) {
		t.Fatalf("cancelled Receive = %v, want context.Canceled and the cause", err)
	}
}

func TestTCPBusy(t *testing.T) {
	client, server := tcpPair(t)
	tests := []struct {
		name string
		hold func(ctx context.Context) error // blocks until ctx is done
		try  func(ctx context.Context) error
	}{
		{"Receive", func(ctx context.Context) error {
			_, err := server.Receive(ctx, make([]byte, 1))
			return err
		}, func(ctx context.Context) error {
			_, err := server.Receive(ctx, make([]byte, 1))
			return err
		}},
		{"Send", func(ctx context.Context) error {
			return client.Send(ctx, make([]byte, 64<<20)) // more than the buffers hold
		}, func(ctx context.Context) error { return client.Send(ctx, []byte("x")) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancelFn := context.WithCancel(t.Context())
			done := make(chan error, 1)
			go func() {
				for { // the probe below may hold the side for a moment
					if err := tt.hold(ctx); !errors.Is(err, streams.ErrBusy) {
						done <- err
						return
					}
				}
			}()
			// A call with a done ctx claims the side before it looks at
			// ctx: ErrBusy once the first call holds it, else Canceled
			// at once (and nothing consumed or sent): retry until busy.
			dead, cancelDead := context.WithCancel(t.Context())
			cancelDead()
			for start := time.Now(); time.Since(start) < 10*time.Second; {
				err := tt.try(dead)
				if errors.Is(err, streams.ErrBusy) {
					break
				}
				if !errors.Is(err, context.Canceled) {
					t.Fatalf("second %s = %v, want ErrBusy", tt.name, err)
				}
				runtime.Gosched()
			}
			if err := tt.try(dead); !errors.Is(err, streams.ErrBusy) {
				t.Fatalf("second %s = %v after 10 s, want ErrBusy", tt.name, err)
			}
			cancelFn()
			if err := <-done; !errors.Is(err, context.Canceled) {
				t.Fatalf("first %s = %v, want context.Canceled", tt.name, err)
			}
		})
	}
}

// TestTCPCloseWakes: our own Close wakes a blocked Receive and a blocked
// Send with ErrClosed, and later calls get ErrClosed too.
func TestTCPCloseWakes(t *testing.T) {
	client, server := tcpPair(t)
	ctx := t.Context()
	recv := make(chan error, 1)
	go func() {
		_, err := server.Receive(ctx, make([]byte, 1))
		recv <- err
	}()
	send := make(chan error, 1)
	go func() { // fills the buffers, then blocks
		big := make([]byte, 64<<20)
		send <- client.Send(ctx, big)
	}()
	server.Close()
	client.Close()
	if err := <-recv; !errors.Is(err, streams.ErrClosed) {
		t.Errorf("Receive woken by Close = %v, want ErrClosed", err)
	}
	if err := <-send; !errors.Is(err, streams.ErrClosed) {
		t.Errorf("Send woken by Close = %v, want ErrClosed", err)
	}
	if _, err := server.Receive(ctx, make([]byte, 1)); !errors.Is(err, streams.ErrClosed) {
		t.Errorf("Receive after Close = %v, want ErrClosed", err)
	}
	if err := server.Send(ctx, []byte("x")); !errors.Is(err, streams.ErrClosed) {
		t.Errorf("Send after Close = %v, want ErrClosed", err)
	}
	if err := server.Close(); err != nil {
		t.Errorf("second Close = %v, want nil", err)
	}
}

func TestTCPPeerClose(t *testing.T) {
	client, server := tcpPair(t)
	ctx := t.Context()
	client.Close()
	if _, err := server.Receive(ctx, make([]byte, 1)); err != io.EOF {
		t.Fatalf("Receive after the peer closed = %v, want io.EOF", err)
	}
	// The first Send after the peer's close may succeed (the kernel
	// takes it, the peer answers with a reset); one of the next fails.
	var err error
	for range 100_000 { // bounded; on loopback the reset is back at once
		if err = server.Send(ctx, []byte("x")); err != nil {
			break
		}
		runtime.Gosched()
	}
	if !errors.Is(err, streams.ErrBroken) || !(errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNRESET)) {
		t.Fatalf("Send after the peer closed = %v, want ErrBroken with EPIPE or ECONNRESET", err)
	}
}

// TestTCPReset: a peer that closes with SO_LINGER 0 resets the
// connection: ErrBroken with ECONNRESET reachable.
func TestTCPReset(t *testing.T) {
	l := listenTCP4(t)
	accepted := acceptOne(t.Context(), l.Accept)
	client, err := sockets.ConnectTCP(t.Context(), "127.0.0.1", l.Port(), sockets.Linger(0))
	if err != nil {
		t.Fatal(err)
	}
	server := <-accepted
	defer server.Close()
	client.Close()
	if _, err := server.Receive(t.Context(), make([]byte, 1)); !errors.Is(err, streams.ErrBroken) || !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("Receive after a reset = %v, want ErrBroken and ECONNRESET", err)
	}
}

func TestTCPRefused(t *testing.T) {
	l := listenTCP4(t)
	port := l.Port()
	l.Close()
	_, err := sockets.ConnectTCP(t.Context(), "127.0.0.1", port)
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("ConnectTCP to a closed port = %v, want ECONNREFUSED reachable", err)
	}
	var ce *sockets.ConnectError
	if !errors.As(err, &ce) || len(ce.Attempts) != 1 || ce.Port != port {
		t.Fatalf("ConnectTCP error = %#v, want a *ConnectError with one attempt on port %d", err, port)
	}
}

func TestTCPBadInput(t *testing.T) {
	ctx := t.Context()
	tests := []struct {
		name string
		host string
		port int
		opts []sockets.Option
	}{
		{"empty host", "", 80, nil},
		{"port zero", "127.0.0.1", 0, nil},
		{"port too large", "127.0.0.1", 65536, nil},
		{"negative port", "127.0.0.1", -1, nil},
		{"host that does not resolve", "no-such-host.invalid", 80, []sockets.Option{sockets.Resolver(localhost())}},
		{"bad LocalHost", "127.0.0.1", 80, []sockets.Option{sockets.LocalHost("not an address")}},
		{"Port out of range", "127.0.0.1", 80, []sockets.Option{sockets.Port(70000)}},
		{"bad IPFamily", "127.0.0.1", 80, []sockets.Option{sockets.IPFamily(12345)}},
		{"negative delay", "127.0.0.1", 80, []sockets.Option{sockets.HappyEyeballsDelay(-1)}},
		{"negative buffer", "127.0.0.1", 80, []sockets.Option{sockets.ReceiveBufferSize(-1)}},
		{"family excludes literal", "127.0.0.1", 80, []sockets.Option{sockets.IPFamily(syscall.AF_INET6)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := sockets.ConnectTCP(ctx, tt.host, tt.port, tt.opts...)
			if err == nil {
				s.Close()
				t.Fatalf("ConnectTCP(%q, %d) = nil error, want one", tt.host, tt.port)
			}
			t.Logf("error (as a user sees it): %v", err)
		})
	}
	listenTests := []struct {
		name string
		opts []sockets.Option
	}{
		{"negative Backlog", []sockets.Option{sockets.Backlog(-1)}},
		{"Port out of range", []sockets.Option{sockets.Port(-2)}},
		{"LocalHost that does not resolve", []sockets.Option{sockets.LocalHost("no-such-host.invalid"), sockets.Resolver(localhost())}},
		{"bad Mode", []sockets.Option{sockets.Mode(0o10000)}},
	}
	for _, tt := range listenTests {
		t.Run("ListenTCP "+tt.name, func(t *testing.T) {
			l, err := sockets.ListenTCP(tt.opts...)
			if err == nil {
				l.Close()
				t.Fatal("ListenTCP = nil error, want one")
			}
			t.Logf("error (as a user sees it): %v", err)
		})
	}
}

func TestTCPPortInUse(t *testing.T) {
	l := listenTCP4(t)
	_, err := sockets.ListenTCP(sockets.LocalHost("127.0.0.1"), sockets.Port(l.Port()))
	if !errors.Is(err, syscall.EADDRINUSE) {
		t.Fatalf("ListenTCP on a taken port = %v, want EADDRINUSE reachable", err)
	}
}

func TestListenerClosed(t *testing.T) {
	l := listenTCP4(t)
	errc := make(chan error, 1)
	go func() {
		_, err := l.Accept(t.Context())
		errc <- err
	}()
	l.Close()
	if err := <-errc; !errors.Is(err, net.ErrClosed) || !errors.Is(err, streams.ErrClosed) {
		t.Fatalf("Accept woken by Close = %v, want net.ErrClosed and ErrClosed", err)
	}
	if _, err := l.Accept(t.Context()); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Accept after Close = %v, want net.ErrClosed", err)
	}
}

func TestAcceptCancel(t *testing.T) {
	l := listenTCP4(t)
	ctx, cancelFn := context.WithCancel(t.Context())
	errc := make(chan error, 1)
	go func() {
		_, err := l.Accept(ctx)
		errc <- err
	}()
	cancelFn()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled Accept = %v, want context.Canceled", err)
	}
	// Still usable.
	accepted := acceptOne(t.Context(), l.Accept)
	c, err := sockets.ConnectTCP(t.Context(), "127.0.0.1", l.Port())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s := <-accepted
	if s == nil {
		t.Fatal("Accept after a cancelled one failed")
	}
	s.Close()
}

// TestListenTCPAllFamilies: with no host, one listener per family on one
// port, each accepting.
func TestListenTCPAllFamilies(t *testing.T) {
	l, err := sockets.ListenTCP()
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	hosts := []string{"127.0.0.1"}
	if has6() {
		hosts = append(hosts, "::1")
		if n := len(l.Addrs()); n != 2 {
			t.Fatalf("listeners = %d (%v), want 2", n, l.Addrs())
		}
	}
	for _, a := range l.Addrs() {
		if p := a.(*net.TCPAddr).Port; p != l.Port() {
			t.Errorf("listener %v on port %d, want %d", a, p, l.Port())
		}
	}
	for _, h := range hosts {
		accepted := acceptOne(t.Context(), l.Accept)
		c, err := sockets.ConnectTCP(t.Context(), h, l.Port())
		if err != nil {
			t.Fatalf("ConnectTCP(%s): %v", h, err)
		}
		s := <-accepted
		if s == nil {
			t.Fatalf("Accept of a connection to %s failed", h)
		}
		if got := s.LocalAddr().(*net.TCPAddr).IP.String(); got != h {
			t.Errorf("accepted on %s, want %s", got, h)
		}
		s.Close()
		c.Close()
	}
}

func TestListenTCPReusePort(t *testing.T) {
	l1 := listenTCP4(t, sockets.ReusePort(true))
	l2, err := sockets.ListenTCP(sockets.LocalHost("127.0.0.1"), sockets.Port(l1.Port()), sockets.ReusePort(true))
	if err != nil {
		t.Fatalf("second ListenTCP with ReusePort on port %d: %v", l1.Port(), err)
	}
	l2.Close()
}
