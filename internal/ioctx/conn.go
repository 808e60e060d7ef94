package ioctx

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync/atomic"
	"time"

	"github.com/tether-go/tether/cancel"
	"github.com/tether-go/tether/internal/streamerr"
)

// Conn is a net.Conn's Read, Write and CloseWrite under contexts, with
// the streams contract's errors: the one core of streams.ConnStream and of
// the socket streams of package sockets, which wrap it with their own
// documentation. Calls of their own that share a direction with Receive
// or Send (a UNIX socket's descriptor passing) go through [Conn.BeginReceive]
// and [Conn.EndReceive], or [Conn.BeginSend] and [Conn.EndSend], so that
// busy, closed, cancelled and broken mean one thing for all of them.
//
// Set it up with [Conn.Init]; it must not be copied after that.
type Conn struct {
	c       net.Conn
	closed  atomic.Bool
	eofSent atomic.Bool
	recv    Side
	send    Side
	pending error // a Read error that came with data; owned by the receive holder
}

// Init sets the Conn up around c, which it owns from now on.
func (s *Conn) Init(c net.Conn) {
	s.c = c
	s.recv.Init((*connOwner)(s), false)
	s.send.Init((*connOwner)(s), true)
}

// connOwner is a Conn as its Sides' [Owner]; a type of its own, so that
// these methods are not the Conn's.
type connOwner Conn

func (o *connOwner) Closed() bool                       { return o.closed.Load() }
func (o *connOwner) SetReadDeadline(t time.Time) error  { return o.c.SetReadDeadline(t) }
func (o *connOwner) SetWriteDeadline(t time.Time) error { return o.c.SetWriteDeadline(t) }

// NetConn returns the connection.
func (s *Conn) NetConn() net.Conn { return s.c }

// Receive reads into p, as streams.ConnStream's Receive documents.
func (s *Conn) Receive(ctx context.Context, p []byte) (int, error) {
	if len(p) == 0 {
		return 0, streamerr.ErrEmptyReceive
	}
	if err := s.BeginReceive(ctx); err != nil {
		return 0, err
	}
	defer s.recv.Release()
	n, err := s.c.Read(p)
	for n == 0 && err == nil { // allowed by io.Reader, if discouraged
		n, err = s.c.Read(p)
	}
	return s.EndReceive(ctx, n, err)
}

// BeginReceive claims the receive direction for a call under ctx. It
// returns the error the call must return at once (the direction is busy
// or closed, a previous read left an error to report, ctx is done), or nil
// with the direction held and ctx watched: then the caller makes its one
// blocking read, passes what it returned to [Conn.EndReceive], and
// releases the direction with [Conn.ReleaseReceive] (deferred, so that a
// panic cannot leave it held).
func (s *Conn) BeginReceive(ctx context.Context) error {
	if !s.recv.Acquire() {
		return s.refused()
	}
	if err := s.pending; err != nil {
		s.pending = nil
		s.recv.Release()
		return s.recvError(err)
	}
	if err := cancel.Checkpoint(ctx); err != nil {
		s.recv.Release()
		return err
	}
	s.recv.Watch(ctx)
	return nil
}

// EndReceive ends a read begun with [Conn.BeginReceive], which got n bytes
// and err, and returns what the call returns: the bytes and no error
// when there are bytes (an error that came with them is kept for the next
// call, and a cancellation that raced them is dropped: nothing is lost);
// else ctx's cancellation error if ctx interrupted the read, or err in
// the streams contract's terms. A read of no bytes and no error is the
// end of the stream, as recvmsg says it.
func (s *Conn) EndReceive(ctx context.Context, n int, err error) (int, error) {
	cancelled := s.recv.Finish(ctx, err)
	if n > 0 {
		if !cancelled {
			s.pending = err // returned by the next call, if not nil
		}
		return n, nil
	}
	if cancelled {
		return 0, cancel.Checkpoint(ctx)
	}
	if err == nil {
		err = io.EOF
	}
	return 0, s.recvError(err)
}

// ReleaseReceive releases the receive direction claimed by
// [Conn.BeginReceive].
func (s *Conn) ReleaseReceive() { s.recv.Release() }

// Send writes all of p, as streams.ConnStream's Send documents.
func (s *Conn) Send(ctx context.Context, p []byte) error {
	if err := s.BeginSend(ctx); err != nil {
		return err
	}
	defer s.send.Release()
	if len(p) == 0 {
		return nil
	}
	_, err := s.c.Write(p)
	return s.EndSend(ctx, err)
}

// BeginSend claims the send direction for a call under ctx, as
// [Conn.BeginReceive] does the receive direction; after SendEOF the call
// fails with streams.ErrClosed. On nil the caller makes its write, passes
// its error to [Conn.EndSend] and releases the direction with
// [Conn.ReleaseSend].
func (s *Conn) BeginSend(ctx context.Context) error {
	if !s.send.Acquire() {
		return s.refused()
	}
	err := streamerr.Closed
	if !s.eofSent.Load() {
		err = cancel.Checkpoint(ctx)
	}
	if err != nil {
		s.send.Release()
		return err
	}
	s.send.Watch(ctx)
	return nil
}

// EndSend ends a write begun with [Conn.BeginSend], which returned err,
// and returns what the call returns: nil, ctx's cancellation error if ctx
// interrupted the write, or err in the streams contract's terms.
func (s *Conn) EndSend(ctx context.Context, err error) error {
	cancelled := s.send.Finish(ctx, err)
	switch {
	case err == nil:
		return nil
	case cancelled:
		return cancel.Checkpoint(ctx)
	}
	return s.sendError(err)
}

// ReleaseSend releases the send direction claimed by [Conn.BeginSend].
func (s *Conn) ReleaseSend() { s.send.Release() }

// SendEOF half-closes the connection with its CloseWrite method, as
// streams.ConnStream's SendEOF documents; a connection without one gives
// an error matching errors.ErrUnsupported.
func (s *Conn) SendEOF(ctx context.Context) error {
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

// Close closes the connection, which wakes a blocked call, and returns
// its error; calling it again does nothing and returns nil.
func (s *Conn) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	err := s.c.Close()
	s.recv.AfterClose()
	s.send.AfterClose()
	return err
}

// refused is the error of a call that could not claim its direction.
func (s *Conn) refused() error {
	if s.closed.Load() {
		return streamerr.Closed
	}
	return streamerr.Busy
}

func (s *Conn) recvError(err error) error {
	switch {
	case s.closed.Load():
		return streamerr.Closed
	case errors.Is(err, io.EOF):
		return io.EOF
	case errors.Is(err, net.ErrClosed), errors.Is(err, io.ErrClosedPipe):
		// Closed underneath the stream.
		return streamerr.Closed
	case IsBroken(err):
		return fmt.Errorf("%w: %w", streamerr.Broken, err)
	}
	return err
}

func (s *Conn) sendError(err error) error {
	switch {
	case s.closed.Load(), errors.Is(err, net.ErrClosed):
		return streamerr.Closed
	case IsBroken(err), errors.Is(err, io.ErrClosedPipe):
		// net.Pipe says ErrClosedPipe when the other end is closed.
		return fmt.Errorf("%w: %w", streamerr.Broken, err)
	}
	return err
}
