package streams

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/tether-go/tether/cancel"
)

// aLongTimeAgo is the deadline that makes a blocked net.Conn call return at
// once (as net/http does).
var aLongTimeAgo = time.Unix(1, 0)

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
	recv    connSide
	send    connSide
	pending error // a Read error that came with data; owned by the Receive in progress
}

var _ ByteStream = (*ConnStream)(nil)

// connSide is the machinery of one direction: its busy flag, and how a
// done context interrupts the blocked net.Conn call.
type connSide struct {
	busy atomic.Bool
	// setDeadline is the conn's SetReadDeadline or SetWriteDeadline.
	setDeadline func(time.Time) error
	// abort runs in its own goroutine once the watched context is done.
	// It sets a deadline in the past, which makes a blocked call return,
	// and then says so on aborted.
	abort   func()
	aborted chan struct{} // capacity 1
	// The registration of abort with the context of the last call, which
	// is kept for the next one: a loop that passes the same context every
	// time pays for context.AfterFunc once. Owned by the busy holder.
	watched context.Context
	stop    func() bool
}

func (d *connSide) init(setDeadline func(time.Time) error) {
	d.setDeadline = setDeadline
	d.aborted = make(chan struct{}, 1)
	d.abort = func() {
		d.setDeadline(aLongTimeAgo)
		d.aborted <- struct{}{}
	}
}

// acquire claims the direction for one call, or says why it cannot.
func (d *connSide) acquire(closed *atomic.Bool) error {
	if !d.busy.CompareAndSwap(false, true) {
		if closed.Load() {
			return ErrClosed // Close may hold the flag for a moment
		}
		return ErrBusy
	}
	if closed.Load() {
		d.release(closed)
		return ErrClosed
	}
	return nil
}

// release ends a call. If the stream was closed meanwhile, whoever of
// Close and the call comes last drops the registration (see
// afterClose): each sets its flag before it looks at the other's.
func (d *connSide) release(closed *atomic.Bool) {
	d.busy.Store(false)
	if closed.Load() {
		d.afterClose()
	}
}

// afterClose drops the registration once the stream is closed, so that a
// long-lived context does not keep the stream reachable, unless a call is
// running: that call will do it when it ends.
func (d *connSide) afterClose() {
	if d.busy.CompareAndSwap(false, true) {
		d.unwatch()
		d.busy.Store(false)
	}
}

// watch makes sure that abort runs if ctx is done during the call, and
// that no registration with another context can run abort meanwhile.
func (d *connSide) watch(ctx context.Context) {
	if d.stop != nil && d.watched == ctx {
		return
	}
	d.unwatch()
	if ctx.Done() == nil { // never done: nothing to watch, nothing to pay
		return
	}
	d.watched, d.stop = ctx, context.AfterFunc(ctx, d.abort)
}

// unwatch drops the registration, and reports whether abort ran. stop
// does not wait for abort, and an abort that set its deadline after the
// reset below would make the next call fail: so when abort has started,
// wait for it to finish first (net/http's abortPendingRead does the same).
func (d *connSide) unwatch() (aborted bool) {
	if d.stop == nil {
		return false
	}
	if !d.stop() {
		<-d.aborted
		d.setDeadline(time.Time{})
		aborted = true
	}
	d.watched, d.stop = nil, nil
	return aborted
}

// finish ends the I/O of a call made under ctx, and reports whether its
// failure came from ctx (abort's deadline). Once ctx is done its
// registration is of no more use: dropping it now lifts the deadline.
func (d *connSide) finish(ctx context.Context, err error) (cancelled bool) {
	if ctx.Err() == nil {
		return false
	}
	aborted := d.unwatch()
	return aborted && isTimeout(err)
}

// FromConn returns c as a [ByteStream], a [*ConnStream]. The stream owns c:
// Close closes it. FromConn panics if c is nil.
func FromConn(c net.Conn) *ConnStream {
	if c == nil {
		panic("streams: FromConn with a nil net.Conn")
	}
	s := &ConnStream{c: c}
	s.recv.init(c.SetReadDeadline)
	s.send.init(c.SetWriteDeadline)
	return s
}

// NetConn returns the connection under the stream, for what the stream
// does not offer (its addresses, socket options). Reading, writing or
// setting deadlines on it while the stream is in use breaks the stream.
func (s *ConnStream) NetConn() net.Conn { return s.c }

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
	if err := s.recv.acquire(&s.closed); err != nil {
		return 0, err
	}
	defer s.recv.release(&s.closed)
	if err := s.pending; err != nil {
		s.pending = nil
		return 0, s.recvError(err)
	}
	if err := cancel.Checkpoint(ctx); err != nil {
		return 0, err
	}
	s.recv.watch(ctx)
	n, err := s.c.Read(p)
	for n == 0 && err == nil { // allowed by io.Reader, if discouraged
		n, err = s.c.Read(p)
	}
	if s.recv.finish(ctx, err) {
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
	if err := s.send.acquire(&s.closed); err != nil {
		return err
	}
	defer s.send.release(&s.closed)
	if s.eofSent.Load() {
		return ErrClosed
	}
	if err := cancel.Checkpoint(ctx); err != nil {
		return err
	}
	if len(p) == 0 {
		return nil
	}
	s.send.watch(ctx)
	_, err := s.c.Write(p)
	cancelled := s.send.finish(ctx, err)
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
	if err := s.send.acquire(&s.closed); err != nil {
		return err
	}
	defer s.send.release(&s.closed)
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
	s.recv.afterClose()
	s.send.afterClose()
	return err
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
	case isBroken(err):
		return fmt.Errorf("%w: %w", ErrBroken, err)
	}
	return err
}

func (s *ConnStream) sendError(err error) error {
	switch {
	case s.closed.Load(), errors.Is(err, net.ErrClosed):
		return ErrClosed
	case isBroken(err), errors.Is(err, io.ErrClosedPipe):
		// net.Pipe says ErrClosedPipe when the other end is closed.
		return fmt.Errorf("%w: %w", ErrBroken, err)
	}
	return err
}

// isBroken reports whether err says that the peer went away.
func isBroken(err error) bool {
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, syscall.ECONNABORTED)
}

// isTimeout reports whether err is a deadline's.
func isTimeout(err error) bool {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
