package sockets_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/tether-go/tether/sockets"
	"github.com/tether-go/tether/streams"
)

func TestUnixAttributes(t *testing.T) {
	client, server := unixPair(t)
	if got, _ := streams.Extra(client, sockets.Family); got != syscall.AF_UNIX {
		t.Errorf("Family = %d, want AF_UNIX (%d)", got, syscall.AF_UNIX)
	}
	if got, ok := streams.Extra(client, sockets.RemoteAddr); !ok || got.String() != server.LocalAddr().String() {
		t.Errorf("RemoteAddr = %v, %v; want %v, true", got, ok, server.LocalAddr())
	}
	if _, ok := streams.Extra(client, sockets.LocalPort); ok {
		t.Errorf("a UNIX stream answered LocalPort, want no answer")
	}
	if _, ok := streams.Extra(client, sockets.RawConn); !ok {
		t.Errorf("RawConn missing")
	}
	if got := streams.AsConn(client).RemoteAddr().Network(); got != "unix" {
		t.Errorf("AsConn(client).RemoteAddr().Network() = %q, want unix", got)
	}
}

func TestUnixHalfCloseAndReset(t *testing.T) {
	client, server := unixPair(t)
	ctx := t.Context()
	if err := client.Send(ctx, []byte("ping")); err != nil {
		t.Fatal(err)
	}
	if err := client.SendEOF(ctx); err != nil {
		t.Fatalf("SendEOF = %v, want nil", err)
	}
	got, err := readAll(ctx, server)
	if err != nil || string(got) != "ping" {
		t.Fatalf("read to the end = %q, %v; want %q, nil", got, err, "ping")
	}
	if err := server.Send(ctx, []byte("pong")); err != nil {
		t.Fatal(err)
	}
	server.Close()
	if got, err := readAll(ctx, client); err != nil || string(got) != "pong" {
		t.Fatalf("client read %q, %v; want %q, nil", got, err, "pong")
	}
}

func TestUnixSendAfterPeerClose(t *testing.T) {
	client, server := unixPair(t)
	server.Close()
	err := client.Send(t.Context(), []byte("x"))
	if !errors.Is(err, streams.ErrBroken) || !errors.Is(err, syscall.EPIPE) {
		t.Fatalf("Send after the peer closed = %v, want ErrBroken with EPIPE", err)
	}
}

func TestUnixListenerFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sock")
	l, err := sockets.ListenUnix(path, sockets.Mode(0o600))
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatalf("socket file: %v", err)
	}
	if fi.Mode().Type() != os.ModeSocket || fi.Mode().Perm() != 0o600 {
		t.Errorf("socket file mode = %v, want a socket with 0600", fi.Mode())
	}
	// A live listener is refused.
	if l2, err := sockets.ListenUnix(path); !errors.Is(err, syscall.EADDRINUSE) {
		if l2 != nil {
			l2.Close()
		}
		t.Fatalf("ListenUnix on a live socket = %v, want EADDRINUSE", err)
	} else if want := "sockets: ListenUnix: another socket is live on "; !strings.HasPrefix(err.Error(), want) {
		t.Errorf("ListenUnix on a live socket = %v, want an error beginning %q", err, want)
	}
	if err := l.Close(); err != nil {
		t.Fatalf("Close = %v", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("socket file after Close: %v, want it removed", err)
	}
	if _, err := sockets.ConnectUnix(t.Context(), path); !errors.Is(err, syscall.ENOENT) {
		t.Fatalf("ConnectUnix to a removed socket = %v, want ENOENT", err)
	}
}

// TestUnixStaleSocket: a socket file nobody listens on is refused to
// clients, and replaced by ListenUnix.
func TestUnixStaleSocket(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sock")
	// A socket file left behind: bind without listen, then close.
	stale, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	stale.SetUnlinkOnClose(false)
	stale.Close()
	if _, err := sockets.ConnectUnix(t.Context(), path); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("ConnectUnix to a stale socket = %v, want ECONNREFUSED", err)
	}
	l, err := sockets.ListenUnix(path)
	if err != nil {
		t.Fatalf("ListenUnix over a stale socket: %v", err)
	}
	defer l.Close()
	accepted := acceptOne(t.Context(), l.Accept)
	c, err := sockets.ConnectUnix(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	if s := <-accepted; s != nil {
		s.Close()
	}
}

