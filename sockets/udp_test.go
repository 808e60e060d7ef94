package sockets_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tether-go/tether/sockets"
	"github.com/tether-go/tether/streams"
	"golang.org/x/sys/unix"
)

// loopbacks are the families the tests run on, with their loopback
// address.
var loopbacks = []struct {
	name   string
	host   string
	family int
}{
	{"ipv4", "127.0.0.1", syscall.AF_INET},
	{"ipv6", "::1", syscall.AF_INET6},
}

// skipNoIPv6 skips a test on a machine where ::1 cannot be bound.
func skipNoIPv6(t *testing.T, family int) {
	t.Helper()
	if family != syscall.AF_INET6 {
		return
	}
	c, err := net.ListenPacket("udp6", "[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	}
	c.Close()
}

// udpOn opens a UDP socket on host (a loopback address), closed at the
// end of the test.
func udpOn(t testing.TB, host string, opts ...sockets.Option) *sockets.UDPSocket {
	t.Helper()
	s, err := sockets.ListenUDP(append([]sockets.Option{sockets.LocalHost(host)}, opts...)...)
	if err != nil {
		t.Fatalf("ListenUDP on %s: %v", host, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// addrOf returns the address a socket is bound to.
func addrOf(t testing.TB, s streams.Attributer) netip.AddrPort {
	t.Helper()
	a, ok := streams.Extra(s, sockets.LocalAddr)
	if !ok {
		t.Fatal("no LocalAddr")
	}
	return a.(*net.UDPAddr).AddrPort()
}

func TestUDPAttributes(t *testing.T) {
	for _, lb := range loopbacks {
		t.Run(lb.name, func(t *testing.T) {
			skipNoIPv6(t, lb.family)
			s := udpOn(t, lb.host)
			raw, ok := streams.Extra(s, sockets.RawConn)
			if !ok {
				t.Fatal("no RawConn")
			}
			var sa unix.Sockaddr
			raw.Control(func(fd uintptr) { sa, _ = unix.Getsockname(int(fd)) })
			var port int
			switch sa := sa.(type) {
			case *unix.SockaddrInet4:
				port = sa.Port
			case *unix.SockaddrInet6:
				port = sa.Port
			}
			local := addrOf(t, s)
			if local.Addr().String() != lb.host || int(local.Port()) != port {
				t.Errorf("LocalAddr: got %v, want %s port %d", local, lb.host, port)
			}
			if got, _ := streams.Extra(s, sockets.LocalPort); got != port {
				t.Errorf("LocalPort: got %d, want %d", got, port)
			}
			if got, _ := streams.Extra(s, sockets.Family); got != lb.family {
				t.Errorf("Family: got %d, want %d", got, lb.family)
			}
			if _, ok := streams.Extra(s, sockets.RemoteAddr); ok {
				t.Error("an unconnected socket has a RemoteAddr")
			}
			if _, ok := streams.Extra(s, sockets.RemotePort); ok {
				t.Error("an unconnected socket has a RemotePort")
			}

			c, err := sockets.ConnectUDP(context.Background(), lb.host, port)
			if err != nil {
				t.Fatalf("ConnectUDP: %v", err)
			}
			defer c.Close()
			remote, _ := streams.Extra(c, sockets.RemoteAddr)
			if got := remote.(*net.UDPAddr).AddrPort(); got != local {
				t.Errorf("connected RemoteAddr: got %v, want %v", got, local)
			}
			if got, _ := streams.Extra(c, sockets.RemotePort); got != port {
				t.Errorf("connected RemotePort: got %d, want %d", got, port)
			}
			if got, _ := streams.Extra(c, sockets.Family); got != lb.family {
				t.Errorf("connected Family: got %d, want %d", got, lb.family)
			}
			if p, _ := streams.Extra(c, sockets.LocalPort); p == 0 {
				t.Error("connected LocalPort is 0")
			}
			if c.LocalAddr() == nil || c.RemoteAddr() == nil || s.LocalAddr() == nil {
				t.Error("an address method returned nil")
			}
		})
	}
}

func TestUDPSendReceive(t *testing.T) {
	for _, lb := range loopbacks {
		t.Run(lb.name, func(t *testing.T) {
			skipNoIPv6(t, lb.family)
			ctx := context.Background()
			s := udpOn(t, lb.host)
			self := addrOf(t, s)
			for _, msg := range []string{"blah", "halb", ""} {
				if err := s.SendTo(ctx, []byte(msg), lb.host, int(self.Port())); err != nil {
					t.Fatalf("SendTo: %v", err)
				}
				buf := make([]byte, 100)
				n, from, err := s.ReceiveFrom(ctx, buf)
				if err != nil {
					t.Fatalf("ReceiveFrom: %v", err)
				}
				if string(buf[:n]) != msg || from != self {
					t.Errorf("got %q from %v, want %q from %v", buf[:n], from, msg, self)
				}
			}
		})
	}
}

// TestUDPDualStack sends from an IPv4 socket to an IPv6 socket that
// takes IPv4 too (bound to the IPv4-mapped loopback address, adopted, as
// Go's net does not bind one): the sender's address comes back as IPv4,
// and answering it works.
func TestUDPDualStack(t *testing.T) {
	skipNoIPv6(t, syscall.AF_INET6)
	ctx := context.Background()
	fd, err := unix.Socket(unix.AF_INET6, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	f := os.NewFile(uintptr(fd), "dual-stack")
	defer f.Close()
	if err := unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, 0); err != nil {
		t.Fatal(err)
	}
	mapped := netip.AddrFrom16(netip.MustParseAddr("::ffff:127.0.0.1").As16())
	if err := unix.Bind(fd, &unix.SockaddrInet6{Addr: mapped.As16()}); err != nil {
		t.Fatal(err)
	}
	sock, err := sockets.AdoptFile(f)
	if err != nil {
		t.Fatalf("AdoptFile: %v", err)
	}
	dual := sock.(*sockets.UDPSocket)
	defer dual.Close()
	if got, _ := streams.Extra(dual, sockets.Family); got != syscall.AF_INET6 {
		t.Errorf("Family: got %d, want AF_INET6", got)
	}
	v4 := udpOn(t, "127.0.0.1")
	port := int(addrOf(t, dual).Port())
	if err := v4.SendTo(ctx, []byte("ping"), "127.0.0.1", port); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 10)
	n, from, err := dual.ReceiveFrom(ctx, buf)
	if err != nil {
		t.Fatal(err)
	}
	if want := addrOf(t, v4); from != want {
		t.Errorf("sender: got %v, want %v (unmapped)", from, want)
	}
	if err := dual.SendTo(ctx, buf[:n], "127.0.0.1", int(from.Port())); err != nil {
		t.Fatalf("answering an IPv4 sender from an IPv6 socket: %v", err)
	}
	if n, _, err := v4.ReceiveFrom(ctx, buf); err != nil || string(buf[:n]) != "ping" {
		t.Errorf("got %q, %v; want %q, nil", buf[:n], err, "ping")
	}
}

func TestUDPPackets(t *testing.T) {
	for _, lb := range loopbacks {
		t.Run(lb.name, func(t *testing.T) {
			skipNoIPv6(t, lb.family)
			server := udpOn(t, lb.host)
			client := udpOn(t, lb.host)
			srv := addrOf(t, server)
			ctx, cancel := context.WithCancel(context.Background())
			served := make(chan error, 1)
			go func() {
				var kept []Packet
				for p, err := range server.Packets(ctx) {
					if err != nil {
						served <- err
						return
					}
					kept = append(kept, p)
					rev := bytes.Clone(p.Data)
					for i, j := 0, len(rev)-1; i < j; i, j = i+1, j-1 {
						rev[i], rev[j] = rev[j], rev[i]
					}
					if err := server.SendToAddr(ctx, rev, p.Addr); err != nil {
						served <- err
						return
					}
				}
				served <- errors.New("Packets ended without an error")
			}()
			buf := make([]byte, 100)
			for _, tt := range []struct{ send, want string }{{"FOOBAR", "RABOOF"}, {"123456", "654321"}} {
				if err := client.SendTo(ctx, []byte(tt.send), lb.host, int(srv.Port())); err != nil {
					t.Fatal(err)
				}
				n, from, err := client.ReceiveFrom(ctx, buf)
				if err != nil || string(buf[:n]) != tt.want || from != srv {
					t.Errorf("got %q from %v, %v; want %q from %v", buf[:n], from, err, tt.want, srv)
				}
			}
			cancel()
			if err := <-served; !errors.Is(err, context.Canceled) {
				t.Errorf("Packets after cancel: got %v, want context.Canceled", err)
			}
		})
	}
}

// Packet is sockets.Packet, shorter.
type Packet = sockets.Packet

func TestUDPPacketsBreak(t *testing.T) {
	s := udpOn(t, "127.0.0.1")
	self := addrOf(t, s)
	ctx := context.Background()
	for _, m := range []string{"one", "two"} {
		if err := s.SendToAddr(ctx, []byte(m), self); err != nil {
			t.Fatal(err)
		}
	}
	for p, err := range s.Packets(ctx) {
		if err != nil || string(p.Data) != "one" {
			t.Fatalf("got %q, %v; want %q, nil", p.Data, err, "one")
		}
		break
	}
	// Breaking out left the socket usable and lost nothing else.
	buf := make([]byte, 10)
	if n, _, err := s.ReceiveFrom(ctx, buf); err != nil || string(buf[:n]) != "two" {
		t.Errorf("after break: got %q, %v; want %q, nil", buf[:n], err, "two")
	}
}

// TestUDPOversize receives a datagram into a buffer too small for it: an
// error that says so, never a silent truncation.
func TestUDPOversize(t *testing.T) {
	ctx := context.Background()
	s := udpOn(t, "127.0.0.1")
	self := addrOf(t, s)
	big := bytes.Repeat([]byte("x"), 100)
	if err := s.SendToAddr(ctx, big, self); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 10)
	n, from, err := s.ReceiveFrom(ctx, buf)
	var te *sockets.TruncatedError
	if !errors.As(err, &te) || !errors.Is(err, io.ErrShortBuffer) || te.Size != 10 {
		t.Fatalf("got %v, want a *TruncatedError of size 10 matching io.ErrShortBuffer", err)
	}
	if n != 10 || from != self {
		t.Errorf("got n=%d from %v, want 10 from %v", n, from, self)
	}
	if !strings.Contains(err.Error(), "10-byte buffer") {
		t.Errorf("the message %q does not say the buffer's size", err)
	}

	c, err := sockets.ConnectUDP(ctx, "127.0.0.1", int(self.Port()))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := s.SendToAddr(ctx, big, addrOf(t, c)); err != nil {
		t.Fatal(err)
	}
	if n, err := c.Receive(ctx, buf); !errors.As(err, &te) || n != 10 {
		t.Errorf("connected Receive: got %d, %v; want 10, a *TruncatedError", n, err)
	}
}

func TestUDPCancelBlockedReceive(t *testing.T) {
	s := udpOn(t, "127.0.0.1")
	cause := errors.New("the test's cause")
	ctx, cancel := context.WithTimeoutCause(context.Background(), 20*time.Millisecond, cause)
	defer cancel()
	_, _, err := s.ReceiveFrom(ctx, make([]byte, 10))
	if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, cause) {
		t.Fatalf("got %v, want context.DeadlineExceeded with its cause", err)
	}
	// Usable after: the past deadline is gone.
	bg := context.Background()
	if err := s.SendToAddr(bg, []byte("after"), addrOf(t, s)); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 10)
	if n, _, err := s.ReceiveFrom(bg, buf); err != nil || string(buf[:n]) != "after" {
		t.Errorf("after the cancellation: got %q, %v", buf[:n], err)
	}
}

