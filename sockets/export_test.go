package sockets

import (
	"net"
	"net/netip"
)

// AttemptOrder returns the order in which ConnectTCP tries addrs (given
// in the resolver's order).
func AttemptOrder(addrs []netip.Addr) []netip.Addr {
	var v6, v4 []netip.Addr
	for _, a := range addrs {
		if a.Is6() {
			v6 = append(v6, a)
		} else {
			v4 = append(v4, a)
		}
	}
	return attemptOrder(v6, v4)
}

// NetConnForBench returns the connection under the stream, for a plain
// peer in benchmarks.
func (s *SocketStream) NetConnForBench() net.Conn { return s.tc }

// NetConnForBench returns the connection under the stream, for a plain
// peer in benchmarks.
func (s *UnixStream) NetConnForBench() net.Conn { return s.uc }
