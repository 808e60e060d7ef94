package sockets_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/tether-go/tether/sockets"
	"github.com/tether-go/tether/streams"
	"golang.org/x/sys/unix"
)

// abstractSeq makes abstract names unique within the test binary.
var abstractSeq atomic.Int64

// dgramPaths are the kinds of UNIX socket address the tests run on: a
// file in t.TempDir(), and an abstract name.
var dgramPaths = []struct {
	name string
	path func(t *testing.T, base string) string
}{
	{"path", func(t *testing.T, base string) string { return filepath.Join(t.TempDir(), base) }},
	{"abstract", func(t *testing.T, base string) string {
		return "@tether-test-" + strconv.Itoa(os.Getpid()) + "-" + strconv.FormatInt(abstractSeq.Add(1), 10) + "-" + base
	}},
}

// unixgramOn opens a UNIX datagram socket on path, closed at the end of
// the test.
func unixgramOn(t *testing.T, path string, opts ...sockets.Option) *sockets.UnixDatagramSocket {
	t.Helper()
	s, err := sockets.ListenUnixDatagram(path, opts...)
	if err != nil {
		t.Fatalf("ListenUnixDatagram(%q): %v", path, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestUnixDatagramAttributes(t *testing.T) {
	for _, kind := range dgramPaths {
		t.Run(kind.name, func(t *testing.T) {
			path := kind.path(t, "sock")
			s := unixgramOn(t, path)
			local, ok := streams.Extra(s, sockets.LocalAddr)
			if !ok || local.String() != path {
				t.Errorf("LocalAddr: got %v, %v; want %s", local, ok, path)
			}
			if got, _ := streams.Extra(s, sockets.Family); got != syscall.AF_UNIX {
				t.Errorf("Family: got %d, want AF_UNIX", got)
			}
			if _, ok := streams.Extra(s, sockets.RawConn); !ok {
				t.Error("no RawConn")
			}
			for _, missing := range []streams.Attr[int]{sockets.LocalPort, sockets.RemotePort} {
				if _, ok := streams.Extra(s, missing); ok {
					t.Errorf("a UNIX socket has %v", missing)
				}
			}
			if _, ok := streams.Extra(s, sockets.RemoteAddr); ok {
				t.Error("an unconnected socket has a RemoteAddr")
			}

			c, err := sockets.ConnectUnixDatagram(context.Background(), path)
			if err != nil {
				t.Fatalf("ConnectUnixDatagram: %v", err)
			}
			defer c.Close()
			if remote, ok := streams.Extra(c, sockets.RemoteAddr); !ok || remote.String() != path {
				t.Errorf("connected RemoteAddr: got %v, %v; want %s", remote, ok, path)
			}
			if _, ok := streams.Extra(c, sockets.LocalAddr); ok {
				t.Error("an unbound connected socket has a LocalAddr")
			}
			if c.LocalAddr() == nil || c.RemoteAddr() == nil || s.LocalAddr() == nil {
				t.Error("an address method returned nil")
			}
		})
	}
}

func TestUnixDatagramSendReceive(t *testing.T) {
	for _, kind := range dgramPaths {
		t.Run(kind.name, func(t *testing.T) {
			ctx := context.Background()
			path := kind.path(t, "sock")
			s := unixgramOn(t, path)
			for _, msg := range []string{"blah", "halb", ""} {
				if err := s.SendTo(ctx, []byte(msg), path); err != nil {
					t.Fatalf("SendTo: %v", err)
				}
				buf := make([]byte, 100)
				n, from, err := s.ReceiveFrom(ctx, buf)
				if err != nil || string(buf[:n]) != msg || from != path {
					t.Errorf("got %q from %q, %v; want %q from %q", buf[:n], from, err, msg, path)
				}
			}
		})
	}
}

// TestUnixDatagramNULName gives an abstract name with a leading NUL, as
// the system writes it: it is the '@' name.
func TestUnixDatagramNULName(t *testing.T) {
	at := dgramPaths[1].path(t, "nul")
	s := unixgramOn(t, "\x00"+at[1:])
	if got := s.LocalAddr().String(); got != at {
		t.Errorf("LocalAddr: got %q, want %q", got, at)
	}
	if err := s.SendTo(context.Background(), []byte("x"), at); err != nil {
		t.Fatalf("SendTo the '@' form: %v", err)
	}
	if _, from, err := s.ReceiveFrom(context.Background(), make([]byte, 1)); err != nil || from != at {
		t.Errorf("got from %q, %v; want %q", from, err, at)
	}
}

func TestUnixDatagramPackets(t *testing.T) {
	for _, kind := range dgramPaths {
		t.Run(kind.name, func(t *testing.T) {
			serverPath, clientPath := kind.path(t, "server"), kind.path(t, "client")
			server := unixgramOn(t, serverPath)
			client := unixgramOn(t, clientPath)
			ctx, cancel := context.WithCancel(context.Background())
			served := make(chan error, 1)
			go func() {
				for p, err := range server.Packets(ctx) {
					if err != nil {
						served <- err
						return
					}
					if err := server.SendTo(ctx, bytes.ToUpper(p.Data), p.Path); err != nil {
						served <- err
						return
					}
				}
				served <- errors.New("Packets ended without an error")
			}()
			buf := make([]byte, 100)
			for _, msg := range []string{"foobar", "hello"} {
				if err := client.SendTo(ctx, []byte(msg), serverPath); err != nil {
					t.Fatal(err)
				}
				n, from, err := client.ReceiveFrom(ctx, buf)
				if want := strings.ToUpper(msg); err != nil || string(buf[:n]) != want || from != serverPath {
					t.Errorf("got %q from %q, %v; want %q from %q", buf[:n], from, err, want, serverPath)
				}
			}
			cancel()
			if err := <-served; !errors.Is(err, context.Canceled) {
				t.Errorf("Packets after cancel: got %v, want context.Canceled", err)
			}
		})
	}
}

// TestUnixDatagramPacketsOversize sends a datagram larger than Packets'
// 64 KiB buffer: it is yielded with an error that says so, and the
// iteration goes on.
func TestUnixDatagramPacketsOversize(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s")
	s := unixgramOn(t, path, sockets.SendBufferSize(1<<20))
	ctx := context.Background()
	if err := s.SendTo(ctx, bytes.Repeat([]byte("x"), 70<<10), path); err != nil {
		t.Skipf("the system does not take a 70 KiB datagram: %v", err)
	}
	if err := s.SendTo(ctx, []byte("small"), path); err != nil {
		t.Fatal(err)
	}
	var got []string
	for p, err := range s.Packets(ctx) {
		if len(got) == 0 {
			if !errors.Is(err, io.ErrShortBuffer) || len(p.Data) != 64<<10 {
				t.Fatalf("first: got %d bytes, %v; want 65536 bytes and a TruncatedError", len(p.Data), err)
			}
			got = append(got, "big")
			continue
		}
		if err != nil || string(p.Data) != "small" {
			t.Fatalf("second: got %q, %v; want %q, nil", p.Data, err, "small")
		}
		break
	}
}

func TestUnixDatagramOversize(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "s")
	s := unixgramOn(t, path)
	c, err := sockets.ConnectUnixDatagram(ctx, path, sockets.LocalPath(filepath.Join(dir, "c")))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Send(ctx, bytes.Repeat([]byte("y"), 100)); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 10)
	n, from, err := s.ReceiveFrom(ctx, buf)
	var te *sockets.TruncatedError
	if !errors.As(err, &te) || te.Size != 10 || n != 10 || from != filepath.Join(dir, "c") {
		t.Fatalf("got %d from %q, %v; want 10 from the client, a TruncatedError of size 10", n, from, err)
	}
	if err := s.SendTo(ctx, bytes.Repeat([]byte("z"), 100), from); err != nil {
		t.Fatal(err)
	}
	if n, err := c.Receive(ctx, buf); !errors.As(err, &te) || n != 10 {
		t.Errorf("connected Receive: got %d, %v; want 10, a TruncatedError", n, err)
	}
}

func TestConnectUnixDatagram(t *testing.T) {
	for _, kind := range dgramPaths {
		t.Run(kind.name, func(t *testing.T) {
			ctx := context.Background()
			serverPath, clientPath := kind.path(t, "server"), kind.path(t, "client")
			server := unixgramOn(t, serverPath)
			c, err := sockets.ConnectUnixDatagram(ctx, serverPath, sockets.LocalPath(clientPath))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if local, ok := streams.Extra(c, sockets.LocalAddr); !ok || local.String() != clientPath {
				t.Errorf("LocalAddr: got %v, %v; want %s", local, ok, clientPath)
			}
			if err := c.Send(ctx, []byte("ping")); err != nil {
				t.Fatal(err)
			}
			buf := make([]byte, 10)
			n, from, err := server.ReceiveFrom(ctx, buf)
			if err != nil || string(buf[:n]) != "ping" || from != clientPath {
				t.Fatalf("got %q from %q, %v; want %q from %q", buf[:n], from, err, "ping", clientPath)
			}
			if err := server.SendTo(ctx, []byte("pong"), from); err != nil {
				t.Fatal(err)
			}
			if n, err := c.Receive(ctx, buf); err != nil || string(buf[:n]) != "pong" {
				t.Errorf("Receive: got %q, %v; want %q, nil", buf[:n], err, "pong")
			}
		})
	}
}

// TestUnixDatagramUnboundSender: a datagram from a socket that is not
// bound comes from "".
func TestUnixDatagramUnboundSender(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "s")
	s := unixgramOn(t, path)
	c, err := sockets.ConnectUnixDatagram(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Send(ctx, []byte("anon")); err != nil {
		t.Fatal(err)
	}
	if _, from, err := s.ReceiveFrom(ctx, make([]byte, 10)); err != nil || from != "" {
		t.Errorf("got from %q, %v; want \"\", nil", from, err)
	}
}

// staleFile leaves a socket file at path with nothing bound behind it.
func staleFile(t *testing.T, path string) {
	t.Helper()
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	err = unix.Bind(fd, &unix.SockaddrUnix{Name: path})
	unix.Close(fd)
	if err != nil {
		t.Fatal(err)
	}
}

func TestUnixDatagramSocketFile(t *testing.T) {
	dir := t.TempDir()
	t.Run("stale file replaced", func(t *testing.T) {
		path := filepath.Join(dir, "stale")
		staleFile(t, path)
		s, err := sockets.ListenUnixDatagram(path)
		if err != nil {
			t.Fatalf("ListenUnixDatagram over a stale file: %v", err)
		}
		s.Close()
	})
	t.Run("live socket refused", func(t *testing.T) {
		path := filepath.Join(dir, "live")
		s := unixgramOn(t, path)
		_, err := sockets.ListenUnixDatagram(path)
		const want = "sockets: ListenUnixDatagram: another socket is live on "
		if !errors.Is(err, syscall.EADDRINUSE) || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("got %v, want EADDRINUSE and an error beginning %q", err, want)
		}
		// So is a LocalPath where a socket is live, in the caller's name.
		_, err = sockets.ConnectUnixDatagram(context.Background(), path, sockets.LocalPath(path))
		const wantConnect = "sockets: ConnectUnixDatagram: another socket is live on "
		if !errors.Is(err, syscall.EADDRINUSE) || !strings.HasPrefix(err.Error(), wantConnect) {
			t.Errorf("ConnectUnixDatagram with a live LocalPath: got %v, want EADDRINUSE and an error beginning %q", err, wantConnect)
		}
		// The live socket still works.
		ctx := context.Background()
		if err := s.SendTo(ctx, []byte("x"), path); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.ReceiveFrom(ctx, make([]byte, 1)); err != nil {
			t.Errorf("the live socket after the refusal: %v", err)
		}
	})
	t.Run("not a socket", func(t *testing.T) {
		path := filepath.Join(dir, "regular")
		if err := os.WriteFile(path, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := sockets.ListenUnixDatagram(path)
		if err == nil || !strings.Contains(err.Error(), "not a socket") {
			t.Errorf("got %v, want an error saying it is not a socket", err)
		}
	})
	t.Run("removed on Close", func(t *testing.T) {
		path := filepath.Join(dir, "removed")
		s, err := sockets.ListenUnixDatagram(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		if _, err := os.Lstat(path); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("after Close, Lstat got %v, want ErrNotExist", err)
		}
	})
	t.Run("another's file kept on Close", func(t *testing.T) {
		path := filepath.Join(dir, "replaced")
		s, err := sockets.ListenUnixDatagram(path)
		if err != nil {
			t.Fatal(err)
		}
		os.Remove(path)
		other := unixgramOn(t, path)
		s.Close()
		if _, err := os.Lstat(path); err != nil {
			t.Errorf("Close removed a file it did not make: %v", err)
		}
		other.Close()
	})
	t.Run("LocalPath stale file replaced", func(t *testing.T) {
		server := unixgramOn(t, filepath.Join(dir, "server"))
		local := filepath.Join(dir, "client")
		staleFile(t, local)
		c, err := sockets.ConnectUnixDatagram(context.Background(), server.LocalAddr().String(), sockets.LocalPath(local))
		if err != nil {
			t.Fatalf("ConnectUnixDatagram with a stale LocalPath: %v", err)
		}
		c.Close()
		if _, err := os.Lstat(local); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("LocalPath's file after Close: Lstat got %v, want ErrNotExist", err)
		}
	})
	t.Run("Mode", func(t *testing.T) {
		path := filepath.Join(dir, "mode")
		unixgramOn(t, path, sockets.Mode(0o600))
		fi, err := os.Lstat(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != 0o600 {
			t.Errorf("permissions: got %v, want %v", got, os.FileMode(0o600))
		}
	})
}

func TestConnectUnixDatagramNobody(t *testing.T) {
	dir := t.TempDir()
	stale := filepath.Join(dir, "stale")
	staleFile(t, stale)
	tests := []struct {
		name string
		path string
		want error
	}{
		{"no file", filepath.Join(dir, "none"), syscall.ENOENT},
		{"stale file", stale, syscall.ECONNREFUSED},
		{"abstract", dgramPaths[1].path(t, "none"), syscall.ECONNREFUSED},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := sockets.ConnectUnixDatagram(context.Background(), tt.path)
			if !errors.Is(err, tt.want) {
				t.Errorf("got %v, want %v", err, tt.want)
			}
		})
	}
}

