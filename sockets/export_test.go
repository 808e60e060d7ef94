package sockets

import (
	"net"
	"net/netip"
)

// AttemptOrder returns the order in which ConnectTCP tries addrs (given
// in the resolver's order).
func AttemptOrder(addrs []netip.Addr) []netip.Addr {
	var list attempts
	list.add(addrs)
	var out []netip.Addr
	for a, ok := list.next(); ok; a, ok = list.next() {
		out = append(out, a)
	}
	return out
}

// NetConnForBench returns the connection under the stream, for a plain
// peer in benchmarks.
func (s *SocketStream) NetConnForBench() net.Conn { return s.c() }

// NetConnForBench returns the connection under the stream, for a plain
// peer in benchmarks.
func (s *UnixStream) NetConnForBench() net.Conn { return s.c() }
