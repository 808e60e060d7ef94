package sockets

import (
	"context"
	"net"

	"github.com/tether-go/tether/streams"
)

// SocketStream is a TCP connection as a [streams.ByteStream]: every call
// takes a context, and a blocked call returns when its context is done.
// Make one with [ConnectTCP], or accept one from a [MultiListener]; the
// zero value is not usable.
//
// A Receive and a Send may run at once from two goroutines; a second
// Receive (or Send, or SendEOF) while one runs returns [streams.ErrBusy].
// Close may be called from any goroutine, at any time; the stream is not
// reusable after it. TCP_NODELAY is set: each Send goes out at once.
//
// Cost: a Receive or Send is the net.TCPConn call and nothing more when
// ctx can never be cancelled. With a cancellable ctx, the first call
// registers with ctx a function that interrupts it, which later calls with
// the same ctx reuse: no allocation per call in a loop (see
// [streams.ConnStream], whose core it shares). A cancelled call costs two
// deadline changes, and with a context that is not a task's (a cancel
// scope's), the goroutine that context.AfterFunc runs.
type SocketStream struct {
	conn
}

var _ streams.ByteStream = (*SocketStream)(nil)

func newSocketStream(c *net.TCPConn) *SocketStream {
	s := &SocketStream{}
	s.core.Init(c)
	return s
}

// Receive reads at least one byte into p; see [streams.ByteReceiver]. The
// peer's clean close is [streams.ErrEndOfStream] (io.EOF); a reset is an
// error matching [streams.ErrBroken] and the OS error (syscall.ECONNRESET).
// When ctx is done Receive returns its cancellation error (with the cause,
// as cancel.Checkpoint gives it) and consumes nothing, unless bytes
// arrived at that moment, which it returns; the stream stays usable. A
// Close from another goroutine wakes it with [streams.ErrClosed]. An empty
// p is an error wrapping io.ErrShortBuffer.
func (s *SocketStream) Receive(ctx context.Context, p []byte) (int, error) {
	return s.core.Receive(ctx, p)
}

// Send writes all of p; see [streams.ByteSender]. When ctx is done first,
// Send returns its cancellation error and part of p may have been sent, so
// a protocol should treat the stream as broken after it. A Close from
// another goroutine wakes it with [streams.ErrClosed]; a peer that went
// away is an error matching [streams.ErrBroken] and the OS error
// (syscall.EPIPE, syscall.ECONNRESET). Send after SendEOF is ErrClosed.
func (s *SocketStream) Send(ctx context.Context, p []byte) error {
	return s.core.Send(ctx, p)
}

// SendEOF half-closes the connection (shutdown(SHUT_WR)): the peer
// receives the end of the stream, and this side can go on receiving. It
// does not block; calling it again does nothing.
func (s *SocketStream) SendEOF(ctx context.Context) error { return s.core.SendEOF(ctx) }

// Close closes the connection, waking any blocked Receive or Send with
// [streams.ErrClosed]. Calling it again does nothing and returns nil.
func (s *SocketStream) Close() error { return s.core.Close() }

// LocalAddr returns the local address, a *net.TCPAddr.
func (s *SocketStream) LocalAddr() net.Addr { return s.c().LocalAddr() }

// RemoteAddr returns the peer's address, a *net.TCPAddr.
func (s *SocketStream) RemoteAddr() net.Addr { return s.c().RemoteAddr() }

// Attribute answers [LocalAddr], [RemoteAddr], [LocalPort], [RemotePort],
// [Family] and [RawConn]; see [streams.Extra].
func (s *SocketStream) Attribute(key any) (any, bool) { return s.attribute(key) }

// UnixStream is a UNIX stream socket connection as a [streams.ByteStream],
// with the same contract and cost as [SocketStream] (without TCP's
// options), plus the passing of open files (SendFDs, ReceiveFDs). Make one
// with [ConnectUnix], or accept one from a [UnixListener]; the zero value
// is not usable.
type UnixStream struct {
	conn
}

var _ streams.ByteStream = (*UnixStream)(nil)

func newUnixStream(c *net.UnixConn) *UnixStream {
	s := &UnixStream{}
	s.core.Init(c)
	return s
}

// Receive reads at least one byte into p, as [SocketStream.Receive] does.
func (s *UnixStream) Receive(ctx context.Context, p []byte) (int, error) {
	return s.core.Receive(ctx, p)
}

// Send writes all of p, as [SocketStream.Send] does.
func (s *UnixStream) Send(ctx context.Context, p []byte) error { return s.core.Send(ctx, p) }

// SendEOF half-closes the connection, as [SocketStream.SendEOF] does.
func (s *UnixStream) SendEOF(ctx context.Context) error { return s.core.SendEOF(ctx) }

// Close closes the connection, waking any blocked call with
// [streams.ErrClosed]. Calling it again does nothing and returns nil.
func (s *UnixStream) Close() error { return s.core.Close() }

// LocalAddr returns the local address, a *net.UnixAddr.
func (s *UnixStream) LocalAddr() net.Addr { return s.c().LocalAddr() }

// RemoteAddr returns the peer's address, a *net.UnixAddr.
func (s *UnixStream) RemoteAddr() net.Addr { return s.c().RemoteAddr() }

// Attribute answers [LocalAddr], [RemoteAddr], [Family] and [RawConn];
// see [streams.Extra].
func (s *UnixStream) Attribute(key any) (any, bool) { return s.attribute(key) }

// unixConn returns the connection under the stream.
func (s *UnixStream) unixConn() *net.UnixConn { return s.c().(*net.UnixConn) }
