package sockets

import (
	"context"
	"errors"
	"fmt"
	"net"
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
}

func (a *acceptor) init(l net.Listener, sc syscall.Conn, setDeadline func(time.Time) error) {
	a.l, a.sc = l, sc
	a.side.Init(&a.closed, setDeadline)
}

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
		return addrFamily(a.l.Addr()), true
	case RawConn:
		raw, err := a.sc.SyscallConn()
		return raw, err == nil
	}
	return nil, false
}

// MultiListener is a set of TCP listeners accepted as one: [ListenTCP]
// returns one, listening on every address family the machine has (or on
// each address of a host name) on one port. It implements
// streams.Listener[*SocketStream]; the zero value is not usable.
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
	ls      []*acceptor
	tcp     []*net.TCPListener
	cfg     *config
	guard   busy.Guard
	closed  atomic.Bool
	mu      sync.Mutex
	pending []*SocketStream // accepted while another listener won
}

var _ streams.Listener[*SocketStream] = (*MultiListener)(nil)

// Accept waits for a connection on any of the listeners and returns it
// with TCP_NODELAY set and the stream options given to ListenTCP.
//
// Cancellation: when ctx is done, Accept returns ctx's cancellation error
// and leaves the listener usable; no connection is lost (one that came in
// at that moment is returned by the next Accept). A Close from another
// goroutine wakes it with an error matching [streams.ErrClosed] and
// net.ErrClosed, the error of every Accept after Close.
func (m *MultiListener) Accept(ctx context.Context) (*SocketStream, error) {
	if len(m.ls) == 1 {
		c, err := m.ls[0].accept(ctx)
		if err != nil {
			return nil, err
		}
		return m.stream(c)
	}
	if !m.guard.TryAcquire() {
		if m.closed.Load() {
			return nil, errListenerClosed
		}
		return nil, errAcceptBusy
	}
	defer m.guard.Release()
	if m.closed.Load() {
		return nil, errListenerClosed
	}
	m.mu.Lock()
	if len(m.pending) > 0 {
		s := m.pending[0]
		m.pending = m.pending[1:]
		m.mu.Unlock()
		return s, nil
	}
	m.mu.Unlock()
	if err := cancel.Checkpoint(ctx); err != nil {
		return nil, err
	}
	type result struct {
		c   net.Conn
		err error
	}
	actx, stop := context.WithCancel(ctx)
	defer stop()
	results := make(chan result, len(m.ls))
	for _, l := range m.ls {
		go func() {
			c, err := l.accept(actx)
			results <- result{c, err}
		}()
	}
	var won *SocketStream
	var failure error
	for range m.ls {
		r := <-results
		switch {
		case r.err == nil:
			s, err := m.stream(r.c)
			switch {
			case err != nil:
				failure = cmpOr(failure, err)
			case won == nil:
				won = s
			default:
				m.keep(s)
			}
			stop()
		case actx.Err() != nil && cancel.IsCancelled(r.err):
			// stopped by the winner, or by ctx: not a failure.
		default:
			failure = cmpOr(failure, r.err)
			stop()
		}
	}
	if won != nil {
		return won, nil
	}
	if failure != nil {
		return nil, failure
	}
	return nil, cancel.Checkpoint(ctx)
}

// keep holds a stream accepted by a listener that lost the race.
func (m *MultiListener) keep(s *SocketStream) {
	m.mu.Lock()
	if m.closed.Load() {
		m.mu.Unlock()
		s.Close()
		return
	}
	m.pending = append(m.pending, s)
	m.mu.Unlock()
}

func cmpOr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

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
	if m.closed.Swap(true) {
		return nil
	}
	var first error
	for _, l := range m.ls {
		if err := l.close(); err != nil && first == nil {
			first = err
		}
	}
	m.mu.Lock()
	pending := m.pending
	m.pending = nil
	m.mu.Unlock()
	for _, s := range pending {
		s.Close()
	}
	return first
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
