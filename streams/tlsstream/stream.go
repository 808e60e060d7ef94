package tlsstream

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"sync/atomic"
	"time"

	"github.com/tether-go/tether/cancel"
	"github.com/tether-go/tether/internal/ioctx"
	"github.com/tether-go/tether/streams"
)

// closeNotifyWait is how long Close waits for its close_notify alert to be
// written. The alert is a few dozen bytes and is written at once unless the
// peer has stopped reading and the transport is full; then Close gives up
// on it rather than wait (crypto/tls's own Close waits up to 5 s).
const closeNotifyWait = 100 * time.Millisecond

// The typed attributes of a TLS stream, read with [streams.Extra]. A
// Stream answers all four (the values are empty when there is nothing to
// report, e.g. no ALPN protocol was negotiated); the attributes of the
// stream under it (its addresses, say) are answered by that stream.
var (
	// ConnectionState is the state of the connection, as
	// [Stream.ConnectionState] returns it.
	ConnectionState = streams.NewAttr[tls.ConnectionState]("TLS connection state")
	// ALPNProtocol is the application protocol negotiated with ALPN, or ""
	// when none was.
	ALPNProtocol = streams.NewAttr[string]("TLS ALPN protocol")
	// ServerName is the server name that the client sent (SNI), on both
	// sides, or "" when it sent none.
	ServerName = streams.NewAttr[string]("TLS server name")
	// PeerCertificates is the certificate chain that the peer presented,
	// leaf first; empty when it presented none (a client, usually).
	PeerCertificates = streams.NewAttr[[]*x509.Certificate]("TLS peer certificates")
)

// Stream is a TLS connection over a [streams.ByteStream] (a socket, an
// in-memory pipe, any stream), made by [Client] or [Server] once the
// handshake is done; the zero Stream is not usable. It is crypto/tls's
// tls.Conn, driven through streams.AsConn, with a context on every call.
//
// A Receive and a Send (or SendEOF) may run at once from two goroutines; a
// second Receive, or a second Send, while one runs returns
// [streams.ErrBusy]. Close may be called at any time from any goroutine. A
// Stream is not reusable after Close. It owns the stream under it: Close
// closes it, and nobody else may use it meanwhile.
//
// Cost: the work of crypto/tls, plus, per call, a hop through
// streams.AsConn to the stream under it, and the cancellation machinery
// that streams.FromConn uses (nothing when ctx can never be done; else one
// context.AfterFunc, kept while calls pass the same ctx). The benchmarks
// beside this package compare it with tls.Conn over a net.Conn.
type Stream struct {
	under   streams.ByteStream
	t       *transport
	tc      *tls.Conn
	cfg     config
	state   tls.ConnectionState // fixed once the handshake is done
	closing atomic.Bool         // Close began: calls are refused
	closed  atomic.Bool         // Close took the sides: what ioctx watches
	eofSent atomic.Bool
	broken  atomic.Pointer[error] // why the stream can no longer be used
	recv    ioctx.Side
	send    ioctx.Side
}

var _ streams.ByteStream = (*Stream)(nil)

// Client runs the client side of a TLS handshake over s, as tls.Client
// followed by HandshakeContext does, and returns the stream once it is
// done. cfg must set ServerName (or InsecureSkipVerify); Client does not
// modify it.
//
// The handshake ends when ctx is done or when it runs out of time (see
// [HandshakeTimeout]; 10 s by default). On any failure Client closes s and
// returns a [*HandshakeError] that says why, with crypto/tls's errors
// reachable by errors.As. Client panics if s or cfg is nil.
func Client(ctx context.Context, s streams.ByteStream, cfg *tls.Config, opts ...Option) (*Stream, error) {
	return handshake(ctx, s, cfg, false, opts)
}

