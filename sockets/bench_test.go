package sockets_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/tether-go/tether/cancel"
	"github.com/tether-go/tether/sockets"
	"github.com/tether-go/tether/streams"
)

// Each benchmark has an impl=tether and an impl=netconn side doing the
// same work, for benchstat -col /impl. tether's side passes a cancellable
// ctx, as real code does.

// benchCtx is a cancellable context, cancelled at the end of b.
func benchCtx(b *testing.B) context.Context {
	ctx, cancelFn := context.WithCancel(context.Background())
	b.Cleanup(cancelFn)
	return ctx
}

// echoPeer echoes everything c sends, in its own goroutine, until c's
// peer closes.
func echoPeer(b *testing.B, c net.Conn) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		io.Copy(c, c)
		c.Close()
	}()
	b.Cleanup(func() { <-done })
}

// rawPairs returns a connected net.Conn pair of the network.
func rawPair(b *testing.B, network string) (client, server net.Conn) {
	addr := "127.0.0.1:0"
	if network == "unix" {
		addr = filepath.Join(b.TempDir(), "s")
	}
	l, err := net.Listen(network, addr)
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := l.Accept()
		accepted <- c
	}()
	client, err = net.Dial(network, l.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	server = <-accepted
	return client, server
}

func BenchmarkEcho(b *testing.B) {
	for _, network := range []string{"tcp", "unix"} {
		b.Run("net="+network+"/impl=tether", func(b *testing.B) {
			var c streams.ByteStream
			if network == "tcp" {
				cl, srv := tcpPair(b)
				c = cl
				echoPeer(b, srv.NetConnForBench())
			} else {
				cl, srv := unixPair(b)
				c = cl
				echoPeer(b, srv.NetConnForBench())
			}
			ctx := benchCtx(b)
			msg, buf := make([]byte, 32), make([]byte, 32)
			b.ReportAllocs()
			for b.Loop() {
				if err := c.Send(ctx, msg); err != nil {
					b.Fatal(err)
				}
				for got := 0; got < len(msg); {
					n, err := c.Receive(ctx, buf[got:])
					if err != nil {
						b.Fatal(err)
					}
					got += n
				}
			}
			c.Close()
		})
		b.Run("net="+network+"/impl=netconn", func(b *testing.B) {
			c, srv := rawPair(b, network)
			echoPeer(b, srv)
			msg, buf := make([]byte, 32), make([]byte, 32)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.Write(msg); err != nil {
					b.Fatal(err)
				}
				if _, err := io.ReadFull(c, buf); err != nil {
					b.Fatal(err)
				}
			}
			c.Close()
		})
	}
}

// sinkPeer reads and drops everything until EOF.
func sinkPeer(b *testing.B, c net.Conn) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		io.Copy(io.Discard, c)
		c.Close()
	}()
	b.Cleanup(func() { <-done })
}

