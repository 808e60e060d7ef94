package sockets_test

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/tether-go/tether/sockets"
	"github.com/tether-go/tether/streams"
	"golang.org/x/sys/unix"
)

// netTCPConns returns a connected pair of *net.TCPConn on 127.0.0.1 and
// the listener, all closed at the end of the test.
func netTCPConns(t *testing.T) (client, server *net.TCPConn, l *net.TCPListener) {
	t.Helper()
	nl, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nl.Close() })
	c, err := net.Dial("tcp4", nl.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	s, err := nl.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return c.(*net.TCPConn), s.(*net.TCPConn), nl.(*net.TCPListener)
}

// dupFile returns a duplicate of c's descriptor as a file, closed at the
// end of the test.
func dupFile(t *testing.T, c interface{ File() (*os.File, error) }) *os.File {
	t.Helper()
	f, err := c.File()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// sendToPeer sends through a stream and checks what the peer receives.
func sendToPeer(t *testing.T, s streams.ByteStream, peer net.Conn) {
	t.Helper()
	if err := s.Send(context.Background(), []byte("adopted")); err != nil {
		t.Fatalf("Send: %v", err)
	}
	buf := make([]byte, 16)
	n, err := peer.Read(buf)
	if err != nil || string(buf[:n]) != "adopted" {
		t.Errorf("the peer got %q, %v; want %q", buf[:n], err, "adopted")
	}
}

func TestAdoptStreams(t *testing.T) {
	t.Run("TCP", func(t *testing.T) {
		client, server, _ := netTCPConns(t)
		s, err := sockets.AdoptTCP(client)
		if err != nil {
			t.Fatalf("AdoptTCP: %v", err)
		}
		sendToPeer(t, s, server)
		if got, _ := streams.Extra(s, sockets.RemotePort); got != server.LocalAddr().(*net.TCPAddr).Port {
			t.Errorf("RemotePort: got %d, want the server's port", got)
		}
		s.Close()
		if _, err := client.Write([]byte("x")); !errors.Is(err, net.ErrClosed) {
			t.Errorf("the adopted conn after Close: got %v, want net.ErrClosed", err)
		}
	})
	t.Run("UNIX", func(t *testing.T) {
		a, b := netUnixConns(t, "unix")
		s, err := sockets.AdoptUnix(a)
		if err != nil {
			t.Fatalf("AdoptUnix: %v", err)
		}
		defer s.Close()
		sendToPeer(t, s, b)
	})
}

// netUnixConns returns a connected pair of UNIX sockets of network ("unix"
// or "unixgram") from socketpair, closed at the end of the test.
func netUnixConns(t *testing.T, network string) (a, b *net.UnixConn) {
	t.Helper()
	typ := unix.SOCK_STREAM
	if network == "unixgram" {
		typ = unix.SOCK_DGRAM
	}
	fds, err := unix.Socketpair(unix.AF_UNIX, typ|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	conns := make([]*net.UnixConn, 2)
	for i, fd := range fds {
		f := os.NewFile(uintptr(fd), network)
		c, err := net.FileConn(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		conns[i] = c.(*net.UnixConn)
	}
	return conns[0], conns[1]
}

func TestAdoptListeners(t *testing.T) {
	ctx := context.Background()
	t.Run("TCP", func(t *testing.T) {
		nl, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		l, err := sockets.AdoptTCPListener(nl)
		if err != nil {
			t.Fatalf("AdoptTCPListener: %v", err)
		}
		defer l.Close()
		accepted := make(chan *sockets.SocketStream, 1)
		go func() {
			s, _ := l.Accept(ctx)
			accepted <- s
		}()
		c, err := net.Dial("tcp4", nl.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		s := <-accepted
		if s == nil {
			t.Fatal("Accept failed")
		}
		defer s.Close()
		sendToPeer(t, s, c)
		if got, _ := streams.Extra(l, sockets.LocalPort); got != nl.Addr().(*net.TCPAddr).Port {
			t.Errorf("LocalPort: got %d, want %d", got, nl.Addr().(*net.TCPAddr).Port)
		}
	})
	t.Run("UNIX", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "l")
		nl, err := net.Listen("unix", path)
		if err != nil {
			t.Fatal(err)
		}
		l, err := sockets.AdoptUnixListener(nl)
		if err != nil {
			t.Fatalf("AdoptUnixListener: %v", err)
		}
		accepted := make(chan *sockets.UnixStream, 1)
		go func() {
			s, _ := l.Accept(ctx)
			accepted <- s
		}()
		c, err := net.Dial("unix", path)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		s := <-accepted
		if s == nil {
			t.Fatal("Accept failed")
		}
		defer s.Close()
		sendToPeer(t, s, c)
		l.Close()
		// net.Listen's listener removes its file on Close; adopted, it
		// still does.
		if _, err := os.Lstat(path); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("after Close, Lstat got %v, want ErrNotExist", err)
		}
	})
}

func TestAdoptDatagrams(t *testing.T) {
	ctx := context.Background()
	t.Run("UDP", func(t *testing.T) {
		pc, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		s, err := sockets.AdoptUDP(pc)
		if err != nil {
			t.Fatalf("AdoptUDP: %v", err)
		}
		defer s.Close()
		dc, err := net.DialUDP("udp4", nil, pc.LocalAddr().(*net.UDPAddr))
		if err != nil {
			t.Fatal(err)
		}
		c, err := sockets.AdoptConnectedUDP(dc)
		if err != nil {
			t.Fatalf("AdoptConnectedUDP: %v", err)
		}
		defer c.Close()
		if err := c.Send(ctx, []byte("hi")); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 4)
		if n, from, err := s.ReceiveFrom(ctx, buf); err != nil || string(buf[:n]) != "hi" || from != addrOf(t, c) {
			t.Errorf("got %q from %v, %v", buf[:n], from, err)
		}
	})
	t.Run("UNIX", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "d")
		pc, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
		if err != nil {
			t.Fatal(err)
		}
		s, err := sockets.AdoptUnixDatagram(pc)
		if err != nil {
			t.Fatalf("AdoptUnixDatagram: %v", err)
		}
		defer s.Close()
		dc, err := net.Dial("unixgram", path)
		if err != nil {
			t.Fatal(err)
		}
		c, err := sockets.AdoptConnectedUnixDatagram(dc)
		if err != nil {
			t.Fatalf("AdoptConnectedUnixDatagram: %v", err)
		}
		defer c.Close()
		if err := c.Send(ctx, []byte("hi")); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 4)
		if n, _, err := s.ReceiveFrom(ctx, buf); err != nil || string(buf[:n]) != "hi" {
			t.Errorf("got %q, %v", buf[:n], err)
		}
		s.Close()
		if _, err := os.Lstat(path); err != nil {
			t.Errorf("an adopted socket's Close removed the file it did not make: %v", err)
		}
	})
}

