package sockets_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/tether-go/tether/sockets"
	"github.com/tether-go/tether/streams"
	"github.com/tether-go/tether/taskgroup"
)

// echoOnce receives one message and sends it back.
func echoOnce(ctx context.Context, s streams.ByteStream) error {
	buf := make([]byte, 64)
	n, err := s.Receive(ctx, buf)
	if err != nil {
		return err
	}
	return s.Send(ctx, buf[:n])
}

// roundTrip sends msg on s and reads the reply to the end.
func roundTrip(t *testing.T, s streams.ByteStream, msg string) {
	t.Helper()
	defer s.Close()
	if err := s.Send(t.Context(), []byte(msg)); err != nil {
		t.Fatal(err)
	}
	if got, err := readAll(t.Context(), s); err != nil || string(got) != msg {
		t.Fatalf("echo = %q, %v; want %q, nil", got, err, msg)
	}
}

// TestMultiListenerServe serves every family of a ListenTCP in the
// caller's group, and stops on cancel.
func TestMultiListenerServe(t *testing.T) {
	l, err := sockets.ListenTCP()
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	hosts := []string{"127.0.0.1"}
	if has6() {
		hosts = append(hosts, "::1")
	}
	err = taskgroup.Run(t.Context(), func(ctx context.Context, g *taskgroup.Group) error {
		sctx, stop := context.WithCancel(ctx)
		defer stop()
		g.Go(func(context.Context) error {
			return l.Serve(sctx, func(ctx context.Context, s *sockets.SocketStream) error { return echoOnce(ctx, s) }, g)
		})
		for i, h := range hosts {
			for j := range 3 {
				c, err := sockets.ConnectTCP(ctx, h, l.Port())
				if err != nil {
					return err
				}
				roundTrip(t, c, fmt.Sprint(i, j))
			}
		}
		stop()
		return nil
	})
	if err != nil {
		t.Fatalf("Run = %v, want nil", err)
	}
}

// TestCombineTCPAndUnix serves a TCP and a UNIX listener as one.
func TestCombineTCPAndUnix(t *testing.T) {
	tl := listenTCP4(t)
	path := filepath.Join(t.TempDir(), "sock")
	ul, err := sockets.ListenUnix(path)
	if err != nil {
		t.Fatal(err)
	}
	l := sockets.Combine(sockets.Streams(tl), sockets.Streams(ul))
	defer l.Close()
	ctx, cancelFn := context.WithCancel(t.Context())
	served := make(chan error, 1)
	go func() { served <- l.Serve(ctx, echoOnce, nil) }()
	for i := range 3 {
		c, err := sockets.ConnectTCP(t.Context(), "127.0.0.1", tl.Port())
		if err != nil {
			t.Fatal(err)
		}
		roundTrip(t, c, fmt.Sprint("tcp ", i))
		u, err := sockets.ConnectUnix(t.Context(), path)
		if err != nil {
			t.Fatal(err)
		}
		roundTrip(t, u, fmt.Sprint("unix ", i))
	}
	cancelFn()
	if err := <-served; err != nil {
		t.Fatalf("Serve = %v, want nil", err)
	}
	l.Close()
	if _, err := tl.Accept(t.Context()); !errors.Is(err, streams.ErrClosed) {
		t.Errorf("Accept on a listener of a closed Combined = %v, want ErrClosed", err)
	}
}

// TestCombinedAcceptCancelKeepsConnections: connections that arrive while
// Accepts are being cancelled are returned by later Accepts, not lost.
func TestCombinedAcceptCancelKeepsConnections(t *testing.T) {
	l1, l2 := listenTCP4(t), listenTCP4(t)
	l := sockets.Combine[*sockets.SocketStream](l1, l2)
	defer l.Close()
	var clients []*sockets.SocketStream
	for _, p := range []int{l1.Port(), l2.Port(), l1.Port(), l2.Port()} {
		c, err := sockets.ConnectTCP(t.Context(), "127.0.0.1", p)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		clients = append(clients, c)
	}
	got := 0
	for got < len(clients) {
		s, err := l.Accept(t.Context())
		if err != nil {
			t.Fatalf("Accept after %d: %v", got, err)
		}
		s.Close()
		got++
	}
	ctx, cancelFn := context.WithCancel(t.Context())
	cancelFn()
	if _, err := l.Accept(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Accept with a cancelled ctx = %v, want context.Canceled", err)
	}
}

func TestCombinePanics(t *testing.T) {
	tests := []struct {
		name string
		fn   func()
	}{
		{"no listeners", func() { sockets.Combine[streams.ByteStream]() }},
		{"nil listener", func() { sockets.Combine[streams.ByteStream](nil) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("Combine did not panic")
				}
			}()
			tt.fn()
		})
	}
}
