package sockets

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/tether-go/tether/cancel"
	"github.com/tether-go/tether/internal/busy"
	"github.com/tether-go/tether/internal/ioctx"
	"github.com/tether-go/tether/streams"
	"github.com/tether-go/tether/taskgroup"
)

// errListenerClosed is Accept's error once the listener is closed. It
// matches net.ErrClosed, which streams.Serve takes as a clean end.
var errListenerClosed = fmt.Errorf("sockets: accept on a closed listener: %w", streams.ErrClosed)

// errAcceptBusy is Accept's error while another Accept runs.
var errAcceptBusy = fmt.Errorf("sockets: another goroutine is already accepting on this listener: %w", streams.ErrBusy)

// acceptor is the core of a listener: a net.Listener whose Accept a
// context cancels, with ioctx's machinery on the listener's deadline.
type acceptor struct {
	l      net.Listener // a *net.TCPListener or a *net.UnixListener
	sc     syscall.Conn
	closed atomic.Bool
	side   ioctx.Side
	// setDeadline is the listener's SetDeadline.
	setDeadline func(time.Time) error
}

func (a *acceptor) init(l net.Listener, sc syscall.Conn, setDeadline func(time.Time) error) {
	a.l, a.sc, a.setDeadline = l, sc, setDeadline
	a.side.Init((*acceptorOwner)(a), false)
}

// acceptorOwner is an acceptor as its Side's [ioctx.Owner]: Accept is
// its only call, a read.
type acceptorOwner acceptor

func (o *acceptorOwner) Closed() bool                       { return o.closed.Load() }
func (o *acceptorOwner) SetReadDeadline(t time.Time) error  { return o.setDeadline(t) }
func (o *acceptorOwner) SetWriteDeadline(t time.Time) error { return o.setDeadline(t) }

// accept waits for a connection; see MultiListener.Accept.
func (a *acceptor) accept(ctx context.Context) (net.Conn, error) {
	if !a.side.Acquire() {
		if a.closed.Load() {
			return nil, errListenerClosed
		}
		return nil, errAcceptBusy
	}
	defer a.side.Release()
	if err := cancel.Checkpoint(ctx); err != nil {
		return nil, err
	}
	a.side.Watch(ctx)
	c, err := a.l.Accept()
	if a.side.Finish(ctx, err) {
		return nil, cancel.Checkpoint(ctx)
	}
	if err != nil {
		if a.closed.Load() || errors.Is(err, net.ErrClosed) {
			return nil, errListenerClosed
		}
		return nil, err
	}
	return c, nil
}

func (a *acceptor) close() error {
	if a.closed.Swap(true) {
		return nil
	}
	err := a.l.Close()
	a.side.AfterClose()
	return err
}

// attribute answers a listener's attributes.
func (a *acceptor) attribute(key any) (any, bool) {
	switch key {
	case LocalAddr:
		return a.l.Addr(), true
	case LocalPort:
		return addrPort(a.l.Addr())
	case Family:
		return sockFamily(a.sc, a.l.Addr()), true
	case RawConn:
		raw, err := a.sc.SyscallConn()
		return raw, err == nil
	}
	return nil, false
}

// MultiListener is a set of TCP listeners accepted as one: [ListenTCP]
// returns one, listening on every address family the machine has (or on
// each address of a host name) on one port. It implements
// streams.Listener[*SocketStream]; the zero value is not usable. To serve
// TCP and UNIX listeners as one, see [Combine].
//
// One Accept (or Serve) runs at a time; a second concurrent Accept
// returns [streams.ErrBusy]. Close may be called at any time, from any
// goroutine; a MultiListener is not reusable after it.
//
// Cost: with one listener, Accept is the net.TCPListener's Accept under
// ioctx's machinery. With several, each Accept starts one goroutine per
// listener (all of them ended before it returns); a connection accepted
// by one while another won waits in the MultiListener for the next Accept.
type MultiListener struct {
	ls   []*acceptor
	tcp  []*net.TCPListener
	cfg  *config
	many *anyOf[*SocketStream] // when there are several listeners
}

var _ streams.Listener[*SocketStream] = (*MultiListener)(nil)