// TestAdoptFile adopts a duplicate of every kind of socket, and checks
// the type it comes back as.
func TestAdoptFile(t *testing.T) {
	client, _, nl := netTCPConns(t)
	ua, _ := netUnixConns(t, "unix")
	ga, _ := netUnixConns(t, "unixgram")
	upath := filepath.Join(t.TempDir(), "l")
	ul, err := net.ListenUnix("unix", &net.UnixAddr{Name: upath, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	defer ul.Close()
	gpath := filepath.Join(t.TempDir(), "g")
	gc, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: gpath, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer gc.Close()
	uc, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer uc.Close()
	cc, err := net.DialUDP("udp4", nil, uc.LocalAddr().(*net.UDPAddr))
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()

	tests := []struct {
		name string
		file *os.File
		want string
	}{
		{"TCP stream", dupFile(t, client), "*sockets.SocketStream"},
		{"TCP listener", dupFile(t, nl), "*sockets.MultiListener"},
		{"UNIX stream", dupFile(t, ua), "*sockets.UnixStream"},
		{"UNIX listener", dupFile(t, ul), "*sockets.UnixListener"},
		{"UDP", dupFile(t, uc), "*sockets.UDPSocket"},
		{"connected UDP", dupFile(t, cc), "*sockets.ConnectedUDPSocket"},
		{"UNIX datagram", dupFile(t, gc), "*sockets.UnixDatagramSocket"},
		{"connected UNIX datagram", dupFile(t, ga), "*sockets.ConnectedUnixDatagramSocket"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := sockets.AdoptFile(tt.file)
			if err != nil {
				t.Fatalf("AdoptFile: %v", err)
			}
			defer s.Close()
			if got := socketType(s); got != tt.want {
				t.Errorf("got a %s, want a %s", got, tt.want)
			}
			if _, ok := streams.Extra(s, sockets.LocalAddr); !ok && !strings.Contains(tt.name, "connected UNIX") {
				t.Error("no LocalAddr")
			}
			if _, ok := streams.Extra(s, sockets.Family); !ok {
				t.Error("no Family")
			}
		})
	}
}

func socketType(s sockets.Socket) string {
	switch s.(type) {
	case *sockets.SocketStream:
		return "*sockets.SocketStream"
	case *sockets.MultiListener:
		return "*sockets.MultiListener"
	case *sockets.UnixStream:
		return "*sockets.UnixStream"
	case *sockets.UnixListener:
		return "*sockets.UnixListener"
	case *sockets.UDPSocket:
		return "*sockets.UDPSocket"
	case *sockets.ConnectedUDPSocket:
		return "*sockets.ConnectedUDPSocket"
	case *sockets.UnixDatagramSocket:
		return "*sockets.UnixDatagramSocket"
	case *sockets.ConnectedUnixDatagramSocket:
		return "*sockets.ConnectedUnixDatagramSocket"
	}
	return "something else"
}

// sysSocket makes a socket with the system call, as a file closed at the
// end of the test.
func sysSocket(t *testing.T, family, typ, proto int) *os.File {
	t.Helper()
	fd, err := unix.Socket(family, typ|unix.SOCK_CLOEXEC, proto)
	if err != nil {
		t.Skipf("socket(%d, %d): %v", family, typ, err)
	}
	f := os.NewFile(uintptr(fd), "raw socket")
	t.Cleanup(func() { f.Close() })
	return f
}

func TestAdoptBadInput(t *testing.T) {
	client, _, nl := netTCPConns(t)
	ua, _ := netUnixConns(t, "unix")
	ga, _ := netUnixConns(t, "unixgram")
	bound, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer bound.Close()
	connected, err := net.DialUDP("udp4", nil, bound.LocalAddr().(*net.UDPAddr))
	if err != nil {
		t.Fatal(err)
	}
	defer connected.Close()
	pipeA, pipeB := net.Pipe()
	defer pipeA.Close()
	defer pipeB.Close()
	regular, err := os.CreateTemp(t.TempDir(), "regular")
	if err != nil {
		t.Fatal(err)
	}
	defer regular.Close()
	seqFDs, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	seq := os.NewFile(uintptr(seqFDs[0]), "seqpacket")
	defer seq.Close()
	unix.Close(seqFDs[1])

	tests := []struct {
		name string
		call func() error
		want string
		is   error
	}{
		{"AdoptTCP of a pipe", func() error { _, err := sockets.AdoptTCP(pipeA); return err }, "net.pipe is not a *net.TCPConn", nil},
		{"AdoptTCP of a UNIX conn", func() error { _, err := sockets.AdoptTCP(ua); return err }, "*net.UnixConn is not a *net.TCPConn", nil},
		{"AdoptTCP of nil", func() error { _, err := sockets.AdoptTCP(nil); return err }, "<nil> is not a *net.TCPConn", nil},
		{"AdoptUnix of a datagram socket", func() error { _, err := sockets.AdoptUnix(ga); return err }, "datagram socket, not a stream one", nil},
		{"AdoptUnix of a TCP conn", func() error { _, err := sockets.AdoptUnix(client); return err }, "is not a *net.UnixConn", nil},
		{"AdoptConnectedUnixDatagram of a stream", func() error { _, err := sockets.AdoptConnectedUnixDatagram(ua); return err }, "stream socket, not a datagram one", nil},
		{"AdoptUDP of a connected socket", func() error { _, err := sockets.AdoptUDP(connected); return err }, "is connected", nil},
		{"AdoptConnectedUDP of an unconnected socket", func() error { _, err := sockets.AdoptConnectedUDP(bound); return err }, "not connected", nil},
		{"AdoptTCPListener of a UNIX listener", func() error {
			l, err := net.Listen("unix", filepath.Join(t.TempDir(), "l"))
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			_, err = sockets.AdoptTCPListener(l)
			return err
		}, "is not a *net.TCPListener", nil},
		{"AdoptUnixListener of a TCP listener", func() error { _, err := sockets.AdoptUnixListener(nl); return err }, "is not a *net.UnixListener", nil},
		{"AdoptUnixDatagram of an unconnected UDP socket", func() error { _, err := sockets.AdoptUnixDatagram(bound); return err }, "is not a *net.UnixConn", nil},
		{"AdoptFile of nil", func() error { _, err := sockets.AdoptFile(nil); return err }, "nil *os.File", nil},
		{"AdoptFile of a regular file", func() error { _, err := sockets.AdoptFile(regular); return err }, "not a socket", syscall.ENOTSOCK},
		{"AdoptFile of a seqpacket socket", func() error { _, err := sockets.AdoptFile(seq); return err }, "seqpacket", nil},
		{"AdoptFile of an idle TCP socket", func() error {
			_, err := sockets.AdoptFile(sysSocket(t, unix.AF_INET, unix.SOCK_STREAM, 0))
			return err
		}, "neither connected nor listening", nil},
		{"AdoptFile of an unbound UDP socket", func() error {
			_, err := sockets.AdoptFile(sysSocket(t, unix.AF_INET, unix.SOCK_DGRAM, 0))
			return err
		}, "not bound", nil},
		{"AdoptFile of an unbound UNIX datagram socket", func() error {
			_, err := sockets.AdoptFile(sysSocket(t, unix.AF_UNIX, unix.SOCK_DGRAM, 0))
			return err
		}, "not bound", nil},
		{"AdoptFile of a netlink socket", func() error {
			_, err := sockets.AdoptFile(sysSocket(t, unix.AF_NETLINK, unix.SOCK_DGRAM, unix.NETLINK_ROUTE))
			return err
		}, "AF_NETLINK", nil},
		{"AdoptFile of a closed file", func() error {
			f := sysSocket(t, unix.AF_INET, unix.SOCK_DGRAM, 0)
			f.Close()
			_, err := sockets.AdoptFile(f)
			return err
		}, "closed file", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error containing %q", err, tt.want)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("got %v, want one matching %v", err, tt.is)
			}
		})
	}
	// What was refused is left as it was.
	if _, err := client.Write([]byte("x")); err != nil {
		t.Errorf("a refused conn was changed: %v", err)
	}
}
