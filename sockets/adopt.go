package sockets

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"

	"github.com/tether-go/tether/streams"
	"golang.org/x/sys/unix"
)

// Socket is any socket of this package: [*SocketStream], [*UnixStream],
// [*MultiListener], [*UnixListener], [*UDPSocket], [*ConnectedUDPSocket],
// [*UnixDatagramSocket] or [*ConnectedUnixDatagramSocket]. [AdoptFile]
// returns one; a type switch tells which.
type Socket interface {
	streams.Attributer
	io.Closer
}

// role is what a socket must be doing to be adopted as a kind.
type role int

const (
	connected role = iota // a stream or datagram socket with a peer
	listening             // a stream socket accepting connections
	bound                 // a datagram socket without a peer, bound to an address
)

// kind is what an Adopt function takes.
type kind struct {
	op    string
	typ   int  // syscall.SOCK_STREAM or syscall.SOCK_DGRAM
	local bool // AF_UNIX, else AF_INET or AF_INET6
	role  role
}

// sockInfo is what the system says of a descriptor.
type sockInfo struct {
	typ, family          int
	listening, connected bool
	bound                bool // it has a local address (a port, a path)
}

// inspect asks the system what the socket behind rc is.
func inspect(rc syscall.RawConn) (sockInfo, error) {
	var info sockInfo
	var serr error
	err := rc.Control(func(fd uintptr) {
		s := int(fd)
		if info.typ, serr = unix.GetsockoptInt(s, unix.SOL_SOCKET, unix.SO_TYPE); serr != nil {
			serr = os.NewSyscallError("getsockopt", serr)
			if errors.Is(serr, syscall.ENOTSOCK) {
				serr = fmt.Errorf("the descriptor is not a socket: %w", serr)
			}
			return
		}
		if info.family, serr = unix.GetsockoptInt(s, unix.SOL_SOCKET, unix.SO_DOMAIN); serr != nil {
			serr = os.NewSyscallError("getsockopt", serr)
			return
		}
		acc, err := unix.GetsockoptInt(s, unix.SOL_SOCKET, unix.SO_ACCEPTCONN)
		info.listening = err == nil && acc != 0
		_, err = unix.Getpeername(s)
		info.connected = err == nil
		sa, err := unix.Getsockname(s)
		switch sa := sa.(type) {
		case *unix.SockaddrInet4:
			info.bound = err == nil && sa.Port != 0
		case *unix.SockaddrInet6:
			info.bound = err == nil && sa.Port != 0
		case *unix.SockaddrUnix:
			// Unbound, the name is empty: x/sys says "@".
			info.bound = err == nil && sa.Name != "" && sa.Name != "@"
		}
	})
	if err != nil {
		return info, err
	}
	return info, serr
}

// check returns the error that says why info is not of kind k, or nil.
func (k kind) check(info sockInfo) error {
	if info.typ != k.typ {
		return k.errorf("the socket is a %s socket, not a %s one", typeName(info.typ), typeName(k.typ))
	}
	isUnix := info.family == syscall.AF_UNIX
	isIP := info.family == syscall.AF_INET || info.family == syscall.AF_INET6
	switch {
	case k.local && !isUnix:
		return k.errorf("the socket is of family %s, not a UNIX one", familyName(info.family))
	case !k.local && !isIP:
		return k.errorf("the socket is of family %s, not IPv4 or IPv6", familyName(info.family))
	}
	switch k.role {
	case connected:
		if info.listening {
			return k.errorf("the socket is listening, not connected")
		}
		if !info.connected {
			return k.errorf("the socket is not connected")
		}
	case listening:
		if !info.listening {
			return k.errorf("the socket is not listening")
		}
	case bound:
		if info.connected {
			return k.errorf("the socket is connected (a connected socket has its own type)")
		}
		if !info.bound {
			return k.errorf("the socket is not bound to an address")
		}
	}
	return nil
}

func (k kind) errorf(format string, args ...any) error {
	return fmt.Errorf("sockets: %s: %w", k.op, fmt.Errorf(format, args...))
}

// adoptCheck is the check of a Go socket c given to an Adopt function: it
// must be a want (a *net.TCPConn, say), and of kind k.
func adoptCheck(k kind, c any, ok bool, want string) error {
	if !ok {
		return k.errorf("%T is not a %s", c, want)
	}
	sc, ok := c.(syscall.Conn)
	if !ok {
		return k.errorf("%T has no descriptor", c)
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return k.errorf("%w", err)
	}
	info, err := inspect(rc)
	if err != nil {
		return k.errorf("%w", err)
	}
	return k.check(info)
}