func TestUDPCancelledBeforeCall(t *testing.T) {
	s := udpOn(t, "127.0.0.1")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.SendToAddr(ctx, []byte("x"), addrOf(t, s)); !errors.Is(err, context.Canceled) {
		t.Errorf("SendToAddr: got %v, want context.Canceled", err)
	}
	// Nothing was sent.
	short, stop := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer stop()
	if _, _, err := s.ReceiveFrom(short, make([]byte, 1)); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("a cancelled send sent something: ReceiveFrom got %v", err)
	}
}

func TestUDPBusyAndCloseWhileBlocked(t *testing.T) {
	s := udpOn(t, "127.0.0.1")
	port := int(addrOf(t, s).Port())
	done := startBlocked(t, func(ctx context.Context) error {
		_, _, err := s.ReceiveFrom(ctx, make([]byte, 10))
		return err
	})
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := <-done; !errors.Is(err, streams.ErrClosed) || !errors.Is(err, net.ErrClosed) {
		t.Errorf("blocked ReceiveFrom after Close: got %v, want ErrClosed", err)
	}
	// The port is free at once.
	again, err := sockets.ListenUDP(sockets.LocalHost("127.0.0.1"), sockets.Port(port))
	if err != nil {
		t.Fatalf("binding port %d again right after Close: %v", port, err)
	}
	again.Close()
}