// Server runs the server side of a TLS handshake over s, as tls.Server
// followed by HandshakeContext does, and returns the stream once it is
// done. cfg must provide a certificate (Certificates, GetCertificate or
// GetConfigForClient); Server does not modify it. Cancellation and errors
// are as for [Client]. Server panics if s or cfg is nil.
func Server(ctx context.Context, s streams.ByteStream, cfg *tls.Config, opts ...Option) (*Stream, error) {
	return handshake(ctx, s, cfg, true, opts)
}

func handshake(ctx context.Context, under streams.ByteStream, cfg *tls.Config, server bool, opts []Option) (*Stream, error) {
	if under == nil {
		panic("tlsstream: Client or Server called with a nil stream")
	}
	if cfg == nil {
		panic("tlsstream: Client or Server called with a nil *tls.Config")
	}
	s := &Stream{under: under, cfg: newConfig(opts)}
	s.t = &transport{Conn: streams.AsConn(under)}
	if server {
		s.tc = tls.Server(s.t, cfg)
	} else {
		s.tc = tls.Client(s.t, cfg)
	}
	s.recv.Init((*sidesOwner)(s), false)
	s.send.Init((*sidesOwner)(s), true)

	var err error
	if d := s.cfg.handshakeTimeout; d > 0 {
		err = cancel.FailAfter(ctx, d, s.handshake)
		if errors.Is(err, cancel.ErrTimeout) {
			err = fmt.Errorf("not done within %v (see HandshakeTimeout): %w", d, err)
		}
	} else {
		err = s.handshake(ctx)
	}
	if err != nil {
		s.t.Close()
		addr, _ := streams.Extra(under, streams.RemoteAddr)
		return nil, &HandshakeError{Server: server, Addr: addr, Err: withAlert(err)}
	}
	s.state = s.tc.ConnectionState()
	return s, nil
}

// handshake runs the handshake until it is done or ctx is: a done ctx
// sets the transport's deadlines in the past, which interrupts it.
func (s *Stream) handshake(ctx context.Context) error {
	if err := cancel.Checkpoint(ctx); err != nil {
		return err
	}
	var stop func() bool
	if ctx.Done() != nil {
		stop = context.AfterFunc(ctx, func() { s.t.Conn.SetDeadline(aLongTimeAgo) })
	}
	err := s.tc.Handshake()
	if stop != nil && !stop() && (err == nil || ioctx.IsTimeout(err)) {
		// ctx was done, and its deadline interrupted the handshake (or
		// will interrupt the next call, so it must not be used).
		return cancel.Checkpoint(ctx)
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return errPeerClosedInHandshake
	}
	return err
}

// ConnectionState returns the state of the connection, as
// tls.Conn.ConnectionState does. It does not change once the handshake is
// done, and is safe to call at any time.
func (s *Stream) ConnectionState() tls.ConnectionState { return s.state }

// Unwrap returns the stream under the TLS stream, for [streams.Extra] and
// for attributes of the transport. Reading from it or writing to it
// corrupts the TLS stream.
func (s *Stream) Unwrap() streams.ByteStream { return s.under }

// LocalAddr returns the local address of the stream under it, as
// streams.AsConn finds it.
func (s *Stream) LocalAddr() net.Addr { return s.t.LocalAddr() }

// RemoteAddr returns the peer's address of the stream under it, as
// streams.AsConn finds it.
func (s *Stream) RemoteAddr() net.Addr { return s.t.RemoteAddr() }

// Attribute answers [ConnectionState], [ALPNProtocol], [ServerName] and
// [PeerCertificates]. [streams.Extra] finds the other attributes (a
// socket's addresses and ports) in the stream under it, through Unwrap.
func (s *Stream) Attribute(key any) (any, bool) {
	switch key {
	case ConnectionState:
		return s.state, true
	case ALPNProtocol:
		return s.state.NegotiatedProtocol, true
	case ServerName:
		return s.state.ServerName, true
	case PeerCertificates:
		return s.state.PeerCertificates, true
	}
	return nil, false
}

// refused is the error of a call that could not claim its direction.
func (s *Stream) refused() error {
	if s.closing.Load() {
		return streams.ErrClosed
	}
	return streams.ErrBusy
}