// AdoptTCP returns c, a connected *net.TCPConn, as a [*SocketStream], with
// TCP_NODELAY set. The stream owns c from then on: its Close closes c, and
// c must not be used directly. Any other net.Conn, or one that is not
// connected, is an error that says so, and c is left as it was.
func AdoptTCP(c net.Conn) (*SocketStream, error) {
	tc, ok := c.(*net.TCPConn)
	if err := adoptCheck(kind{"AdoptTCP", syscall.SOCK_STREAM, false, connected}, c, ok, "*net.TCPConn"); err != nil {
		return nil, err
	}
	if err := tc.SetNoDelay(true); err != nil {
		return nil, fmt.Errorf("sockets: AdoptTCP: %w", err)
	}
	return newSocketStream(tc), nil
}

// AdoptUnix returns c, a connected *net.UnixConn of a stream socket, as a
// [*UnixStream], which owns c from then on, as [AdoptTCP] does.
func AdoptUnix(c net.Conn) (*UnixStream, error) {
	uc, ok := c.(*net.UnixConn)
	if err := adoptCheck(kind{"AdoptUnix", syscall.SOCK_STREAM, true, connected}, c, ok, "*net.UnixConn"); err != nil {
		return nil, err
	}
	return newUnixStream(uc), nil
}

// AdoptTCPListener returns l, a listening *net.TCPListener, as a
// [*MultiListener] of one listener, which owns l from then on: its Close
// closes l. Any other net.Listener is an error that says so, and l is
// left as it was.
func AdoptTCPListener(l net.Listener) (*MultiListener, error) {
	tl, ok := l.(*net.TCPListener)
	if err := adoptCheck(kind{"AdoptTCPListener", syscall.SOCK_STREAM, false, listening}, l, ok, "*net.TCPListener"); err != nil {
		return nil, err
	}
	m := &MultiListener{cfg: &config{}}
	m.add(tl)
	return m, nil
}

// AdoptUnixListener returns l, a listening *net.UnixListener, as a
// [*UnixListener], which owns l from then on, as [AdoptTCPListener] does.
// Its Close removes the socket file if l would have (see
// net.UnixListener.SetUnlinkOnClose), and not otherwise.
func AdoptUnixListener(l net.Listener) (*UnixListener, error) {
	ul, ok := l.(*net.UnixListener)
	if err := adoptCheck(kind{"AdoptUnixListener", syscall.SOCK_STREAM, true, listening}, l, ok, "*net.UnixListener"); err != nil {
		return nil, err
	}
	return newUnixListener(ul), nil
}

// AdoptUDP returns c, a *net.UDPConn bound to a port and not connected, as
// a [*UDPSocket], which owns c from then on, as [AdoptTCP] does. A
// connected one is an error: adopt it with [AdoptConnectedUDP].
func AdoptUDP(c net.PacketConn) (*UDPSocket, error) {
	uc, ok := c.(*net.UDPConn)
	if err := adoptCheck(kind{"AdoptUDP", syscall.SOCK_DGRAM, false, bound}, c, ok, "*net.UDPConn"); err != nil {
		return nil, err
	}
	return newUDPSocket(uc, nil), nil
}

// AdoptConnectedUDP returns c, a connected *net.UDPConn, as a
// [*ConnectedUDPSocket], which owns c from then on, as [AdoptTCP] does.
func AdoptConnectedUDP(c net.Conn) (*ConnectedUDPSocket, error) {
	uc, ok := c.(*net.UDPConn)
	if err := adoptCheck(kind{"AdoptConnectedUDP", syscall.SOCK_DGRAM, false, connected}, c, ok, "*net.UDPConn"); err != nil {
		return nil, err
	}
	return newConnectedUDPSocket(uc), nil
}

// AdoptUnixDatagram returns c, a *net.UnixConn of a datagram socket bound
// to a path and not connected, as a [*UnixDatagramSocket], which owns c
// from then on, as [AdoptTCP] does. Its Close does not remove the socket
// file, which it did not make.
func AdoptUnixDatagram(c net.PacketConn) (*UnixDatagramSocket, error) {
	uc, ok := c.(*net.UnixConn)
	if err := adoptCheck(kind{"AdoptUnixDatagram", syscall.SOCK_DGRAM, true, bound}, c, ok, "*net.UnixConn"); err != nil {
		return nil, err
	}
	return newUnixDatagramSocket(uc), nil
}

// AdoptConnectedUnixDatagram returns c, a connected *net.UnixConn of a
// datagram socket, as a [*ConnectedUnixDatagramSocket], which owns c from
// then on, as [AdoptTCP] does.
func AdoptConnectedUnixDatagram(c net.Conn) (*ConnectedUnixDatagramSocket, error) {
	uc, ok := c.(*net.UnixConn)
	if err := adoptCheck(kind{"AdoptConnectedUnixDatagram", syscall.SOCK_DGRAM, true, connected}, c, ok, "*net.UnixConn"); err != nil {
		return nil, err
	}
	return newConnectedUnixDatagramSocket(uc), nil
}

