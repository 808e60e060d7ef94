package streams

import (
	"context"
	"net"

	"github.com/tether-go/tether/internal/ioctx"
)

// ConnStream is a net.Conn seen as a [ByteStream]: every call takes a
// context, and a blocked call returns when its context is done. Make it
// with [FromConn]; the zero value is not usable.
//
// A Receive and a Send may run at once; a second Receive (or Send, or
// SendEOF) while one runs returns [ErrBusy]. It is not reusable after
// Close. It owns the connection's deadlines: do not set them yourself
// while the stream is in use.
//
// Cost: nothing on top of the net.Conn call when ctx can never be
// cancelled (ctx.Done() == nil). Otherwise a call registers a function
// with ctx that interrupts it (one goroutine per call would cost far
// more), and keeps it for the next call: a loop that passes the same
// context each time pays for it once, and allocates nothing after. The
// registration lasts until a call with another context, the end of the
// context, or Close. A task's context (a cancel scope's) takes it as an
// entry in its own list, about 64 bytes, and runs it on the goroutine
// that cancels; another cancellable context takes a context.AfterFunc,
// about 170 bytes, which runs it on a goroutine of its own.
type ConnStream struct {
	core ioctx.Conn
}

var _ ByteStream = (*ConnStream)(nil)

// FromConn returns c as a [ByteStream], a [*ConnStream]. The stream owns c:
// Close closes it. FromConn panics if c is nil.
func FromConn(c net.Conn) *ConnStream {
	if c == nil {
		panic("streams: FromConn with a nil net.Conn")
	}
	s := &ConnStream{}
	s.core.Init(c)
	return s
}

// NetConn returns the connection under the stream, for what the stream
// does not offer (its addresses, socket options). Reading, writing or
// setting deadlines on it while the stream is in use breaks the stream.
func (s *ConnStream) NetConn() net.Conn { return s.core.NetConn() }

// Unwrap returns the connection under the stream, as NetConn does, so
// that [Extra] asks it for the attributes the stream does not answer (a
// net.Conn that implements [Attributer]).
func (s *ConnStream) Unwrap() net.Conn { return s.core.NetConn() }

// LocalAddr returns the connection's local address.
func (s *ConnStream) LocalAddr() net.Addr { return s.core.NetConn().LocalAddr() }

// RemoteAddr returns the connection's remote address.
func (s *ConnStream) RemoteAddr() net.Addr { return s.core.NetConn().RemoteAddr() }

// Attribute answers [LocalAddr] and [RemoteAddr] from the connection,
// when it has them (a nil address is not an answer); see [Extra].
func (s *ConnStream) Attribute(key any) (any, bool) {
	var a net.Addr
	switch key {
	case LocalAddr:
		a = s.core.NetConn().LocalAddr()
	case RemoteAddr:
		a = s.core.NetConn().RemoteAddr()
	default:
		return nil, false
	}
	return a, a != nil
}

// Receive reads from the connection into p; see [ByteReceiver]. The end of
// the stream is [ErrEndOfStream] (io.EOF). When ctx is done Receive returns
// a cancellation error (cancel.Checkpoint's) and consumes nothing: bytes
// that arrived at the same moment are returned instead of the error. A
// Close from another goroutine wakes it with [ErrClosed]. A connection
// reset is an error that matches both [ErrBroken] and the OS error. An
// empty p is an error (wrapping io.ErrShortBuffer).
func (s *ConnStream) Receive(ctx context.Context, p []byte) (int, error) {
	return s.core.Receive(ctx, p)
}

// Send writes all of p to the connection; see [ByteSender]. When ctx is
// done first, Send returns a cancellation error, and part of p may have
// been written: how much is not known, so a protocol should treat the
// stream as broken after it. Some connections cannot write again after an
// interrupted write at all (crypto/tls: every later Send fails). A Close
// from another goroutine wakes it with [ErrClosed]; a peer that reset the
// connection or went away is an error that matches both [ErrBroken] and
// the OS error. Send after SendEOF returns ErrClosed.
func (s *ConnStream) Send(ctx context.Context, p []byte) error {
	return s.core.Send(ctx, p)
}

// SendEOF half-closes the connection with its CloseWrite method (TCP and
// UNIX connections have one), so that the peer sees the end of the stream
// while this side goes on receiving. A connection without CloseWrite
// (net.Pipe's) gives an error matching errors.ErrUnsupported, and the
// stream is unchanged. Calling SendEOF again does nothing. It does not
// block; when ctx is already done it returns a cancellation error.
func (s *ConnStream) SendEOF(ctx context.Context) error {
	return s.core.SendEOF(ctx)
}

// Close closes the connection, which wakes any blocked Receive or Send
// with [ErrClosed], and returns its error. Calling Close again does nothing
// and returns nil.
func (s *ConnStream) Close() error {
	return s.core.Close()
}
