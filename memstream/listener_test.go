package memstream_test

import (
	"context"
	"errors"
	"net"
	"syscall"
	"testing"
	"testing/synctest"

	"github.com/tether-go/tether/cancel"
	"github.com/tether-go/tether/memstream"
	"github.com/tether-go/tether/streams"
)

// exchange sends msg from one end and checks that the other receives it.
func exchange(t *testing.T, from, to streams.ByteStream, msg string) {
	t.Helper()
	ctx := context.Background()
	if err := from.Send(ctx, []byte(msg)); err != nil {
		t.Fatalf("Send(%q) = %v", msg, err)
	}
	buf := make([]byte, 64)
	if n, err := to.Receive(ctx, buf); string(buf[:n]) != msg || err != nil {
		t.Errorf("Receive = %q, %v; want %q, nil", buf[:n], err, msg)
	}
}

func TestListenerDialAccept(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		l := memstream.Listen()
		defer l.Close()
		accepted := async(func() (streams.ByteStream, error) { return l.Accept(ctx) })
		client, err := l.Dial(ctx)
		if err != nil {
			t.Fatalf("Dial = %v", err)
		}
		defer client.Close()
		res := <-accepted
		if res.err != nil {
			t.Fatalf("Accept = %v", res.err)
		}
		server := res.v
		defer server.Close()
		exchange(t, client, server, "hello")
		exchange(t, server, client, "welcome")
	})
}

// Dials wait for an Accept and are accepted in the order they started.
func TestListenerFIFO(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		l := memstream.Listen()
		defer l.Close()
		var dials []<-chan result[streams.ByteStream]
		for range 3 {
			dials = append(dials, async(func() (streams.ByteStream, error) { return l.Dial(ctx) }))
			synctest.Wait()
		}
		for i, d := range dials {
			if !pending(d) {
				t.Fatalf("Dial %d returned before any Accept", i)
			}
		}
		for i, d := range dials {
			server, err := l.Accept(ctx)
			if err != nil {
				t.Fatalf("Accept = %v", err)
			}
			res := <-d
			if res.err != nil {
				t.Fatalf("Dial %d = %v", i, res.err)
			}
			exchange(t, res.v, server, "dial "+string(rune('0'+i)))
			res.v.Close()
			server.Close()
		}
	})
}

func TestListenerAcceptCancelled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := memstream.Listen()
		defer l.Close()
		done, cancelDone := context.WithCancel(context.Background())
		cancelDone()
		if c, err := l.Accept(done); !cancel.IsCancelled(err) || c != nil {
			t.Errorf("Accept(done ctx) = %v, %v; want nil, a cancellation error", c, err)
		}
		ctx, cancelCtx := context.WithCancel(context.Background())
		accepted := async(func() (streams.ByteStream, error) { return l.Accept(ctx) })
		synctest.Wait()
		cancelCtx()
		if res := <-accepted; !cancel.IsCancelled(res.err) {
			t.Errorf("cancelled Accept = %v, want a cancellation error", res.err)
		}
		// The listener is still usable.
		bg := context.Background()
		dialed := async(func() (streams.ByteStream, error) { return l.Dial(bg) })
		server, err := l.Accept(bg)
		if err != nil {
			t.Fatalf("Accept after a cancelled Accept = %v", err)
		}
		defer server.Close()
		res := <-dialed
		if res.err != nil {
			t.Fatalf("Dial = %v", res.err)
		}
		defer res.v.Close()
		exchange(t, res.v, server, "still here")
	})
}

// A Dial cancelled before it was accepted leaves nothing for Accept.
func TestListenerDialCancelled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := memstream.Listen()
		defer l.Close()
		ctx, cancelCtx := context.WithCancel(context.Background())
		dialed := async(func() (streams.ByteStream, error) { return l.Dial(ctx) })
		synctest.Wait()
		cancelCtx()
		if res := <-dialed; !cancel.IsCancelled(res.err) || res.v != nil {
			t.Fatalf("cancelled Dial = %v, %v; want nil, a cancellation error", res.v, res.err)
		}
		bg := context.Background()
		accepted := async(func() (streams.ByteStream, error) { return l.Accept(bg) })
		synctest.Wait()
		if !pending(accepted) {
			t.Fatal("Accept returned the connection of a cancelled Dial")
		}
		client, err := l.Dial(bg)
		if err != nil {
			t.Fatalf("Dial = %v", err)
		}
		defer client.Close()
		res := <-accepted
		if res.err != nil {
			t.Fatalf("Accept = %v", res.err)
		}
		defer res.v.Close()
		exchange(t, client, res.v, "the second dial")
	})
}

func TestListenerClose(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		l := memstream.Listen()

		// A connection made before Close outlives it.
		dialed := async(func() (streams.ByteStream, error) { return l.Dial(ctx) })
		server, err := l.Accept(ctx)
		if err != nil {
			t.Fatalf("Accept = %v", err)
		}
		defer server.Close()
		client := (<-dialed).v
		defer client.Close()

		accepted := async(func() (streams.ByteStream, error) { return l.Accept(ctx) })
		synctest.Wait()
		if err := l.Close(); err != nil {
			t.Fatalf("Close = %v, want nil", err)
		}
		if err := l.Close(); err != nil {
			t.Errorf("second Close = %v, want nil", err)
		}
		if res := <-accepted; !errors.Is(res.err, streams.ErrClosed) || !errors.Is(res.err, net.ErrClosed) {
			t.Errorf("Accept woken by Close = %v, want ErrClosed", res.err)
		}
		if _, err := l.Accept(ctx); !errors.Is(err, streams.ErrClosed) {
			t.Errorf("Accept after Close = %v, want ErrClosed", err)
		}
		c, err := l.Dial(ctx)
		if c != nil || !errors.Is(err, streams.ErrClosed) || !errors.Is(err, syscall.ECONNREFUSED) {
			t.Errorf("Dial after Close = %v, %v; want nil, an error matching ErrClosed and ECONNREFUSED", c, err)
		}
		exchange(t, client, server, "unaffected")
	})
}

func TestListenerCloseWakesDial(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := memstream.Listen()
		dialed := async(func() (streams.ByteStream, error) { return l.Dial(context.Background()) })
		synctest.Wait()
		l.Close()
		if res := <-dialed; !errors.Is(res.err, syscall.ECONNREFUSED) || res.v != nil {
			t.Errorf("Dial woken by Close = %v, %v; want nil, ECONNREFUSED", res.v, res.err)
		}
	})
}
