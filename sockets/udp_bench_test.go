package sockets_test

import (
	"context"
	"net"
	"net/netip"
	"syscall"
	"testing"

	"github.com/tether-go/tether/sockets"
)

// udpPair opens two UDP sockets on 127.0.0.1.
func udpPair(tb testing.TB) (a, b *sockets.UDPSocket) {
	tb.Helper()
	return udpOn(tb, "127.0.0.1"), udpOn(tb, "127.0.0.1")
}

// TestUDPReceiveFromAllocs checks the promise of ReceiveFrom (and
// SendToAddr): no allocation per datagram, with a cancellable context.
func TestUDPReceiveFromAllocs(t *testing.T) {
	if udpRaceEnabled {
		t.Skip("the race detector allocates")
	}
	a, b := udpPair(t)
	to := addrOf(t, b)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out, in := make([]byte, 512), make([]byte, 2048)
	allocs := testing.AllocsPerRun(200, func() {
		if err := a.SendToAddr(ctx, out, to); err != nil {
			t.Fatal(err)
		}
		if _, _, err := b.ReceiveFrom(ctx, in); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("got %v allocations per datagram, want 0", allocs)
	}
	allocs = testing.AllocsPerRun(200, func() {
		if err := a.SendTo(ctx, out, "127.0.0.1", int(to.Port())); err != nil {
			t.Fatal(err)
		}
		if _, _, err := b.ReceiveFrom(ctx, in); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("SendTo with an address literal: got %v allocations per datagram, want 0", allocs)
	}
	c, err := sockets.ConnectUDP(ctx, "127.0.0.1", int(to.Port()))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	back := addrOf(t, c)
	allocs = testing.AllocsPerRun(200, func() {
		if err := c.Send(ctx, out); err != nil {
			t.Fatal(err)
		}
		if _, _, err := b.ReceiveFrom(ctx, in); err != nil {
			t.Fatal(err)
		}
		if err := b.SendToAddr(ctx, out, back); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Receive(ctx, in); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("connected Send and Receive: got %v allocations per round trip, want 0", allocs)
	}
}

// BenchmarkUDP sends a 512-byte datagram and receives it, on loopback:
// tether's sockets with a cancellable ctx, as real code has, beside
// net.UDPConn doing the same work: WriteToUDPAddrPort, and
// ReadMsgUDPAddrPort, which reports a truncated datagram (MSG_TRUNC) as
// ReceiveFrom must (ReadFromUDPAddrPort cannot tell, and costs ~5% less).
func BenchmarkUDP(b *testing.B) {
	b.Run("impl=tether", func(b *testing.B) {
		x, y := udpPair(b)
		to := addrOf(b, y)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		out, in := make([]byte, 512), make([]byte, 2048)
		b.SetBytes(int64(len(out)))
		b.ReportAllocs()
		for b.Loop() {
			if err := x.SendToAddr(ctx, out, to); err != nil {
				b.Fatal(err)
			}
			if _, _, err := y.ReceiveFrom(ctx, in); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("impl=netconn", func(b *testing.B) {
		x := netUDP(b)
		y := netUDP(b)
		to := y.LocalAddr().(*net.UDPAddr).AddrPort()
		out, in := make([]byte, 512), make([]byte, 2048)
		b.SetBytes(int64(len(out)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := x.WriteToUDPAddrPort(out, to); err != nil {
				b.Fatal(err)
			}
			_, _, flags, _, err := y.ReadMsgUDPAddrPort(in, nil)
			if err != nil {
				b.Fatal(err)
			}
			if flags&syscall.MSG_TRUNC != 0 {
				b.Fatal("truncated")
			}
		}
	})
}

func netUDP(tb testing.TB) *net.UDPConn {
	tb.Helper()
	c, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.MustParseAddrPort("127.0.0.1:0")))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	return c
}