// add makes tl one of m's listeners, which m owns from then on.
func (m *MultiListener) add(tl *net.TCPListener) {
	acc := &acceptor{}
	acc.init(tl, tl, tl.SetDeadline)
	m.ls = append(m.ls, acc)
	m.tcp = append(m.tcp, tl)
}

// tcpOne is one listener of a MultiListener, as a streams.Listener.
type tcpOne struct {
	a *acceptor
	m *MultiListener
}

func (o tcpOne) Accept(ctx context.Context) (*SocketStream, error) {
	c, err := o.a.accept(ctx)
	if err != nil {
		return nil, err
	}
	return o.m.stream(c)
}

func (o tcpOne) Close() error { return o.a.close() }

// Accept waits for a connection on any of the listeners and returns it
// with TCP_NODELAY set and the stream options given to ListenTCP.
//
// Cancellation: when ctx is done, Accept returns ctx's cancellation error
// and leaves the listener usable; no connection is lost (one that came in
// at that moment is returned by the next Accept). A Close from another
// goroutine wakes it with an error matching [streams.ErrClosed] and
// net.ErrClosed, the error of every Accept after Close.
func (m *MultiListener) Accept(ctx context.Context) (*SocketStream, error) {
	if m.many == nil {
		return tcpOne{m.ls[0], m}.Accept(ctx)
	}
	return m.many.Accept(ctx)
}

// anyOf accepts from several listeners at once: the engine of
// MultiListener and Combine.
type anyOf[T any] struct {
	ls      []streams.Listener[T]
	guard   busy.Guard
	closed  atomic.Bool
	mu      sync.Mutex
	pending []T // accepted while another listener won
}

func (m *anyOf[T]) Accept(ctx context.Context) (T, error) {
	var zero T
	if !m.guard.TryAcquire() {
		if m.closed.Load() {
			return zero, errListenerClosed
		}
		return zero, errAcceptBusy
	}
	defer m.guard.Release()
	if m.closed.Load() {
		return zero, errListenerClosed
	}
	m.mu.Lock()
	if len(m.pending) > 0 {
		c := m.pending[0]
		m.pending = m.pending[1:]
		m.mu.Unlock()
		return c, nil
	}
	m.mu.Unlock()
	if err := cancel.Checkpoint(ctx); err != nil {
		return zero, err
	}
	type result struct {
		c   T
		err error
	}
	actx, stop := context.WithCancel(ctx)
	defer stop()
	results := make(chan result, len(m.ls))
	for _, l := range m.ls {
		go func() {
			c, err := l.Accept(actx)
			results <- result{c, err}
		}()
	}
	var won T
	var ok bool
	var failure error
	for range m.ls {
		r := <-results
		switch {
		case r.err == nil && !ok:
			won, ok = r.c, true
			stop()
		case r.err == nil:
			m.keep(r.c)
		case actx.Err() != nil && cancel.IsCancelled(r.err):
			// stopped by the winner, or by ctx: not a failure.
		default:
			if failure == nil {
				failure = r.err
			}
			stop()
		}
	}
	if ok {
		return won, nil
	}
	if failure != nil {
		return zero, failure
	}
	return zero, cancel.Checkpoint(ctx)
}

// keep holds a connection accepted by a listener that lost the race.
func (m *anyOf[T]) keep(c T) {
	m.mu.Lock()
	if m.closed.Load() {
		m.mu.Unlock()
		closeAny(c)
		return
	}
	m.pending = append(m.pending, c)
	m.mu.Unlock()
}

func (m *anyOf[T]) Close() error {
	if m.closed.Swap(true) {
		return nil
	}
	var first error
	for _, l := range m.ls {
		if err := l.Close(); err != nil && first == nil {
			first = err
		}
	}
	m.mu.Lock()
	pending := m.pending
	m.pending = nil
	m.mu.Unlock()
	for _, c := range pending {
		closeAny(c)
	}
	return first
}

func closeAny(c any) {
	if cl, ok := c.(io.Closer); ok {
		cl.Close()
	}
}