func TestUDPAfterClose(t *testing.T) {
	ctx := context.Background()
	s := udpOn(t, "127.0.0.1")
	self := addrOf(t, s)
	c, err := sockets.ConnectUDP(ctx, "127.0.0.1", int(self.Port()))
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	c.Close()
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	calls := []struct {
		name string
		call func() error
	}{
		{"ReceiveFrom", func() error { _, _, err := s.ReceiveFrom(ctx, make([]byte, 1)); return err }},
		{"SendTo", func() error { return s.SendTo(ctx, []byte("x"), "127.0.0.1", 9) }},
		{"Receive", func() error { _, err := c.Receive(ctx, make([]byte, 1)); return err }},
		{"Send", func() error { return c.Send(ctx, []byte("x")) }},
	}
	for _, tt := range calls {
		if err := tt.call(); !errors.Is(err, streams.ErrClosed) {
			t.Errorf("%s after Close: got %v, want ErrClosed", tt.name, err)
		}
	}
}

func TestUDPPortReuseAfterClose(t *testing.T) {
	s, err := sockets.ListenUDP(sockets.LocalHost("127.0.0.1"))
	if err != nil {
		t.Fatal(err)
	}
	port := int(addrOf(t, s).Port())
	s.Close()
	again, err := sockets.ListenUDP(sockets.LocalHost("127.0.0.1"), sockets.Port(port))
	if err != nil {
		t.Fatalf("binding port %d again right after Close: %v", port, err)
	}
	again.Close()
}