// TestUnixDatagramCancelBlockedSend fills a receiver's queue so that
// SendTo blocks, cancels it, and sends again once there is room.
func TestUnixDatagramCancelBlockedSend(t *testing.T) {
	dir := t.TempDir()
	rpath := filepath.Join(dir, "r")
	receiver := unixgramOn(t, rpath)
	sender := unixgramOn(t, filepath.Join(dir, "s"))
	// Fill the queue without blocking, from a socket of our own.
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	queued := 0
	for ; queued < 1<<16; queued++ {
		err := unix.Sendto(fd, []byte("fill"), 0, &unix.SockaddrUnix{Name: rpath})
		if errors.Is(err, unix.EAGAIN) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	cause := errors.New("the test's cause")
	ctx, cancel := context.WithTimeoutCause(context.Background(), 20*time.Millisecond, cause)
	defer cancel()
	if err := sender.SendTo(ctx, []byte("blocked"), rpath); !errors.Is(err, cause) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("SendTo to a full queue: got %v, want context.DeadlineExceeded with its cause", err)
	}
	bg := context.Background()
	buf := make([]byte, 10)
	for range queued {
		if n, _, err := receiver.ReceiveFrom(bg, buf); err != nil || string(buf[:n]) != "fill" {
			t.Fatalf("draining: got %q, %v", buf[:n], err)
		}
	}
	if err := sender.SendTo(bg, []byte("after"), rpath); err != nil {
		t.Fatalf("SendTo after the cancellation: %v", err)
	}
	if n, _, err := receiver.ReceiveFrom(bg, buf); err != nil || string(buf[:n]) != "after" {
		t.Errorf("got %q, %v; want %q (the cancelled datagram was not sent)", buf[:n], err, "after")
	}
}

