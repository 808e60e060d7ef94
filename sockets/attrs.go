package sockets

import (
	"syscall"

	"github.com/tether-go/tether/streams"
)

// The typed attributes of sockets, read with [streams.Extra]. Streams
// answer all of them; listeners answer LocalAddr, LocalPort, Family and
// RawConn. A UNIX socket has no ports.
var (
	// LocalAddr is the socket's local address; it is streams.LocalAddr.
	LocalAddr = streams.LocalAddr
	// RemoteAddr is the address of the socket's peer; it is
	// streams.RemoteAddr.
	RemoteAddr = streams.RemoteAddr
	// LocalPort is the local port of an IP socket.
	LocalPort = streams.NewAttr[int]("local port")
	// RemotePort is the peer's port of an IP socket.
	RemotePort = streams.NewAttr[int]("remote port")
	// Family is the socket's address family: syscall.AF_INET,
	// syscall.AF_INET6 or syscall.AF_UNIX.
	Family = streams.NewAttr[int]("address family")
	// RawConn is the socket's descriptor, for options this package does
	// not cover. Using it to read, write or set deadlines breaks the
	// socket's cancellation.
	RawConn = streams.NewAttr[syscall.RawConn]("raw connection")
)