// AdoptFile returns the socket whose descriptor f holds (one inherited
// from a parent process or a service manager, say) as the [Socket] of
// the matching type: a connected TCP or UNIX stream socket is a
// [*SocketStream] or [*UnixStream]; a listening one a [*MultiListener] or
// [*UnixListener]; a UDP or UNIX datagram socket a [*UDPSocket] or
// [*UnixDatagramSocket] (bound, not connected) or a [*ConnectedUDPSocket]
// or [*ConnectedUnixDatagramSocket]. The Socket has a descriptor of its
// own (a duplicate): f stays the caller's to close.
//
// A descriptor that is not a socket is an error matching
// syscall.ENOTSOCK; a socket of another type (raw, seqpacket) or family
// (netlink, packet), a stream socket neither connected nor listening, and
// a datagram socket neither connected nor bound are errors that say so.
func AdoptFile(f *os.File) (Socket, error) {
	const op = "AdoptFile"
	if f == nil {
		return nil, errors.New("sockets: AdoptFile: nil *os.File")
	}
	rc, err := f.SyscallConn()
	if err != nil {
		return nil, fmt.Errorf("sockets: %s: %s: %w", op, f.Name(), err)
	}
	info, err := inspect(rc)
	if err != nil {
		return nil, fmt.Errorf("sockets: %s: %s: %w", op, f.Name(), err)
	}
	k := kind{op: op, typ: info.typ, local: info.family == syscall.AF_UNIX}
	switch {
	case info.typ != syscall.SOCK_STREAM && info.typ != syscall.SOCK_DGRAM:
		return nil, k.errorf("%s: a %s socket; only stream and datagram sockets are supported", f.Name(), typeName(info.typ))
	case info.listening:
		k.role = listening
	case info.connected:
		k.role = connected
	case info.typ == syscall.SOCK_STREAM:
		return nil, k.errorf("%s: the stream socket is neither connected nor listening", f.Name())
	default:
		k.role = bound
	}
	if err := k.check(info); err != nil {
		return nil, err
	}
	// net dups the descriptor, and checks it again; the Adopt function
	// checks what net made of it.
	var (
		sock Socket
		dup  io.Closer
	)
	switch k.role {
	case listening:
		var l net.Listener
		if l, err = net.FileListener(f); err == nil {
			dup = l
			if k.local {
				sock, err = asSocket(AdoptUnixListener(l))
			} else {
				sock, err = asSocket(AdoptTCPListener(l))
			}
		}
	case bound:
		var pc net.PacketConn
		if pc, err = net.FilePacketConn(f); err == nil {
			dup = pc
			if k.local {
				sock, err = asSocket(AdoptUnixDatagram(pc))
			} else {
				sock, err = asSocket(AdoptUDP(pc))
			}
		}
	default:
		var c net.Conn
		if c, err = net.FileConn(f); err == nil {
			dup = c
			switch {
			case k.typ == syscall.SOCK_STREAM && k.local:
				sock, err = asSocket(AdoptUnix(c))
			case k.typ == syscall.SOCK_STREAM:
				sock, err = asSocket(AdoptTCP(c))
			case k.local:
				sock, err = asSocket(AdoptConnectedUnixDatagram(c))
			default:
				sock, err = asSocket(AdoptConnectedUDP(c))
			}
		}
	}
	if err != nil {
		if dup != nil {
			dup.Close()
			return nil, err // the Adopt function's, which names itself
		}
		return nil, k.errorf("%s: %w", f.Name(), err)
	}
	return sock, nil
}

// asSocket returns an Adopt function's result as a Socket: nil, not a
// typed nil, on error.
func asSocket[S Socket](s S, err error) (Socket, error) {
	if err != nil {
		return nil, err
	}
	return s, nil
}

func typeName(typ int) string {
	switch typ {
	case syscall.SOCK_STREAM:
		return "stream"
	case syscall.SOCK_DGRAM:
		return "datagram"
	case syscall.SOCK_SEQPACKET:
		return "seqpacket"
	case syscall.SOCK_RAW:
		return "raw"
	}
	return fmt.Sprintf("type-%d", typ)
}

func familyName(family int) string {
	switch family {
	case syscall.AF_INET:
		return "AF_INET"
	case syscall.AF_INET6:
		return "AF_INET6"
	case syscall.AF_UNIX:
		return "AF_UNIX"
	case syscall.AF_NETLINK:
		return "AF_NETLINK"
	case syscall.AF_PACKET:
		return "AF_PACKET"
	}
	return fmt.Sprintf("%d", family)
}