func BenchmarkSink64K(b *testing.B) {
	msg := make([]byte, 64<<10)
	b.Run("impl=tether", func(b *testing.B) {
		c, srv := tcpPair(b)
		sinkPeer(b, srv.NetConnForBench())
		ctx := benchCtx(b)
		b.SetBytes(int64(len(msg)))
		b.ReportAllocs()
		for b.Loop() {
			if err := c.Send(ctx, msg); err != nil {
				b.Fatal(err)
			}
		}
		c.Close()
	})
	b.Run("impl=netconn", func(b *testing.B) {
		c, srv := rawPair(b, "tcp")
		sinkPeer(b, srv)
		b.SetBytes(int64(len(msg)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := c.Write(msg); err != nil {
				b.Fatal(err)
			}
		}
		c.Close()
	})
}

// letBlock gives a goroutine that is about to block in a read the time
// to get there, the same on both sides of a benchmark (nothing tells
// from outside when a goroutine is parked in the network poller).
func letBlock() {
	for range 3 {
		runtime.Gosched()
	}
}

// BenchmarkCancelReceive: a Receive blocked in one goroutine, cancelled
// from another, against the raw trick net/http uses (a deadline in the
// past, then cleared): impl=netconn sets the deadline from the cancelling
// goroutine, with no context at all. impl=tether cancels a cancel scope,
// the context every tether task has; impl=tether-withcancel cancels a
// context.WithCancel, whose registration package context runs on a
// goroutine of its own; impl=afterfunc is the least a net.Conn read driven
// by such a context can do, the same trick from a context.AfterFunc.
func BenchmarkCancelReceive(b *testing.B) {
	b.Run("impl=tether", func(b *testing.B) {
		cancelReceive(b, func() (context.Context, func()) {
			scope, ctx := cancel.Open(context.Background())
			return ctx, func() {
				scope.Cancel()
				scope.Close(nil)
			}
		})
	})
	b.Run("impl=tether-withcancel", func(b *testing.B) {
		cancelReceive(b, func() (context.Context, func()) {
			return context.WithCancel(context.Background())
		})
	})
	b.Run("impl=netconn", func(b *testing.B) {
		c, srv := rawPair(b, "tcp")
		defer c.Close()
		defer srv.Close()
		buf := make([]byte, 1)
		started, done := make(chan struct{}), make(chan error)
		past := time.Unix(1, 0)
		b.ReportAllocs()
		for b.Loop() {
			go func() {
				started <- struct{}{}
				_, err := srv.Read(buf)
				done <- err
			}()
			<-started
			letBlock()
			srv.SetReadDeadline(past)
			if err := <-done; err == nil {
				b.Fatal("Read = nil, want a timeout")
			}
			srv.SetReadDeadline(time.Time{})
		}
	})
	b.Run("impl=afterfunc", cancelReceiveAfterFunc)
}

// cancelReceive is BenchmarkCancelReceive's tether side: newCtx makes the
// context of each Receive, and the function that cancels it.
func cancelReceive(b *testing.B, newCtx func() (context.Context, func())) {
	_, srv := tcpPair(b)
	buf := make([]byte, 1)
	started, done := make(chan struct{}), make(chan error)
	b.ReportAllocs()
	for b.Loop() {
		ctx, cancelFn := newCtx()
		go func() {
			started <- struct{}{}
			_, err := srv.Receive(ctx, buf)
			done <- err
		}()
		<-started
		letBlock()
		cancelFn()
		if err := <-done; !errors.Is(err, context.Canceled) {
			b.Fatalf("Receive = %v, want context.Canceled", err)
		}
	}
}

// cancelReceiveAfterFunc is BenchmarkCancelReceive's impl=afterfunc.
func cancelReceiveAfterFunc(b *testing.B) {
	c, srv := rawPair(b, "tcp")
	defer c.Close()
	defer srv.Close()
	buf := make([]byte, 1)
	started, done := make(chan struct{}), make(chan error)
	past := time.Unix(1, 0)
	b.ReportAllocs()
	for b.Loop() {
		ctx, cancelFn := context.WithCancel(context.Background())
		go func() {
			stop := context.AfterFunc(ctx, func() { srv.SetReadDeadline(past) })
			started <- struct{}{}
			_, err := srv.Read(buf)
			if !stop() && ctx.Err() != nil {
				err = ctx.Err()
			}
			done <- err
		}()
		<-started
		letBlock()
		cancelFn()
		if err := <-done; err != context.Canceled {
			b.Fatalf("Read = %v, want context.Canceled", err)
		}
		srv.SetReadDeadline(time.Time{})
	}
}

// BenchmarkAcceptServe: connect, accept, run a handler that closes the
// connection, see the end of stream; against a bare accept loop with a
// goroutine per connection.
func BenchmarkAcceptServe(b *testing.B) {
	connectAndWait := func(b *testing.B, addr string) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			b.Fatal(err)
		}
		var buf [1]byte
		c.Read(buf[:]) // EOF when the server closed it
		c.Close()
	}
	b.Run("impl=tether", func(b *testing.B) {
		l := listenTCP4(b)
		ctx, cancelFn := context.WithCancel(context.Background())
		served := make(chan error, 1)
		go func() {
			served <- l.Serve(ctx, func(ctx context.Context, s *sockets.SocketStream) error { return nil }, nil)
		}()
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(l.Port()))
		b.ReportAllocs()
		for b.Loop() {
			connectAndWait(b, addr)
		}
		cancelFn()
		<-served
	})
	b.Run("impl=netconn", func(b *testing.B) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		done := make(chan struct{})
		go func() {
			defer close(done)
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				go func() { c.Close() }()
			}
		}()
		b.ReportAllocs()
		for b.Loop() {
			connectAndWait(b, l.Addr().String())
		}
		l.Close()
		<-done
	})
}