// Combined is several listeners accepted and served as one (AnyIO's
// MultiListener): a TCP and a UNIX listener, say, through [Streams]. Make
// one with [Combine]. It has the contract of [MultiListener]: one Accept
// at a time, no connection lost when an Accept is cancelled, Close closes
// every listener. Each Accept starts one goroutine per listener.
type Combined[T any] struct {
	anyOf[T]
}

var _ streams.Listener[int] = (*Combined[int])(nil)

// Combine returns ls as one listener. It panics if ls is empty or holds a
// nil listener. The Combined owns the listeners: its Close closes them.
func Combine[T any](ls ...streams.Listener[T]) *Combined[T] {
	if len(ls) == 0 {
		panic("sockets: Combine of no listeners")
	}
	for _, l := range ls {
		if l == nil {
			panic("sockets: Combine of a nil listener")
		}
	}
	return &Combined[T]{anyOf[T]{ls: slices.Clone(ls)}}
}

// Accept waits for a connection on any of the listeners; see
// [MultiListener.Accept] for the cancellation contract.
func (c *Combined[T]) Accept(ctx context.Context) (T, error) { return c.anyOf.Accept(ctx) }

// Serve accepts connections and runs handler for each as a task of g
// (its own group when g is nil); see [streams.Serve], whose contract it
// has. Serve does not close the listeners.
func (c *Combined[T]) Serve(ctx context.Context, handler func(ctx context.Context, conn T) error, g *taskgroup.Group, opts ...streams.ServeOption) error {
	return streams.Serve(ctx, c, handler, g, opts...)
}

// Close closes every listener, waking a blocked Accept, and the
// connections accepted but not yet returned; it returns the first error.
// Calling it again does nothing and returns nil.
func (c *Combined[T]) Close() error { return c.anyOf.Close() }

// Streams returns l as a listener of [streams.ByteStream], so that
// listeners of different stream types (a [*MultiListener], a
// [*UnixListener]) can be given to [Combine] together.
func Streams[T streams.ByteStream](l streams.Listener[T]) streams.Listener[streams.ByteStream] {
	return byteStreams[T]{l}
}

type byteStreams[T streams.ByteStream] struct{ l streams.Listener[T] }

func (b byteStreams[T]) Accept(ctx context.Context) (streams.ByteStream, error) {
	c, err := b.l.Accept(ctx)
	if err != nil {
		return nil, err
	}
	return c, nil
}

func (b byteStreams[T]) Close() error { return b.l.Close() }

// stream makes an accepted connection a stream with the options.
func (m *MultiListener) stream(c net.Conn) (*SocketStream, error) {
	tc := c.(*net.TCPConn)
	if err := m.cfg.setConnOptions(tc); err != nil {
		tc.Close()
		return nil, err
	}
	return newSocketStream(tc), nil
}

// Serve accepts connections and runs handler for each as a task of g
// (its own group when g is nil); see [streams.Serve], whose contract it
// has (cancellation, Drain, MaxConns, FailFast, errors). Serve does not
// close the listener.
func (m *MultiListener) Serve(ctx context.Context, handler func(ctx context.Context, s *SocketStream) error, g *taskgroup.Group, opts ...streams.ServeOption) error {
	return streams.Serve(ctx, m, handler, g, opts...)
}

// Close closes every listener, waking a blocked Accept, and the
// connections accepted but not yet returned. It returns the first error.
// Calling it again does nothing and returns nil.
func (m *MultiListener) Close() error {
	if m.many != nil {
		return m.many.Close()
	}
	return m.ls[0].close()
}

// Addrs returns the address of each listener, in the order they were
// made.
func (m *MultiListener) Addrs() []net.Addr {
	addrs := make([]net.Addr, len(m.ls))
	for i, l := range m.ls {
		addrs[i] = l.l.Addr()
	}
	return addrs
}

// Port returns the port every listener listens on.
func (m *MultiListener) Port() int { return m.tcp[0].Addr().(*net.TCPAddr).Port }

// Attribute answers [LocalAddr], [LocalPort], [Family] and [RawConn] from
// the first listener (see Addrs for every address); see [streams.Extra].
func (m *MultiListener) Attribute(key any) (any, bool) { return m.ls[0].attribute(key) }
