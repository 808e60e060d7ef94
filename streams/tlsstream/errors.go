package tlsstream

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"reflect"

	"github.com/tether-go/tether/streams"
)

// HandshakeError is the error of a failed handshake, returned by [Client]
// and [Server] and reported by a [Listener]. Err says why; errors.As
// reaches crypto/tls's typed errors through it: a
// *tls.CertificateVerificationError (with the x509 error inside, such as
// x509.UnknownAuthorityError or x509.HostnameError) when this side
// rejected the peer's certificate, a *net.OpError whose Op is
// "remote error" when the peer sent an alert (its message names the
// alert), which also matches tls.AlertError with the alert's code (see
// below). A handshake that
// ran out of time matches cancel.ErrTimeout and context.DeadlineExceeded;
// one cancelled by its ctx matches context.Canceled; a peer that closed
// the transport during the handshake matches [streams.ErrBroken].
type HandshakeError struct {
	// Server reports whether this side was the server.
	Server bool
	// Addr is the peer's address, or nil when the stream has none.
	Addr net.Addr
	// Err is the cause.
	Err error
}

func (e *HandshakeError) Error() string {
	side := "client"
	if e.Server {
		side = "server"
	}
	if e.Addr != nil {
		return fmt.Sprintf("tlsstream: %s handshake with %v: %v", side, e.Addr, e.Err)
	}
	return fmt.Sprintf("tlsstream: %s handshake: %v", side, e.Err)
}

// Unwrap returns the cause, Err.
func (e *HandshakeError) Unwrap() error { return e.Err }

// errEmptyReceive is Receive's error for an empty buffer.
var errEmptyReceive = fmt.Errorf("tlsstream: Receive with an empty buffer: %w", io.ErrShortBuffer)

// errRaggedEOF is Receive's error, in standard-compatible mode, when the
// peer closed the transport without a close_notify alert.
var errRaggedEOF = fmt.Errorf("%w: tlsstream: the peer closed the transport without a TLS close_notify (a ragged EOF; use StandardCompatible(false) to accept it)", streams.ErrBroken)

// errPeerClosedInHandshake replaces io.EOF from a handshake: it is not a
// clean end of anything.
var errPeerClosedInHandshake = fmt.Errorf("%w: the peer closed the connection during the handshake", streams.ErrBroken)

// withAlert makes the alert of a "remote error" from crypto/tls reachable
// as a tls.AlertError. crypto/tls reports an alert from the peer as a
// *net.OpError whose Err is its unexported alert type (a uint8), and uses
// the exported AlertError only for QUIC; withAlert adds an AlertError of
// the same code to the chain, without changing the message, as crypto/tls
// does for QUIC.
func withAlert(err error) error {
	oe, ok := errors.AsType[*net.OpError](err)
	if !ok || oe.Op != "remote error" || oe.Err == nil {
		return err
	}
	if _, ok := errors.AsType[tls.AlertError](err); ok {
		return err
	}
	v := reflect.ValueOf(oe.Err)
	if v.Kind() != reflect.Uint8 || v.Type().PkgPath() != "crypto/tls" {
		return err
	}
	return fmt.Errorf("%w%.0w", err, tls.AlertError(v.Uint()))
}