// BenchmarkConnectLocalhost: connect to "localhost" (the system's
// resolver) on a dual-stack listener and close, against net.Dialer. Each
// side looks the name up once, for both families (ConnectTCP does so for
// a localhost name, see its doc), and races the addresses found: one
// connect, where the hosts file lists one address.
func BenchmarkConnectLocalhost(b *testing.B) {
	l, err := sockets.ListenTCP()
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	ctx, cancelFn := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() {
		served <- l.Serve(ctx, func(ctx context.Context, s *sockets.SocketStream) error { return nil }, nil)
	}()
	defer func() {
		cancelFn()
		<-served
	}()
	b.Run("impl=tether", func(b *testing.B) {
		ctx := benchCtx(b)
		b.ReportAllocs()
		for b.Loop() {
			s, err := sockets.ConnectTCP(ctx, "localhost", l.Port())
			if err != nil {
				b.Fatal(err)
			}
			s.Close()
		}
	})
	b.Run("impl=netconn", func(b *testing.B) {
		ctx := benchCtx(b)
		var d net.Dialer
		addr := net.JoinHostPort("localhost", strconv.Itoa(l.Port()))
		b.ReportAllocs()
		for b.Loop() {
			c, err := d.DialContext(ctx, "tcp", addr)
			if err != nil {
				b.Fatal(err)
			}
			c.Close()
		}
	})
}

// BenchmarkHappyEyeballsBlackHole connects to a name whose first address
// never answers (a loopback listener with a full accept queue) and whose
// second does, with a HappyEyeballsDelay of 20 ms. The metric ms-over is
// how far past the delay the connection lands (target: well within
// 20 ms). netconn's side does the same by hand with a plain net.Dialer:
// the first dial abandoned when the delay is up, then the second.
func BenchmarkHappyEyeballsBlackHole(b *testing.B) {
	const delay = 20 * time.Millisecond
	port := blackHole(b)
	second := netip.MustParseAddr("127.0.0.2")
	good, err := sockets.ListenTCP(sockets.LocalHost(second.String()), sockets.Port(port))
	if err != nil {
		b.Skipf("skipping: cannot listen on %s:%d: %v", second, port, err)
	}
	defer good.Close()
	ctx, cancelFn := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() {
		served <- good.Serve(ctx, func(ctx context.Context, s *sockets.SocketStream) error { return nil }, nil)
	}()
	defer func() {
		cancelFn()
		<-served
	}()
	report := func(b *testing.B, took time.Duration, n int) {
		b.ReportMetric(float64(took-time.Duration(n)*delay)/float64(n)/float64(time.Millisecond), "ms-over")
	}
	b.Run("impl=tether", func(b *testing.B) {
		ctx := benchCtx(b)
		r := &hostsResolver{hosts: map[string][]netip.Addr{"twohomes": {lo4, second}}}
		opts := []sockets.Option{sockets.Resolver(r), sockets.HappyEyeballsDelay(delay)}
		b.ReportAllocs()
		n, start := 0, time.Now()
		for b.Loop() {
			s, err := sockets.ConnectTCP(ctx, "twohomes", port, opts...)
			if err != nil {
				b.Fatal(err)
			}
			s.Close()
			n++
		}
		report(b, time.Since(start), n)
	})
	b.Run("impl=netconn", func(b *testing.B) {
		ctx := benchCtx(b)
		var d net.Dialer
		first := net.JoinHostPort(lo4.String(), strconv.Itoa(port))
		next := net.JoinHostPort(second.String(), strconv.Itoa(port))
		b.ReportAllocs()
		n, start := 0, time.Now()
		for b.Loop() {
			dctx, stop := context.WithTimeout(ctx, delay)
			c, err := d.DialContext(dctx, "tcp4", first)
			stop()
			if err == nil {
				c.Close()
				b.Fatal("the black-holed address answered")
			}
			if c, err = d.DialContext(ctx, "tcp4", next); err != nil {
				b.Fatal(err)
			}
			c.Close()
			n++
		}
		report(b, time.Since(start), n)
	})
}
