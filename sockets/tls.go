package sockets

import (
	"context"
	"crypto/tls"

	"github.com/tether-go/tether/streams/tlsstream"
)

// ConnectTLS connects to host and port as [ConnectTCP] does (Happy
// Eyeballs, opts), then runs the client side of a TLS handshake with cfg
// as [tlsstream.Client] does, with its defaults (a 10 s handshake timeout,
// standard-compatible closing), and returns the stream once the handshake
// is done: AnyIO's connect_tcp(..., tls=True).
//
// When cfg.ServerName is empty, the server name (checked against the
// server's certificate, and sent as SNI unless host is an IP address) is
// host; cfg itself is never modified. A nil cfg is an empty tls.Config:
// the system's roots, and host as the server name. The stream answers the
// socket's attributes (sockets.RemotePort, say) through [streams.Extra].
// For other handshake options, call ConnectTCP and tlsstream.Client.
//
// Errors: ConnectTCP's (a [*ConnectError] when every attempt failed), or
// a [*tlsstream.HandshakeError], after which the socket is closed. When
// ctx is done ConnectTLS returns its cancellation error, and nothing is
// left open.
func ConnectTLS(ctx context.Context, host string, port int, cfg *tls.Config, opts ...Option) (*tlsstream.Stream, error) {
	switch {
	case cfg == nil:
		cfg = &tls.Config{ServerName: host}
	case cfg.ServerName == "":
		cfg = cfg.Clone()
		cfg.ServerName = host
	}
	s, err := ConnectTCP(ctx, host, port, opts...)
	if err != nil {
		return nil, err
	}
	return tlsstream.Client(ctx, s, cfg)
}