func TestUDPReusePort(t *testing.T) {
	for _, lb := range loopbacks {
		t.Run(lb.name, func(t *testing.T) {
			skipNoIPv6(t, lb.family)
			first := udpOn(t, lb.host, sockets.ReusePort(true))
			port := int(addrOf(t, first).Port())
			second := udpOn(t, lb.host, sockets.ReusePort(true), sockets.Port(port))
			if got := int(addrOf(t, second).Port()); got != port {
				t.Errorf("second socket's port: got %d, want %d", got, port)
			}
			c, err := sockets.ConnectUDP(context.Background(), lb.host, port, sockets.LocalHost(lb.host), sockets.ReusePort(true))
			if err != nil {
				t.Fatalf("ConnectUDP with ReusePort: %v", err)
			}
			c.Close()
			// Without ReusePort the port is taken.
			_, err = sockets.ListenUDP(sockets.LocalHost(lb.host), sockets.Port(port))
			if !errors.Is(err, syscall.EADDRINUSE) {
				t.Errorf("a third socket without ReusePort: got %v, want EADDRINUSE", err)
			}
		})
	}
}

func TestUDPBufferSizes(t *testing.T) {
	const size = 96 << 10
	// Linux keeps twice what was asked, capped by rmem_max and wmem_max
	// (socket(7)).
	want := func(max string) int {
		b, err := os.ReadFile("/proc/sys/net/core/" + max)
		if err != nil {
			t.Skipf("cannot read the limit: %v", err)
		}
		limit, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil {
			t.Skip(err)
		}
		return 2 * min(size, limit)
	}
	s := udpOn(t, "127.0.0.1", sockets.ReceiveBufferSize(size), sockets.SendBufferSize(size))
	raw, _ := streams.Extra(s, sockets.RawConn)
	var rcv, snd int
	raw.Control(func(fd uintptr) {
		rcv, _ = unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF)
		snd, _ = unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_SNDBUF)
	})
	if w := want("rmem_max"); rcv != w {
		t.Errorf("SO_RCVBUF: got %d, want %d", rcv, w)
	}
	if w := want("wmem_max"); snd != w {
		t.Errorf("SO_SNDBUF: got %d, want %d", snd, w)
	}
}

