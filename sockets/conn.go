package sockets

import (
	"net"
	"syscall"

	"github.com/tether-go/tether/internal/ioctx"
)

// conn is the core of a socket stream, shared by [SocketStream] and
// [UnixStream]: ioctx's Conn, the core of streams.FromConn too, under
// which Receive, Send, SendEOF and Close run, one ioctx.Side per
// direction; SendFDs and ReceiveFDs take the same directions through it,
// so that busy, closed, cancelled and broken mean one thing for all of
// them.
type conn struct {
	core ioctx.Conn // a named field: its methods are not the stream's
}

// c returns the connection, a *net.TCPConn or a *net.UnixConn.
func (s *conn) c() net.Conn { return s.core.NetConn() }

// syscallConn returns the conn as a syscall.Conn, which both kinds are
// (asserted where needed, not stored: 16 bytes less on every stream).
func (s *conn) syscallConn() syscall.Conn { return s.c().(syscall.Conn) }

// attribute answers the socket attributes of a connected socket.
func (s *conn) attribute(key any) (any, bool) {
	switch key {
	case LocalAddr:
		return s.c().LocalAddr(), true
	case RemoteAddr:
		return s.c().RemoteAddr(), true
	case LocalPort:
		return addrPort(s.c().LocalAddr())
	case RemotePort:
		return addrPort(s.c().RemoteAddr())
	case Family:
		return sockFamily(s.syscallConn(), s.c().LocalAddr()), true
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