func TestUnixDatagramCancelBlockedReceive(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s")
	s := unixgramOn(t, path)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, _, err := s.ReceiveFrom(ctx, make([]byte, 10)); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v, want context.DeadlineExceeded", err)
	}
	bg := context.Background()
	if err := s.SendTo(bg, []byte("after"), path); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 10)
	if n, _, err := s.ReceiveFrom(bg, buf); err != nil || string(buf[:n]) != "after" {
		t.Errorf("after the cancellation: got %q, %v", buf[:n], err)
	}
}

func TestUnixDatagramBusyAndClose(t *testing.T) {
	dir := t.TempDir()
	s := unixgramOn(t, filepath.Join(dir, "s"))
	c, err := sockets.ConnectUnixDatagram(context.Background(), filepath.Join(dir, "s"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	tests := []struct {
		name    string
		receive func(ctx context.Context) error
		close   func() error
	}{
		{"unconnected", func(ctx context.Context) error { _, _, err := s.ReceiveFrom(ctx, make([]byte, 1)); return err }, s.Close},
		{"connected", func(ctx context.Context) error { _, err := c.Receive(ctx, make([]byte, 1)); return err }, c.Close},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			done := startBlocked(t, tt.receive)
			if err := tt.close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			if err := <-done; !errors.Is(err, streams.ErrClosed) {
				t.Errorf("blocked receive after Close: got %v, want ErrClosed", err)
			}
			if err := tt.receive(context.Background()); !errors.Is(err, streams.ErrClosed) {
				t.Errorf("receive after Close: got %v, want ErrClosed", err)
			}
		})
	}
	if err := s.SendTo(context.Background(), []byte("x"), filepath.Join(dir, "s")); !errors.Is(err, streams.ErrClosed) {
		t.Errorf("SendTo after Close: got %v, want ErrClosed", err)
	}
	if err := c.Send(context.Background(), []byte("x")); !errors.Is(err, streams.ErrClosed) {
		t.Errorf("Send after Close: got %v, want ErrClosed", err)
	}
}