// brokenErr returns why the stream cannot be used, or nil.
func (s *Stream) brokenErr() error {
	if p := s.broken.Load(); p != nil {
		return *p
	}
	return nil
}

// breakWith records why the stream cannot be used; the first reason stays.
func (s *Stream) breakWith(err error) {
	s.broken.CompareAndSwap(nil, &err)
}

// Receive receives decrypted bytes into p; see [streams.ByteReceiver]. The
// peer's close_notify is the end of the stream ([streams.ErrEndOfStream],
// io.EOF); a transport that ends without one is [streams.ErrBroken] unless
// [StandardCompatible] is off (see there). A TLS error (a bad record, an
// alert from the peer) is an error matching ErrBroken with crypto/tls's
// error inside.
//
// When ctx is done Receive returns a cancellation error (cancel.Checkpoint's)
// and consumes nothing: bytes of a record that arrived in part stay with
// the stream, and bytes decrypted at the same moment are returned instead
// of the error. The stream stays usable. A Close from another goroutine
// wakes Receive with [streams.ErrClosed]. An empty p is an error (wrapping
// io.ErrShortBuffer). After a Send was cancelled, Receive returns ErrBroken
// (see [Stream.Send]).
func (s *Stream) Receive(ctx context.Context, p []byte) (int, error) {
	if len(p) == 0 {
		return 0, errEmptyReceive
	}
	if !s.recv.Acquire() {
		return 0, s.refused()
	}
	defer s.recv.Release()
	if err := s.brokenErr(); err != nil {
		return 0, err
	}
	if err := cancel.Checkpoint(ctx); err != nil {
		return 0, err
	}
	s.recv.Watch(ctx)
	n, err := s.tc.Read(p)
	for n == 0 && err == nil { // allowed by io.Reader, if discouraged
		n, err = s.tc.Read(p)
	}
	if s.recv.Finish(ctx, err) {
		// A read timeout does not break a tls.Conn: what it had read of a
		// record stays buffered for the next call.
		if n > 0 {
			return n, nil
		}
		return 0, cancel.Checkpoint(ctx)
	}
	if n > 0 {
		// An error that came with data (io.EOF after the last record,
		// say) sticks in the tls.Conn: the next call returns it.
		return n, nil
	}
	return 0, s.recvError(err)
}

func (s *Stream) recvError(err error) error {
	switch {
	case s.closing.Load():
		return streams.ErrClosed
	case err == io.EOF:
		if s.t.eof.Load() && s.cfg.standard {
			return errRaggedEOF
		}
		return streams.ErrEndOfStream
	case errors.Is(err, net.ErrClosed):
		return streams.ErrClosed // closed under the stream
	case errors.Is(err, streams.ErrBroken):
		return err
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("%w: tlsstream: the transport ended inside a TLS record", streams.ErrBroken)
	}
	return fmt.Errorf("%w: %w", streams.ErrBroken, withAlert(err))
}

// Send encrypts p and sends all of it; see [streams.ByteSender]. A Close
// from another goroutine wakes it with [streams.ErrClosed]; a peer that
// went away is an error matching [streams.ErrBroken]. Send after SendEOF
// returns ErrClosed.
//
// When ctx is done before Send began, it returns the cancellation error
// and nothing happened. When ctx is done while Send is blocked (the peer
// is not reading), Send returns the cancellation error, but part of a TLS
// record may have been sent, and crypto/tls cannot finish or resume it:
// the stream is broken, and every later Receive, Send and SendEOF returns
// an error matching ErrBroken that says so. Close it.
func (s *Stream) Send(ctx context.Context, p []byte) error {
	if !s.send.Acquire() {
		return s.refused()
	}
	defer s.send.Release()
	if err := s.brokenErr(); err != nil {
		return err
	}
	if s.eofSent.Load() {
		return streams.ErrClosed
	}
	if err := cancel.Checkpoint(ctx); err != nil {
		return err
	}
	if len(p) == 0 {
		return nil
	}
	s.send.Watch(ctx)
	_, err := s.tc.Write(p)
	cancelled := s.send.Finish(ctx, err)
	if err == nil {
		return nil
	}
	return s.sendFailed(ctx, "Send", cancelled, err)
}

