package streams

import "net"

// The address attributes of a connection-like stream or listener. Package
// sockets exports the same keys (sockets.LocalAddr is LocalAddr), and
// [FromConn] answers them from its net.Conn; a wrapper answers them for
// what it wraps (see [Extra]).
var (
	// LocalAddr is the local address of a stream or listener.
	LocalAddr = NewAttr[net.Addr]("local address")
	// RemoteAddr is the address of a stream's peer.
	RemoteAddr = NewAttr[net.Addr]("remote address")
)
