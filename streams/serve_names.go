package streams

import (
	"net"
	"strconv"
)

// The names of Serve's handler tasks, in a named group.

// taskName names the task that will serve conn (see [handlerName]). If
// conn's RemoteAddr or Attribute method panics, the panic goes on up the
// accept loop as a panic in Accept does, once conn is closed: it has no
// task yet to own it.
func (s *server[T]) taskName(conn T) string {
	named := false
	defer func() {
		if !named {
			closeConn(conn)
			s.releaseSlot()
		}
	}()
	name := handlerName(conn, s.accepted)
	named = true
	return name
}

// handlerName is the name of the task that serves conn, the nth
// connection that Serve accepted: "handler " and the peer's address when
// conn has one, else "handler #n".
func handlerName(conn any, n uint64) string {
	if addr := remoteAddr(conn); addr != "" {
		return "handler " + addr
	}
	var buf [32]byte
	return string(strconv.AppendUint(append(buf[:0], "handler #"...), n, 10))
}

// remoteAddr returns the address of conn's peer, or "" when it has none:
// from its RemoteAddr method (a net.Conn's, a [ConnStream]'s), else from
// its [RemoteAddr] attribute (a wrapper's, through [Extra]). A nil
// *net.TCPAddr (or UDPAddr, UnixAddr, IPAddr) in a net.Addr prints as
// "<nil>", and an unnamed UNIX socket's address as "": neither names a
// peer.
func remoteAddr(conn any) string {
	var addr net.Addr
	if c, ok := conn.(interface{ RemoteAddr() net.Addr }); ok {
		addr = c.RemoteAddr()
	}
	if addr == nil {
		addr, _ = Extra(conn, RemoteAddr)
	}
	if addr == nil {
		return ""
	}
	if s := addr.String(); s != "<nil>" {
		return s
	}
	return ""
}