func TestConnectUDPSendReceive(t *testing.T) {
	for _, lb := range loopbacks {
		t.Run(lb.name, func(t *testing.T) {
			skipNoIPv6(t, lb.family)
			ctx := context.Background()
			server := udpOn(t, lb.host)
			c, err := sockets.ConnectUDP(ctx, lb.host, int(addrOf(t, server).Port()), sockets.LocalHost(lb.host))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if err := c.Send(ctx, []byte("blah")); err != nil {
				t.Fatal(err)
			}
			buf := make([]byte, 10)
			n, from, err := server.ReceiveFrom(ctx, buf)
			if want := addrOf(t, c); err != nil || string(buf[:n]) != "blah" || from != want {
				t.Fatalf("got %q from %v, %v; want %q from %v", buf[:n], from, err, "blah", want)
			}
			if err := server.SendToAddr(ctx, []byte("halb"), from); err != nil {
				t.Fatal(err)
			}
			if n, err := c.Receive(ctx, buf); err != nil || string(buf[:n]) != "halb" {
				t.Errorf("Receive: got %q, %v; want %q, nil", buf[:n], err, "halb")
			}
		})
	}
}

// TestConnectUDPRefused sends to a port where nobody listens: the ICMP
// error comes back as ECONNREFUSED, and the socket stays usable.
func TestConnectUDPRefused(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	gone, err := sockets.ListenUDP(sockets.LocalHost("127.0.0.1"))
	if err != nil {
		t.Fatal(err)
	}
	port := int(addrOf(t, gone).Port())
	gone.Close()
	c, err := sockets.ConnectUDP(ctx, "127.0.0.1", port)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Send(ctx, []byte("anyone?")); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Receive(ctx, make([]byte, 10)); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("got %v, want ECONNREFUSED", err)
	}
	if err := c.Send(ctx, []byte("still here")); err != nil && !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("Send after the refusal: %v", err)
	}
}

