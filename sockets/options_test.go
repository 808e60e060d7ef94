package sockets_test

import (
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/tether-go/tether/sockets"
	"github.com/tether-go/tether/streams"
)

// sockopt reads an integer socket option of s.
func sockopt(t *testing.T, s any, level, opt int) int {
	t.Helper()
	raw, ok := streams.Extra(s, sockets.RawConn)
	if !ok {
		t.Fatal("RawConn missing")
	}
	var v int
	var err error
	raw.Control(func(fd uintptr) { v, err = syscall.GetsockoptInt(int(fd), level, opt) })
	if err != nil {
		t.Fatalf("getsockopt(%d, %d): %v", level, opt, err)
	}
	return v
}

func TestStreamOptions(t *testing.T) {
	l := listenTCP4(t, sockets.Linger(0), sockets.ReceiveBufferSize(128<<10))
	tests := []struct {
		name  string
		opts  []sockets.Option
		check func(t *testing.T, client, server *sockets.SocketStream)
	}{
		{"keep-alive period", []sockets.Option{sockets.KeepAlive(42 * time.Second)}, func(t *testing.T, c, _ *sockets.SocketStream) {
			if got := sockopt(t, c, syscall.SOL_SOCKET, syscall.SO_KEEPALIVE); got != 1 {
				t.Errorf("SO_KEEPALIVE = %d, want 1", got)
			}
			if got := sockopt(t, c, syscall.IPPROTO_TCP, syscall.TCP_KEEPIDLE); got != 42 {
				t.Errorf("TCP_KEEPIDLE = %d, want 42", got)
			}
		}},
		{"keep-alive off", []sockets.Option{sockets.KeepAlive(-1)}, func(t *testing.T, c, _ *sockets.SocketStream) {
			if got := sockopt(t, c, syscall.SOL_SOCKET, syscall.SO_KEEPALIVE); got != 0 {
				t.Errorf("SO_KEEPALIVE = %d, want 0", got)
			}
		}},
		{"buffer sizes", []sockets.Option{sockets.ReceiveBufferSize(96 << 10), sockets.SendBufferSize(80 << 10)}, func(t *testing.T, c, s *sockets.SocketStream) {
			// Linux doubles what it is given, for its bookkeeping.
			if got := sockopt(t, c, syscall.SOL_SOCKET, syscall.SO_RCVBUF); got < 96<<10 {
				t.Errorf("SO_RCVBUF = %d, want at least %d", got, 96<<10)
			}
			if got := sockopt(t, c, syscall.SOL_SOCKET, syscall.SO_SNDBUF); got < 80<<10 {
				t.Errorf("SO_SNDBUF = %d, want at least %d", got, 80<<10)
			}
			if got := sockopt(t, s, syscall.SOL_SOCKET, syscall.SO_RCVBUF); got < 128<<10 {
				t.Errorf("accepted stream's SO_RCVBUF = %d, want at least %d (the listener's)", got, 128<<10)
			}
		}},
		{"linger on accepted streams", nil, func(t *testing.T, _, s *sockets.SocketStream) {
			raw, _ := streams.Extra(s, sockets.RawConn)
			var lg *unix.Linger
			raw.Control(func(fd uintptr) { lg, _ = unix.GetsockoptLinger(int(fd), unix.SOL_SOCKET, unix.SO_LINGER) })
			if lg == nil || lg.Onoff != 1 || lg.Linger != 0 {
				t.Errorf("SO_LINGER = %+v, want on, 0 s", lg)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			accepted := acceptOne(t.Context(), l.Accept)
			c, err := sockets.ConnectTCP(t.Context(), "127.0.0.1", l.Port(), tt.opts...)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			s := <-accepted
			if s == nil {
				t.Fatal("Accept failed")
			}
			defer s.Close()
			tt.check(t, c, s)
		})
	}
}

func TestZeroOptionDoesNothing(t *testing.T) {
	l := listenTCP4(t, sockets.Option{}, sockets.LocalHost(""), sockets.ReusePort(false), sockets.Resolver(nil))
	accepted := acceptOne(t.Context(), l.Accept)
	c, err := sockets.ConnectTCP(t.Context(), "127.0.0.1", l.Port(), sockets.Option{})
	if err != nil {
		t.Fatalf("ConnectTCP with a zero Option: %v", err)
	}
	c.Close()
	if s := <-accepted; s != nil {
		s.Close()
	}
}

// TestLocalPathRefusedByIPSockets: LocalPath is a UNIX socket's; an IP
// socket's constructor given it says so by its name (it used to be stored
// as LocalHost, and ConnectTCP complained about a LocalHost never given).
func TestLocalPathRefusedByIPSockets(t *testing.T) {
	ctx := t.Context()
	opt := sockets.LocalPath("/tmp/x.sock")
	tests := []struct {
		name string
		call func() error
	}{
		{"ConnectTCP", func() error { _, err := sockets.ConnectTCP(ctx, "127.0.0.1", 9, opt); return err }},
		{"ListenTCP", func() error { _, err := sockets.ListenTCP(opt); return err }},
		{"ConnectUDP", func() error { _, err := sockets.ConnectUDP(ctx, "127.0.0.1", 9, opt); return err }},
		{"ListenUDP", func() error { _, err := sockets.ListenUDP(opt); return err }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			want := "sockets: " + tt.name + ": option LocalPath"
			if err == nil || !strings.HasPrefix(err.Error(), want) {
				t.Errorf("got %v, want an error beginning %q", err, want)
			}
		})
	}
}
