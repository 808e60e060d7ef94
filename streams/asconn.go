package streams

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tether-go/tether/cancel"
)

// AsConn returns s as a net.Conn, so that code written for net.Conn
// (crypto/tls, net/http, bufio) can use any stream. Read and Write call
// Receive and Send with a context that is cancelled when the read or write
// deadline passes; the deadlines may be set, moved or cleared at any time,
// also while a call is blocked, as net.Conn requires. A call stopped by its
// deadline returns an error that matches os.ErrDeadlineExceeded and is a
// net.Error whose Timeout method reports true. Concurrent Reads (or
// Writes) take turns, as net.Conn allows them and a stream does not.
//
// Close closes s. The end of the stream is io.EOF itself. A Write whose
// deadline passed returns 0, though Send may have sent part of it; see
// the documentation of s. The returned conn also has a CloseWrite method
// that calls SendEOF.
//
// LocalAddr and RemoteAddr look for the [LocalAddr] and [RemoteAddr]
// attributes, or LocalAddr and RemoteAddr methods, in s and down its
// Unwrap chain (see [Extra]): AsConn(Staple(conn, NewBuffered(conn)))
// reports conn's addresses. A stream that has none gets a placeholder
// address whose network and string are "stream". The conn has an Unwrap
// method that returns s, and so Extra answers s's attributes through it.
// AsConn panics if s is nil.
func AsConn(s ByteStream) net.Conn {
	if s == nil {
		panic("streams: AsConn with a nil stream")
	}
	c := &streamConn{s: s, rlock: make(chan struct{}, 1), wlock: make(chan struct{}, 1)}
	c.rd.renewLocked()
	c.wd.renewLocked()
	return c
}

// streamConn is what AsConn returns.
type streamConn struct {
	s      ByteStream
	rd, wd connDeadline
	// rlock and wlock make concurrent Reads (Writes) take turns; they are
	// channels so that a waiting call can give up when its deadline passes.
	rlock, wlock chan struct{}
	closed       atomic.Bool
}

var _ net.Conn = (*streamConn)(nil)

func (c *streamConn) Read(p []byte) (int, error) {
	if c.closed.Load() {
		return 0, c.opError("read", ErrClosed)
	}
	ctx := c.rd.context()
	if ctx.Err() != nil {
		return 0, c.timeout("read")
	}
	if len(p) == 0 {
		return 0, nil
	}
	select {
	case c.rlock <- struct{}{}:
	case <-ctx.Done():
		return 0, c.timeout("read")
	}
	n, err := c.s.Receive(ctx, p)
	<-c.rlock
	if err != nil {
		return n, c.mapError("read", ctx, err)
	}
	return n, nil
}

func (c *streamConn) Write(p []byte) (int, error) {
	if c.closed.Load() {
		return 0, c.opError("write", ErrClosed)
	}
	ctx := c.wd.context()
	if ctx.Err() != nil {
		return 0, c.timeout("write")
	}
	if len(p) == 0 {
		return 0, nil
	}
	select {
	case c.wlock <- struct{}{}:
	case <-ctx.Done():
		return 0, c.timeout("write")
	}
	err := c.s.Send(ctx, p)
	<-c.wlock
	if err != nil {
		return 0, c.mapError("write", ctx, err)
	}
	return len(p), nil
}

// CloseWrite calls SendEOF on the stream, under the write deadline.
func (c *streamConn) CloseWrite() error {
	if c.closed.Load() {
		return c.opError("close write", ErrClosed)
	}
	ctx := c.wd.context()
	select {
	case c.wlock <- struct{}{}:
	case <-ctx.Done():
		return c.timeout("close write")
	}
	err := c.s.SendEOF(ctx)
	<-c.wlock
	if err != nil {
		return c.mapError("close write", ctx, err)
	}
	return nil
}

func (c *streamConn) Close() error {
	if c.closed.Swap(true) {
		return c.opError("close", ErrClosed)
	}
	err := c.s.Close()
	c.rd.stop()
	c.wd.stop()
	if err != nil {
		return c.opError("close", err)
	}
	return nil
}

// mapError turns an error of the stream into what net.Conn users expect.
func (c *streamConn) mapError(op string, ctx context.Context, err error) error {
	switch {
	case errors.Is(err, io.EOF):
		return io.EOF
	case c.closed.Load():
		return c.opError(op, ErrClosed)
	case ctx.Err() != nil && cancel.IsCancelled(err):
		return c.opError(op, os.ErrDeadlineExceeded)
	}
	return c.opError(op, err)
}