func TestUnixNotASocket(t *testing.T) {
	path := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(path, []byte("keep me"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := sockets.ListenUnix(path); err == nil || !strings.Contains(err.Error(), "not a socket") {
		t.Fatalf("ListenUnix on a regular file = %v, want an error saying it is not a socket", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "keep me" {
		t.Fatalf("the regular file now holds %q, want it untouched", b)
	}
}

func TestUnixAbstract(t *testing.T) {
	name := fmt.Sprintf("@tether-test-%d-%s", os.Getpid(), t.Name())
	for _, listenName := range []string{name, "\x00" + name[1:]} {
		l, err := sockets.ListenUnix(listenName)
		if err != nil {
			t.Fatalf("ListenUnix(%q): %v", listenName, err)
		}
		accepted := acceptOne(t.Context(), l.Accept)
		c, err := sockets.ConnectUnix(t.Context(), name)
		if err != nil {
			l.Close()
			t.Fatalf("ConnectUnix(%q): %v", name, err)
		}
		s := <-accepted
		if err := c.Send(t.Context(), []byte("x")); err != nil {
			t.Errorf("Send: %v", err)
		}
		if s != nil {
			s.Close()
		}
		c.Close()
		l.Close()
	}
}

func TestUnixBadInput(t *testing.T) {
	long := "/tmp/" + strings.Repeat("x", 200)
	tests := []struct {
		name string
		path string
		opts []sockets.Option
	}{
		{"empty path", "", nil},
		{"path too long", long, nil},
		{"NUL inside", "/tmp/a\x00b", nil},
		{"bad Mode", filepath.Join(t.TempDir(), "s"), []sockets.Option{sockets.Mode(os.ModeDir | 0o700)}},
		{"negative Backlog", filepath.Join(t.TempDir(), "s"), []sockets.Option{sockets.Backlog(-5)}},
		{"missing directory", filepath.Join(t.TempDir(), "no", "such", "dir"), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := sockets.ListenUnix(tt.path, tt.opts...)
			if err == nil {
				l.Close()
				t.Fatalf("ListenUnix(%q) = nil error, want one", tt.path)
			}
			t.Logf("ListenUnix error (as a user sees it): %v", err)
			if tt.opts != nil || tt.name == "missing directory" {
				return
			}
			if _, err := sockets.ConnectUnix(t.Context(), tt.path); err == nil {
				t.Fatalf("ConnectUnix(%q) = nil error, want one", tt.path)
			}
		})
	}
}

func TestUnixServe(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sock")
	l, err := sockets.ListenUnix(path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	ctx, cancelFn := context.WithCancel(t.Context())
	served := make(chan error, 1)
	go func() {
		served <- l.Serve(ctx, func(ctx context.Context, s *sockets.UnixStream) error {
			buf := make([]byte, 16)
			n, err := s.Receive(ctx, buf)
			if err != nil {
				return err
			}
			return s.Send(ctx, buf[:n])
		}, nil)
	}()
	for i := range 3 {
		c, err := sockets.ConnectUnix(t.Context(), path)
		if err != nil {
			t.Fatal(err)
		}
		msg := fmt.Sprint("hello ", i)
		if err := c.Send(t.Context(), []byte(msg)); err != nil {
			t.Fatal(err)
		}
		if got, err := readAll(t.Context(), c); err != nil || string(got) != msg {
			t.Errorf("echo = %q, %v; want %q, nil", got, err, msg)
		}
		c.Close()
	}
	cancelFn()
	if err := <-served; err != nil {
		t.Fatalf("Serve = %v, want nil after cancel", err)
	}
}

// TestUnixRefusedListenQueuesNothing: a ListenUnix refused because a
// listener is live there must leave that listener's accept queue as it
// was: the first connection it accepts is the real client's.
func TestUnixRefusedListenQueuesNothing(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "sock")
	l, err := sockets.ListenUnix(path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for range 3 {
		if l2, err := sockets.ListenUnix(path); err == nil {
			l2.Close()
			t.Fatal("ListenUnix on a live socket succeeded, want EADDRINUSE")
		}
	}
	c, err := sockets.ConnectUnix(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Send(ctx, []byte("hi")); err != nil {
		t.Fatal(err)
	}
	s, err := l.Accept(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	p := make([]byte, 8)
	n, err := s.Receive(ctx, p)
	if err != nil || string(p[:n]) != "hi" {
		t.Fatalf("first accepted connection received %q, %v; want \"hi\" from the real client", p[:n], err)
	}
}
