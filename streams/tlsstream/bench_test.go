package tlsstream_test

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"testing"

	"github.com/tether-go/tether/streams"
	"github.com/tether-go/tether/streams/tlsstream"
	"github.com/tether-go/tether/streams/tlsstream/tlstest"
)

// benchConfigs returns server and client configurations for benchmarks.
func benchConfigs(b *testing.B) (server, client *tls.Config) {
	ca := tlstest.NewCA(b)
	return ca.ServerConfig(b, "localhost"), ca.ClientConfig("localhost")
}

// benchConns returns a loopback TCP connection's two ends.
func benchConns(b *testing.B) (client, server net.Conn) {
	c, s := tcpConns(b)
	return c.NetConn(), s.NetConn()
}

// tetherPair handshakes tlsstream streams over a loopback TCP connection.
func tetherPair(b *testing.B, ctx context.Context) (client, server *tlsstream.Stream) {
	scfg, ccfg := benchConfigs(b)
	a, s := tcpConns(b)
	c, sv := handshake(ctx, a, s, ccfg, scfg, nil, nil)
	if c.err != nil || sv.err != nil {
		b.Fatalf("handshake: %v, %v", c.err, sv.err)
	}
	b.Cleanup(func() { c.s.Close(); sv.s.Close() })
	return c.s, sv.s
}

// tlsPair handshakes crypto/tls connections over a loopback TCP connection.
func tlsPair(b *testing.B) (client, server *tls.Conn) {
	scfg, ccfg := benchConfigs(b)
	a, s := benchConns(b)
	client, server = tls.Client(a, ccfg), tls.Server(s, scfg)
	done := make(chan error, 1)
	go func() { done <- server.Handshake() }()
	if err := client.Handshake(); err != nil {
		b.Fatal(err)
	}
	if err := <-done; err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { client.Close(); server.Close() })
	return client, server
}

// BenchmarkEcho is a 32-byte round trip over TLS over loopback TCP: the
// client sends, the server echoes, the client receives.
func BenchmarkEcho(b *testing.B) {
	const size = 32
	b.Run("impl=tether", func(b *testing.B) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		c, s := tetherPair(b, ctx)
		done := make(chan struct{})
		go func() {
			defer close(done)
			buf := make([]byte, size)
			r := streams.Reader(ctx, s)
			for {
				if _, err := io.ReadFull(r, buf); err != nil {
					return
				}
				if s.Send(ctx, buf) != nil {
					return
				}
			}
		}()
		msg, buf := make([]byte, size), make([]byte, size)
		r := streams.Reader(ctx, c)
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			if err := c.Send(ctx, msg); err != nil {
				b.Fatal(err)
			}
			if _, err := io.ReadFull(r, buf); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		c.Close()
		<-done
	})
	b.Run("impl=cryptotls", func(b *testing.B) {
		c, s := tlsPair(b)
		done := make(chan struct{})
		go func() {
			defer close(done)
			buf := make([]byte, size)
			for {
				if _, err := io.ReadFull(s, buf); err != nil {
					return
				}
				if _, err := s.Write(buf); err != nil {
					return
				}
			}
		}()
		msg, buf := make([]byte, size), make([]byte, size)
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			if _, err := c.Write(msg); err != nil {
				b.Fatal(err)
			}
			if _, err := io.ReadFull(c, buf); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		c.Close()
		<-done
	})
}

// BenchmarkSend64K is the throughput of 64 KiB sends over TLS over
// loopback TCP, to a receiver that discards them.
func BenchmarkSend64K(b *testing.B) {
	const size = 64 << 10
	b.Run("impl=tether", func(b *testing.B) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		c, s := tetherPair(b, ctx)
		done := make(chan struct{})
		go func() {
			defer close(done)
			buf := make([]byte, size)
			for {
				if _, err := s.Receive(ctx, buf); err != nil {
					return
				}
			}
		}()
		msg := make([]byte, size)
		b.SetBytes(size)
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			if err := c.Send(ctx, msg); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		c.Close()
		<-done
	})
	b.Run("impl=cryptotls", func(b *testing.B) {
		c, s := tlsPair(b)
		done := make(chan struct{})
		go func() {
			defer close(done)
			buf := make([]byte, size)
			for {
				if _, err := s.Read(buf); err != nil {
					return
				}
			}
		}()
		msg := make([]byte, size)
		b.SetBytes(size)
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			if _, err := c.Write(msg); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		c.Close()
		<-done
	})
}

// BenchmarkHandshake is one connection per iteration, handshake and close,
// through a server: tlsstream.NewListener with Serve, or a bare tls.Listen
// accept loop with a goroutine per connection. The client is crypto/tls
// in both, with session tickets off, so that every handshake is full.
func BenchmarkHandshake(b *testing.B) {
	scfg, ccfg := benchConfigs(b)
	scfg.SessionTicketsDisabled = true
	client := func(b *testing.B, addr string) {
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			conn, err := tls.Dial("tcp", addr, ccfg)
			if err != nil {
				b.Fatal(err)
			}
			// The server closes at once: its close_notify is the end.
			if _, err := conn.Read(make([]byte, 1)); err != io.EOF {
				b.Fatalf("client Read: %v, want io.EOF", err)
			}
			conn.Close()
		}
		b.StopTimer()
	}
	b.Run("impl=tether", func(b *testing.B) {
		nl, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		tl := tlsstream.NewListener(&netListener{nl}, scfg, tlsstream.OnError(func(err error) { b.Error(err) }))
		defer tl.Close()
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() {
			done <- tl.Serve(ctx, func(context.Context, *tlsstream.Stream) error { return nil }, nil)
		}()
		client(b, nl.Addr().String())
		cancel()
		if err := <-done; err != nil {
			b.Fatal(err)
		}
	})
	b.Run("impl=cryptotls", func(b *testing.B) {
		l, err := tls.Listen("tcp", "127.0.0.1:0", scfg)
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
				go func() {
					c.(*tls.Conn).Handshake()
					c.Close()
				}()
			}
		}()
		client(b, l.Addr().String())
		l.Close()
		<-done
	})
}

// netListener is a net.Listener as a streams.Listener, for the benchmark
// (package sockets has the real one; this package cannot import it).
type netListener struct{ l net.Listener }

func (l *netListener) Accept(ctx context.Context) (streams.ByteStream, error) {
	stop := context.AfterFunc(ctx, func() { l.l.Close() })
	defer stop()
	c, err := l.l.Accept()
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if errors.Is(err, net.ErrClosed) {
			return nil, streams.ErrClosed
		}
		return nil, err
	}
	return streams.FromConn(c), nil
}

func (l *netListener) Close() error { return l.l.Close() }
