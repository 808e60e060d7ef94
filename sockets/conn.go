package sockets

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync/atomic"
	"syscall"

	"github.com/tether-go/tether/cancel"
	"github.com/tether-go/tether/internal/ioctx"
	"github.com/tether-go/tether/streams"
)

// errEmptyReceive is Receive's error for an empty buffer.
var errEmptyReceive = fmt.Errorf("sockets: Receive with an empty buffer: %w", io.ErrShortBuffer)

// conn is the core of a socket stream, shared by [SocketStream] and
// [UnixStream]: its Receive and Send run under the cancellation machinery
// of package ioctx, one Side per direction, as streams.FromConn's do.
// Other calls on the socket (SendFDs, ReceiveFDs) take the same Sides, so
// that ErrBusy and cancellation mean one thing for all of them.
type conn struct {
	c       net.Conn // a *net.TCPConn or a *net.UnixConn: a syscall.Conn too
	closed  atomic.Bool
	eofSent atomic.Bool
	recv    ioctx.Side
	send    ioctx.Side
	pending error // a Read error that came with data; owned by the recv holder
}

// init sets the core up around c, a *net.TCPConn or *net.UnixConn.
func (s *conn) init(c net.Conn) {
	s.c = c
	s.recv.Init(&s.closed, c.SetReadDeadline)
	s.send.Init(&s.closed, c.SetWriteDeadline)
}

// syscallConn returns the conn as a syscall.Conn, which both kinds are
// (asserted where needed, not stored: 16 bytes less on every stream).
func (s *conn) syscallConn() syscall.Conn { return s.c.(syscall.Conn) }

// refused is the error of a call that could not claim its direction.
func (s *conn) refused() error {
	if s.closed.Load() {
		return streams.ErrClosed
	}
	return streams.ErrBusy
}

func (s *conn) receive(ctx context.Context, p []byte) (int, error) {
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
	if err == nil { // a socket's Read never does this; be safe anyway
		err = io.ErrNoProgress
	}
	return 0, s.recvError(err)
}

func (s *conn) sendAll(ctx context.Context, p []byte) error {
	if !s.send.Acquire() {
		return s.refused()
	}
	defer s.send.Release()
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

func (s *conn) sendEOF(ctx context.Context) error {
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
	if err := s.c.(interface{ CloseWrite() error }).CloseWrite(); err != nil {
		return s.sendError(err)
	}
	s.eofSent.Store(true)
	return nil
}

func (s *conn) close() error {
	if s.closed.Swap(true) {
		return nil
	}
	err := s.c.Close()
	s.recv.AfterClose()
	s.send.AfterClose()
	return err
}

func (s *conn) recvError(err error) error {
	switch {
	case s.closed.Load():
		return streams.ErrClosed
	case errors.Is(err, io.EOF):
		return streams.ErrEndOfStream
	case errors.Is(err, net.ErrClosed):
		return streams.ErrClosed
	case ioctx.IsBroken(err):
		return fmt.Errorf("%w: %w", streams.ErrBroken, err)
	}
	return err
}

func (s *conn) sendError(err error) error {
	switch {
	case s.closed.Load(), errors.Is(err, net.ErrClosed):
		return streams.ErrClosed
	case ioctx.IsBroken(err):
		return fmt.Errorf("%w: %w", streams.ErrBroken, err)
	}
	return err
}

// attribute answers the socket attributes of a connected socket.
func (s *conn) attribute(key any) (any, bool) {
	switch key {
	case LocalAddr:
		return s.c.LocalAddr(), true
	case RemoteAddr:
		return s.c.RemoteAddr(), true
	case LocalPort:
		return addrPort(s.c.LocalAddr())
	case RemotePort:
		return addrPort(s.c.RemoteAddr())
	case Family:
		return sockFamily(s.syscallConn(), s.c.LocalAddr()), true
	case RawConn:
		raw, err := s.syscallConn().SyscallConn()
		return raw, err == nil
	}
	return nil, false
}

// addrPort returns the port of a TCP or UDP address.
func addrPort(a net.Addr) (any, bool) {
	switch a := a.(type) {
	case *net.TCPAddr:
		return a.Port, true
	case *net.UDPAddr:
		return a.Port, true
	}
	return nil, false
}

// sockFamily returns the socket's address family as the kernel knows it
// (SO_DOMAIN: an IPv6 socket that talks to an IPv4-mapped peer is still
// AF_INET6), or else the family of its local address.
func sockFamily(sc syscall.Conn, local net.Addr) int {
	if raw, err := sc.SyscallConn(); err == nil {
		family, serr := -1, error(nil)
		raw.Control(func(fd uintptr) {
			family, serr = syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_DOMAIN)
		})
		if serr == nil && family >= 0 {
			return family
		}
	}
	return addrFamily(local)
}

// addrFamily returns the address family of a local address.
func addrFamily(a net.Addr) int {
	var ip net.IP
	switch a := a.(type) {
	case *net.TCPAddr:
		ip = a.IP
	case *net.UDPAddr:
		ip = a.IP
	case *net.UnixAddr:
		return syscall.AF_UNIX
	}
	if ip.To4() != nil {
		return syscall.AF_INET
	}
	return syscall.AF_INET6
}
