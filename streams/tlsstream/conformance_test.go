package tlsstream_test

import (
	"context"
	"errors"
	"net"
	"testing"

	"golang.org/x/net/nettest"

	"github.com/tether-go/tether/memstream"
	"github.com/tether-go/tether/streams"
	"github.com/tether-go/tether/streams/streamtest"
	"github.com/tether-go/tether/streams/tlsstream"
)

// TestConformance runs the stream contract's suite on TLS over an
// in-memory pipe and over loopback TCP.
func TestConformance(t *testing.T) {
	for _, tc := range []struct {
		name      string
		transport func(t *testing.T) (a, b streams.ByteStream)
	}{
		{"pipe", func(*testing.T) (a, b streams.ByteStream) { return memstream.Pipe() }},
		{"tcp", func(t *testing.T) (a, b streams.ByteStream) { return tcpConns(t) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			streamtest.TestByteStream(t, func(t *testing.T) (streams.ByteStream, streams.ByteStream) {
				scfg, ccfg := configs(t)
				a, b := tc.transport(t)
				c, s := handshake(context.Background(), a, b, ccfg, scfg, nil, nil)
				if c.err != nil || s.err != nil {
					t.Fatalf("handshake: client %v, server %v", c.err, s.err)
				}
				return c.s, s.s
			})
		})
	}
}

// TestNetConn runs x/net/nettest's net.Conn suite on a TLS stream seen
// through streams.AsConn, over an in-memory pipe.
func TestNetConn(t *testing.T) {
	scfg, ccfg := configs(t)
	nettest.TestConn(t, func() (c1, c2 net.Conn, stop func(), err error) {
		a, b := memstream.Pipe()
		c, s := handshake(context.Background(), a, b, ccfg, scfg, nil, []tlsstream.Option{})
		if c.err != nil || s.err != nil {
			return nil, nil, nil, errors.Join(c.err, s.err)
		}
		c1, c2 = streams.AsConn(c.s), streams.AsConn(s.s)
		return c1, c2, func() { c1.Close(); c2.Close() }, nil
	})
}