func TestUnixDatagramBadInput(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := unixgramOn(t, filepath.Join(dir, "s"))
	long := "/" + strings.Repeat("x", 120)
	tests := []struct {
		name string
		call func() error
		want string
	}{
		{"Listen empty path", func() error { _, err := sockets.ListenUnixDatagram(""); return err }, "empty"},
		{"Listen long path", func() error { _, err := sockets.ListenUnixDatagram(long); return err }, "longer than"},
		{"Listen NUL in path", func() error { _, err := sockets.ListenUnixDatagram(filepath.Join(dir, "a\x00b")); return err }, "NUL"},
		{"Listen bad Mode", func() error {
			_, err := sockets.ListenUnixDatagram(filepath.Join(dir, "m"), sockets.Mode(os.ModeDir|0o600))
			return err
		}, "Mode"},
		{"Listen missing directory", func() error {
			_, err := sockets.ListenUnixDatagram(filepath.Join(dir, "none", "s"))
			return err
		}, "no such file"},
		{"Connect empty path", func() error { _, err := sockets.ConnectUnixDatagram(ctx, ""); return err }, "empty"},
		{"Connect long LocalPath", func() error {
			_, err := sockets.ConnectUnixDatagram(ctx, filepath.Join(dir, "s"), sockets.LocalPath(long))
			return err
		}, "LocalPath"},
		{"SendTo empty path", func() error { return s.SendTo(ctx, []byte("x"), "") }, "empty"},
		{"SendTo long path", func() error { return s.SendTo(ctx, []byte("x"), long) }, "longer than"},
		{"ReceiveFrom empty buffer", func() error { _, _, err := s.ReceiveFrom(ctx, nil); return err }, "empty buffer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := sockets.ConnectUnixDatagram(cctx, filepath.Join(dir, "s")); !errors.Is(err, context.Canceled) {
		t.Errorf("ConnectUnixDatagram with a done ctx: got %v, want context.Canceled", err)
	}
	var ne *net.OpError
	if err := s.SendTo(ctx, []byte("x"), filepath.Join(dir, "nobody")); !errors.As(err, &ne) || !errors.Is(err, syscall.ENOENT) {
		t.Errorf("SendTo nobody: got %v, want a *net.OpError matching ENOENT", err)
	}
}