// sendFailed breaks the stream after a failed write, which crypto/tls
// never resumes, and returns the error of the call.
func (s *Stream) sendFailed(ctx context.Context, op string, cancelled bool, err error) error {
	if s.closing.Load() || errors.Is(err, net.ErrClosed) {
		return streams.ErrClosed
	}
	if cancelled {
		cerr := cancel.Checkpoint(ctx)
		s.breakWith(fmt.Errorf("%w: tlsstream: an earlier %s was cancelled while writing, and crypto/tls cannot resume an interrupted write (%v)", streams.ErrBroken, op, cerr))
		return cerr
	}
	if !errors.Is(err, streams.ErrBroken) {
		err = fmt.Errorf("%w: %w", streams.ErrBroken, err)
	}
	s.breakWith(err)
	return err
}

// SendEOF sends a close_notify alert (tls.Conn.CloseWrite): the peer sees
// the end of the stream, and this side goes on receiving, a TLS half-close
// that AnyIO does not offer. The transport is not half-closed. Calling it
// again does nothing; Send after it returns [streams.ErrClosed]. TLS 1.3
// keeps the other direction open after a close_notify (RFC 8446, 6.1); a
// TLS 1.2 peer other than crypto/tls may answer it by closing its own
// direction, as RFC 5246 (7.2.1) asks of it. It blocks
// only when the peer is not reading and the transport is full; when ctx
// is done then, it returns the cancellation error and the stream is
// broken, as for a cancelled [Stream.Send].
func (s *Stream) SendEOF(ctx context.Context) error {
	if !s.send.Acquire() {
		return s.refused()
	}
	defer s.send.Release()
	if err := s.brokenErr(); err != nil {
		return err
	}
	if s.eofSent.Load() {
		return nil
	}
	if err := cancel.Checkpoint(ctx); err != nil {
		return err
	}
	s.send.Watch(ctx)
	err := s.tc.CloseWrite()
	cancelled := s.send.Finish(ctx, err)
	if err == nil {
		s.eofSent.Store(true)
		return nil
	}
	return s.sendFailed(ctx, "SendEOF", cancelled, err)
}

// Close closes the stream and the stream under it, and wakes every call
// blocked on it with [streams.ErrClosed]. When [StandardCompatible] is on
// (the default), it first sends a close_notify alert, unless SendEOF sent
// one already, a Send is running, or the stream is broken; it waits at
// most 100 ms for the alert to be written, so that a peer that does not
// read cannot hold it up. Close returns the error of closing the stream
// under it. Calling it again does nothing and returns nil.
func (s *Stream) Close() error {
	if s.closing.Swap(true) {
		return nil
	}
	// Holding the send side keeps Send out while the alert is written; a
	// Send that holds it now is woken below instead.
	if s.send.Acquire() {
		if s.cfg.standard && !s.eofSent.Load() && s.brokenErr() == nil {
			t := time.AfterFunc(closeNotifyWait, s.t.abortWrites)
			s.tc.CloseWrite()
			t.Stop()
		}
		s.closed.Store(true)
		s.send.Release()
	}
	s.closed.Store(true)
	err := s.t.Close()
	s.recv.AfterClose()
	s.send.AfterClose()
	var oe *net.OpError
	if errors.As(err, &oe) {
		err = oe.Err
	}
	return err
}

// sidesOwner is a Stream as its Sides' [ioctx.Owner]: the send side's
// deadline is the transport's abort deadline (see setAbortDeadline).
type sidesOwner Stream

func (o *sidesOwner) Closed() bool                       { return o.closed.Load() }
func (o *sidesOwner) SetReadDeadline(t time.Time) error  { return o.t.Conn.SetReadDeadline(t) }
func (o *sidesOwner) SetWriteDeadline(t time.Time) error { return o.t.setAbortDeadline(t) }
