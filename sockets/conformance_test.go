package sockets_test

import (
	"net"
	"testing"

	"golang.org/x/net/nettest"

	"github.com/tether-go/tether/streams"
	"github.com/tether-go/tether/streams/streamtest"
)

// The conformance suites, run on both stream types.

func TestTCPConformance(t *testing.T) {
	streamtest.TestByteStream(t, func(t *testing.T) (a, b streams.ByteStream) {
		return tcpPair(t)
	})
}

func TestUnixConformance(t *testing.T) {
	streamtest.TestByteStream(t, func(t *testing.T) (a, b streams.ByteStream) {
		return unixPair(t)
	})
}

func TestTCPNetConn(t *testing.T) {
	nettest.TestConn(t, func() (c1, c2 net.Conn, stop func(), err error) {
		a, b := tcpPair(t)
		ca, cb := streams.AsConn(a), streams.AsConn(b)
		return ca, cb, func() { ca.Close(); cb.Close() }, nil
	})
}

func TestUnixNetConn(t *testing.T) {
	nettest.TestConn(t, func() (c1, c2 net.Conn, stop func(), err error) {
		a, b := unixPair(t)
		ca, cb := streams.AsConn(a), streams.AsConn(b)
		return ca, cb, func() { ca.Close(); cb.Close() }, nil
	})
}
