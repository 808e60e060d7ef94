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
// and [Server] and reported by a [Listener]. Err says why, and errors.As
// reaches crypto/tls's typed errors through it:
//
//   - this side rejected the peer's certificate: a
//     *tls.CertificateVerificationError, with the x509 error inside
//     (x509.UnknownAuthorityError, x509.HostnameError, ...);
//   - the peer sent an alert: a *net.OpError whose Op is "remote error"
//     and whose message names the alert, which also matches a
//     tls.AlertError of the alert's code (crypto/tls itself gives one only
//     to QUIC users; this package adds it);
//   - the handshake ran out of time: cancel.ErrTimeout and
//     context.DeadlineExceeded; its ctx was cancelled: context.Canceled;
//   - the peer closed the transport during the handshake:
//     [streams.ErrBroken].
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
