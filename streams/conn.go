package streams

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync/atomic"

	"github.com/tether-go/tether/cancel"
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
// cancelled (ctx.Done() == nil). Otherwise a call registers a
// context.AfterFunc with ctx (one goroutine per call would cost far more),
// and keeps it for the next call: a loop that passes the same context
// each time pays for it once. The registration lasts until a call with
// another context, the end of the context, or Close.
type ConnStream struct {
	c       net.Conn
	closed  atomic.Bool
	eofSent atomic.Bool
	recv    ioctx.Side
	send    ioctx.Side
	pending error // a Read error that came with data; owned by the Receive in progress
}

var _ ByteStream = (*ConnStream)(nil)

// FromConn returns c as a [ByteStream], a [*ConnStream]. The stream owns c:
// Close closes it. FromConn panics if c is nil.
func FromConn(c net.Conn) *ConnStream {
	if c == nil {
		panic("streams: FromConn with a nil net.Conn")
	}
	s := &ConnStream{c: c}
	s.recv.Init(&s.closed, c.SetReadDeadline)
	s.send.Init(&s.closed, c.SetWriteDeadline)
	return s
}

// NetConn returns the connection under the stream, for what the stream
// does not offer (its addresses, socket options). Reading, writing or
// setting deadlines on it while the stream is in use breaks the stream.
func (s *ConnStream) NetConn() net.Conn { return s.c }

// Unwrap returns the connection under the stream, as NetConn does, so
// that [Extra] asks it for the attributes the stream does not answer (a
// net.Conn that implements [Attributer]).
func (s *ConnStream) Unwrap() net.Conn { return s.c }

// LocalAddr returns the connection's local address.
func (s *ConnStream) LocalAddr() net.Addr { return s.c.LocalAddr() }

// RemoteAddr returns the connection's remote address.
func (s *ConnStream) RemoteAddr() net.Addr { return s.c.RemoteAddr() }

// Attribute answers [LocalAddr] and [RemoteAddr] from the connection,
// when it has them (a nil address is not an answer); see [Extra].
func (s *ConnStream) Attribute(key any) (any, bool) {
	var a net.Addr
	switch key {
	case LocalAddr:
		a = s.c.LocalAddr()
	case RemoteAddr:
		a = s.c.RemoteAddr()
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
	if len(p) == 0 {
		return 0, errEmptyReceive
	}
	if !s.recv.Acquire() {
		return 0, s.refused()
	}
	defer s.recv.Release()
	if err := s.pending; err != nil {
		s.pending = nil
		return 0, s.recvError(err)
	}
	if err := cancel.Checkpoint(ctx); err != nil {
		return 0, err
	}
	s.recv.Watch(ctx)
	n, err := s.c.Read(p)
	for n == 0 && err == nil { // allowed by io.Reader, if discouraged
		n, err = s.c.Read(p)
	}
	if s.recv.Finish(ctx, err) {
		if n > 0 {
			return n, nil
		}
		return 0, cancel.Checkpoint(ctx)
	}
	if n > 0 {
		s.pending = err // returned by the next call, if not nil
		return n, nil
	}
	return 0, s.recvError(err)
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
	if !s.send.Acquire() {
		return s.refused()
	}
	defer s.send.Release()
	if s.eofSent.Load() {
		return ErrClosed
	}
	if err := cancel.Checkpoint(ctx); err != nil {
		return err
	}
	if len(p) == 0 {
		return nil
	}
	s.send.Watch(ctx)
	_, err := s.c.Write(p)
	cancelled := s.send.Finish(ctx, err)
	if err == nil {
		return nil
	}
	if cancelled {
		return cancel.Checkpoint(ctx)
	}
	return s.sendError(err)
}

// SendEOF half-closes the connection with its CloseWrite method (TCP and
// UNIX connections have one), so that the peer sees the end of the stream
// while this side goes on receiving. A connection without CloseWrite
// (net.Pipe's) gives an error matching errors.ErrUnsupported, and the
// stream is unchanged. Calling SendEOF again does nothing. It does not
// block; when ctx is already done it returns a cancellation error.
func (s *ConnStream) SendEOF(ctx context.Context) error {
	if !s.send.Acquire() {
		return s.refused()
	}
	defer s.send.Release()
	if s.eofSent.Load() {
		return nil
	}
	if err := cancel.Checkpoint(ctx); err != nil {
		return err
	}
	cw, ok := s.c.(interface{ CloseWrite() error })
	if !ok {
		return fmt.Errorf("streams: SendEOF: %T cannot half-close: %w", s.c, errors.ErrUnsupported)
	}
	if err := cw.CloseWrite(); err != nil {
		return s.sendError(err)
	}
	s.eofSent.Store(true)
	return nil
}

// Close closes the connection, which wakes any blocked Receive or Send
// with [ErrClosed], and returns its error. Calling Close again does nothing
// and returns nil.
func (s *ConnStream) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	err := s.c.Close()
	s.recv.AfterClose()
	s.send.AfterClose()
	return err
}

// refused is the error of a call that could not claim its direction.
func (s *ConnStream) refused() error {
	if s.closed.Load() {
		return ErrClosed
	}
	return ErrBusy
}

func (s *ConnStream) recvError(err error) error {
	switch {
	case s.closed.Load():
		return ErrClosed
	case errors.Is(err, io.EOF):
		return ErrEndOfStream
	case errors.Is(err, net.ErrClosed), errors.Is(err, io.ErrClosedPipe):
		// Closed underneath the stream.
		return ErrClosed
	case ioctx.IsBroken(err):
		return fmt.Errorf("%w: %w", ErrBroken, err)
	}
	return err
}

func (s *ConnStream) sendError(err error) error {
	switch {
	case s.closed.Load(), errors.Is(err, net.ErrClosed):
		return ErrClosed
	case ioctx.IsBroken(err), errors.Is(err, io.ErrClosedPipe):
		// net.Pipe says ErrClosedPipe when the other end is closed.
		return fmt.Errorf("%w: %w", ErrBroken, err)
	}
	return err
}
