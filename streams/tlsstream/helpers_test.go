package tlsstream_test

import (
	"context"
	"crypto/tls"
	"net"
	"testing"
	"time"

	"github.com/tether-go/tether/memstream"
	"github.com/tether-go/tether/streams"
	"github.com/tether-go/tether/streams/tlsstream"
	"github.com/tether-go/tether/streams/tlsstream/tlstest"
)

// testTimeout bounds every test's context: only a safety net.
const testTimeout = 20 * time.Second

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

// configs returns a server configuration for "localhost" and a client
// configuration that trusts it, from a fresh CA.
func configs(t *testing.T) (server, client *tls.Config) {
	ca := tlstest.NewCA(t)
	return ca.ServerConfig(t, "localhost", "127.0.0.1"), ca.ClientConfig("localhost")
}

// side is the outcome of one handshake.
type side struct {
	s   *tlsstream.Stream
	err error
}

// handshake runs the client handshake on a and the server handshake on b
// at once and returns both outcomes.
func handshake(ctx context.Context, a, b streams.ByteStream, ccfg, scfg *tls.Config, copts, sopts []tlsstream.Option) (client, server side) {
	done := make(chan side, 1)
	go func() {
		s, err := tlsstream.Server(ctx, b, scfg, sopts...)
		done <- side{s, err}
	}()
	c, err := tlsstream.Client(ctx, a, ccfg, copts...)
	return side{c, err}, <-done
}

// pipePair returns a handshaked client and server over a memstream.Pipe,
// closed at the end of the test.
func pipePair(t *testing.T, copts, sopts []tlsstream.Option) (client, server *tlsstream.Stream) {
	t.Helper()
	scfg, ccfg := configs(t)
	a, b := memstream.Pipe()
	return mustPair(t, a, b, ccfg, scfg, copts, sopts)
}

// tcpPair is pipePair over a loopback TCP connection.
func tcpPair(t *testing.T, copts, sopts []tlsstream.Option) (client, server *tlsstream.Stream) {
	t.Helper()
	scfg, ccfg := configs(t)
	a, b := tcpConns(t)
	return mustPair(t, a, b, ccfg, scfg, copts, sopts)
}

func mustPair(t *testing.T, a, b streams.ByteStream, ccfg, scfg *tls.Config, copts, sopts []tlsstream.Option) (client, server *tlsstream.Stream) {
	t.Helper()
	c, s := handshake(testContext(t), a, b, ccfg, scfg, copts, sopts)
	if c.err != nil || s.err != nil {
		if c.s != nil {
			c.s.Close()
		}
		if s.s != nil {
			s.s.Close()
		}
		t.Fatalf("handshake: client error %v, server error %v; want none", c.err, s.err)
	}
	t.Cleanup(func() { c.s.Close(); s.s.Close() })
	return c.s, s.s
}

// tcpConns returns the two ends of a loopback TCP connection as streams.
func tcpConns(t testing.TB) (client, server *streams.ConnStream) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	defer l.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			c = nil
		}
		accepted <- c
	}()
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	sc := <-accepted
	if sc == nil {
		c.Close()
		t.Fatalf("accept failed")
	}
	return streams.FromConn(c), streams.FromConn(sc)
}

// receiveAll receives from s until the end of the stream or an error, and
// returns what it got and that error.
func receiveAll(ctx context.Context, s streams.ByteReceiver) ([]byte, error) {
	var got []byte
	buf := make([]byte, 4096)
	for {
		n, err := s.Receive(ctx, buf)
		got = append(got, buf[:n]...)
		if err != nil {
			return got, err
		}
	}
}