// timeout is the error of a call whose deadline context is done: because
// the deadline passed, or because Close released the context.
func (c *streamConn) timeout(op string) error {
	if c.closed.Load() {
		return c.opError(op, ErrClosed)
	}
	return c.opError(op, os.ErrDeadlineExceeded)
}

func (c *streamConn) opError(op string, err error) error {
	return &net.OpError{Op: op, Net: "stream", Source: c.LocalAddr(), Addr: c.RemoteAddr(), Err: err}
}

// Unwrap returns the stream that c adapts.
func (c *streamConn) Unwrap() ByteStream { return c.s }

func (c *streamConn) LocalAddr() net.Addr {
	return addrOf(c.s, LocalAddr, func(o any) net.Addr {
		if a, ok := o.(interface{ LocalAddr() net.Addr }); ok {
			return a.LocalAddr()
		}
		return nil
	})
}

func (c *streamConn) RemoteAddr() net.Addr {
	return addrOf(c.s, RemoteAddr, func(o any) net.Addr {
		if a, ok := o.(interface{ RemoteAddr() net.Addr }); ok {
			return a.RemoteAddr()
		}
		return nil
	})
}

// addrOf finds an address of s: at each step of its Unwrap chain (see
// [Extra]), the attribute key, else the address that method finds, else
// the next step; else a placeholder. A placeholder found on the way (an
// AsConn inside FromConn) is no answer.
func addrOf(s any, key Attr[net.Addr], method func(any) net.Addr) net.Addr {
	v, ok := walk(s, func(o any) (any, bool) {
		a := method(o)
		if at, ok := o.(Attributer); ok {
			if v, ok := at.Attribute(key); ok {
				a, _ = v.(net.Addr)
			}
		}
		if _, placeholder := a.(streamAddr); placeholder || a == nil {
			return nil, false
		}
		return a, true
	})
	if !ok {
		return streamAddr{}
	}
	return v.(net.Addr)
}

func (c *streamConn) SetDeadline(t time.Time) error {
	if c.closed.Load() {
		return c.opError("set deadline", ErrClosed)
	}
	c.rd.set(t)
	c.wd.set(t)
	return nil
}

func (c *streamConn) SetReadDeadline(t time.Time) error {
	if c.closed.Load() {
		return c.opError("set deadline", ErrClosed)
	}
	c.rd.set(t)
	return nil
}

func (c *streamConn) SetWriteDeadline(t time.Time) error {
	if c.closed.Load() {
		return c.opError("set deadline", ErrClosed)
	}
	c.wd.set(t)
	return nil
}

// streamAddr is the address of a stream that has none.
type streamAddr struct{}

func (streamAddr) Network() string { return "stream" }
func (streamAddr) String() string  { return "stream" }

// connDeadline is one deadline of a streamConn, as a context that is
// cancelled when it passes. The context lives until it is cancelled and
// the deadline is then moved: the calls that used it have failed, as they
// should, and later calls get a new one.
type connDeadline struct {
	mu     sync.Mutex
	ctx    context.Context
	cancel context.CancelCauseFunc
	timer  *time.Timer
}

func (d *connDeadline) context() context.Context {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.ctx
}

func (d *connDeadline) renewLocked() {
	d.ctx, d.cancel = context.WithCancelCause(context.Background())
}

// set moves the deadline to t; the zero t removes it.
func (d *connDeadline) set(t time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	expired := d.ctx.Err() != nil
	if d.timer != nil {
		// A timer that fired already is cancelling (or has cancelled) the
		// current context: it counts as expired.
		if !d.timer.Stop() {
			expired = true
		}
		d.timer = nil
	}
	if !t.IsZero() && !time.Now().Before(t) {
		d.cancel(os.ErrDeadlineExceeded)
		return
	}
	if expired {
		d.renewLocked()
	}
	if !t.IsZero() {
		cancel := d.cancel // this context's, not a later one's
		d.timer = time.AfterFunc(time.Until(t), func() { cancel(os.ErrDeadlineExceeded) })
	}
}

// stop releases the deadline's timer and context.
func (d *connDeadline) stop() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.timer != nil {
		d.timer.Stop()
		d.timer = nil
	}
	d.cancel(net.ErrClosed)
}
