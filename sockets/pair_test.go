package sockets_test

import (
	"context"
	"net"
	"path/filepath"
	"testing"

	"github.com/tether-go/tether/sockets"
)

// listenTCP4 listens on 127.0.0.1 and closes the listener at the end of
// the test.
func listenTCP4(t testing.TB, opts ...sockets.Option) *sockets.MultiListener {
	t.Helper()
	l, err := sockets.ListenTCP(append([]sockets.Option{sockets.LocalHost("127.0.0.1")}, opts...)...)
	if err != nil {
		t.Fatalf("ListenTCP: %v", err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// acceptOne accepts one connection in another goroutine.
func acceptOne[T any](ctx context.Context, accept func(context.Context) (T, error)) <-chan T {
	c := make(chan T, 1)
	go func() {
		s, err := accept(ctx)
		if err != nil {
			var zero T
			c <- zero
			return
		}
		c <- s
	}()
	return c
}

// tcpPair returns a connected client and server TCP stream on 127.0.0.1,
// closed at the end of the test.
func tcpPair(t testing.TB) (client, server *sockets.SocketStream) {
	t.Helper()
	l := listenTCP4(t)
	accepted := acceptOne(context.Background(), l.Accept)
	client, err := sockets.ConnectTCP(context.Background(), "127.0.0.1", l.Port())
	if err != nil {
		t.Fatalf("ConnectTCP: %v", err)
	}
	server = <-accepted
	if server == nil {
		client.Close()
		t.Fatal("Accept failed")
	}
	t.Cleanup(func() {
		client.Close()
		server.Close()
	})
	return client, server
}

// unixPair returns a connected client and server UNIX stream, closed at
// the end of the test.
func unixPair(t testing.TB) (client, server *sockets.UnixStream) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "s")
	l, err := sockets.ListenUnix(path)
	if err != nil {
		t.Fatalf("ListenUnix: %v", err)
	}
	defer l.Close()
	accepted := acceptOne(context.Background(), l.Accept)
	client, err = sockets.ConnectUnix(context.Background(), path)
	if err != nil {
		t.Fatalf("ConnectUnix: %v", err)
	}
	server = <-accepted
	if server == nil {
		client.Close()
		t.Fatal("Accept failed")
	}
	t.Cleanup(func() {
		client.Close()
		server.Close()
	})
	return client, server
}

// has6 reports whether the machine has IPv6 on loopback.
func has6() bool {
	l, err := net.Listen("tcp6", "[::1]:0")
	if err != nil {
		return false
	}
	l.Close()
	return true
}