// TestConnectUDPResolver resolves a name through the Resolver option: no
// DNS, and only loopback addresses.
func TestConnectUDPResolver(t *testing.T) {
	ctx := context.Background()
	server := udpOn(t, "127.0.0.1")
	lookup := sockets.LookupFunc(func(ctx context.Context, network, host string) ([]netip.Addr, error) {
		if host != "echo.test" {
			return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
		}
		if network == "ip6" {
			return nil, nil
		}
		return []netip.Addr{netip.MustParseAddr("127.0.0.1")}, nil
	})
	port := int(addrOf(t, server).Port())
	c, err := sockets.ConnectUDP(ctx, "echo.test", port, sockets.Resolver(lookup))
	if err != nil {
		t.Fatalf("ConnectUDP: %v", err)
	}
	defer c.Close()
	if got := c.RemoteAddr().(*net.UDPAddr).AddrPort(); got != addrOf(t, server) {
		t.Errorf("connected to %v, want %v", got, addrOf(t, server))
	}
	s := udpOn(t, "echo.test", sockets.Resolver(lookup))
	if got := addrOf(t, s).Addr().String(); got != "127.0.0.1" {
		t.Errorf("ListenUDP on a name: bound to %s, want 127.0.0.1", got)
	}
	if err := s.SendTo(ctx, []byte("x"), "echo.test", port); err != nil {
		t.Errorf("SendTo a name: %v", err)
	}
	if _, err := sockets.ListenUDP(sockets.LocalHost("nowhere.test"), sockets.Resolver(lookup)); err == nil || !strings.Contains(err.Error(), "nowhere.test") {
		t.Errorf("ListenUDP on a name that does not resolve: got %v, want an error naming it", err)
	}
	if _, err := sockets.ConnectUDP(ctx, "nowhere.test", port, sockets.Resolver(lookup)); err == nil || !strings.Contains(err.Error(), "nowhere.test") {
		t.Errorf("ConnectUDP to a name that does not resolve: got %v, want an error naming it", err)
	}
}

func TestUDPBadInput(t *testing.T) {
	ctx := context.Background()
	s := udpOn(t, "127.0.0.1")
	tests := []struct {
		name string
		call func() error
		want string
	}{
		{"ListenUDP bad option", func() error { _, err := sockets.ListenUDP(sockets.Port(70000)); return err }, "out of range"},
		{"ListenUDP family mismatch", func() error {
			_, err := sockets.ListenUDP(sockets.LocalHost("::1"), sockets.IPFamily(syscall.AF_INET))
			return err
		}, "not an address of the socket's family"},
		{"SendTo port 0", func() error { return s.SendTo(ctx, nil, "127.0.0.1", 0) }, "port 0 is out of range"},
		{"SendTo port 65536", func() error { return s.SendTo(ctx, nil, "127.0.0.1", 65536) }, "port 65536 is out of range"},
		{"SendTo empty host", func() error { return s.SendTo(ctx, nil, "", 9) }, "empty host"},
		{"SendTo IPv6 from IPv4", func() error { return s.SendTo(ctx, nil, "::1", 9) }, "not an address of the socket's family"},
		{"SendToAddr invalid", func() error { return s.SendToAddr(ctx, nil, netip.AddrPort{}) }, "not a destination"},
		{"ReceiveFrom empty buffer", func() error { _, _, err := s.ReceiveFrom(ctx, nil); return err }, "empty buffer"},
		{"ConnectUDP empty host", func() error { _, err := sockets.ConnectUDP(ctx, "", 9); return err }, "empty host"},
		{"ConnectUDP port -1", func() error { _, err := sockets.ConnectUDP(ctx, "127.0.0.1", -1); return err }, "out of range"},
		{"ConnectUDP bad option", func() error { _, err := sockets.ConnectUDP(ctx, "127.0.0.1", 9, sockets.IPFamily(99)); return err }, "IPFamily"},
		{"ConnectUDP family mismatch", func() error {
			_, err := sockets.ConnectUDP(ctx, "::1", 9, sockets.IPFamily(syscall.AF_INET))
			return err
		}, "family"},
		{"ConnectUDP local family mismatch", func() error {
			_, err := sockets.ConnectUDP(ctx, "::1", 9, sockets.LocalHost("127.0.0.1"))
			return err
		}, "family"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}
	c, err := sockets.ConnectUDP(ctx, "127.0.0.1", 9)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Receive(ctx, nil); !errors.Is(err, io.ErrShortBuffer) {
		t.Errorf("connected Receive into an empty buffer: got %v, want io.ErrShortBuffer", err)
	}
}
