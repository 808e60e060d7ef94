package sockets

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"net"
	"net/netip"
	"strconv"
	"syscall"

	"github.com/tether-go/tether/cancel"
	"github.com/tether-go/tether/streams"
)

// Packet is a datagram received by [UDPSocket.Packets]: its payload, and
// the address of the socket that sent it.
type Packet struct {
	Data []byte
	Addr netip.AddrPort
}

// UDPSocket is a UDP socket that is not connected: it receives datagrams
// from anyone and sends them to any address. Make one with [ListenUDP];
// the zero value is not usable.
//
// A receive and a send may run at once from two goroutines; a second
// receive (or send) while one runs returns an error matching
// [streams.ErrBusy]. Close may be called from any goroutine, at any time;
// the socket is not reusable after it. The kernel's receive buffer is the
// only queue: nothing is buffered on top of it.
//
// Cost: [UDPSocket.ReceiveFrom] and [UDPSocket.SendTo] (with an address
// literal) are the net.UDPConn calls plus two atomic operations, and
// allocate nothing: with a cancellable ctx the first call registers a
// context.AfterFunc that later calls with the same ctx reuse (see package
// ioctx's Side).
type UDPSocket struct {
	dgram
	uc       *net.UDPConn
	resolver HostResolver
}

// ListenUDP opens a UDP socket bound to the address the options give:
// [LocalHost] (an address literal, or a name resolved to the first
// address ConnectTCP would try; default: every address, both families
// where the machine has them), [Port] (default: one the system chooses),
// [IPFamily], [ReusePort] (several sockets share the port),
// [ReceiveBufferSize], [SendBufferSize], and the [Resolver] that resolves
// LocalHost and SendTo's host names. Other options are ignored. Its
// errors are the OS's (EADDRINUSE for a port already bound without
// ReusePort), reachable with errors.Is.
func ListenUDP(opts ...Option) (*UDPSocket, error) {
	cfg, err := newIPConfig("ListenUDP", opts)
	if err != nil {
		return nil, err
	}
	local, err := resolveLocal(context.Background(), cfg)
	if err != nil {
		return nil, fmt.Errorf("sockets: ListenUDP: option LocalHost: %w", err)
	}
	addr := ":" + strconv.Itoa(cfg.localPort)
	if local.Addr().IsValid() {
		addr = local.String()
	}
	// listenControl sets ReusePort and the buffer sizes before bind.
	lc := net.ListenConfig{Control: cfg.listenControl}
	pc, err := lc.ListenPacket(context.Background(), udpNetwork(cfg.family), addr)
	if err != nil {
		return nil, fmt.Errorf("sockets: ListenUDP: %w", err)
	}
	return newUDPSocket(pc.(*net.UDPConn), cfg.resolver), nil
}

func newUDPSocket(uc *net.UDPConn, r HostResolver) *UDPSocket {
	s := &UDPSocket{uc: uc, resolver: r}
	s.init(uc, uc, socketFamily(uc))
	return s
}

// ReceiveFrom waits for a datagram, copies it into p, and returns its
// length and the address of its sender (an IPv4 sender of a dual-stack
// socket as an IPv4 address, not an IPv4-mapped IPv6 one). An empty
// datagram is n == 0 with a nil error.
//
// A datagram larger than p is an error, a [*TruncatedError] matching
// io.ErrShortBuffer: p holds its first len(p) bytes (n is len(p)), and
// the rest is lost. An empty p is an error too.
//
// When ctx is done first ReceiveFrom returns its cancellation error (with
// the cause, as cancel.Checkpoint gives it) and has consumed nothing; the
// socket stays usable. A Close from another goroutine wakes it with
// [streams.ErrClosed]. It allocates nothing.
func (s *UDPSocket) ReceiveFrom(ctx context.Context, p []byte) (n int, from netip.AddrPort, err error) {
	return receiveUDP(ctx, &s.dgram, s.uc, p)
}

// SendTo sends data as one datagram to port on host, an IP address
// literal or a name, resolved (by the [Resolver] ListenUDP was given, or
// net.DefaultResolver) to an address of the socket's family. An empty
// data is an empty datagram. A datagram larger than the network allows
// is the OS's error (syscall.EMSGSIZE).
//
// When ctx is done first SendTo returns its cancellation error and sent
// nothing; the socket stays usable. A Close from another goroutine wakes
// it with [streams.ErrClosed].
func (s *UDPSocket) SendTo(ctx context.Context, data []byte, host string, port int) error {
	cfg := config{resolver: s.resolver, family: s.sendFamily()}
	to, err := resolveUDP(ctx, &cfg, host, port)
	if err != nil {
		return fmt.Errorf("sockets: SendTo: %w", err)
	}
	return s.SendToAddr(ctx, data, to)
}

// SendToAddr is [UDPSocket.SendTo] to an address already resolved, such
// as the sender's address that ReceiveFrom returned. It allocates nothing.
func (s *UDPSocket) SendToAddr(ctx context.Context, data []byte, to netip.AddrPort) error {
	if !to.IsValid() || to.Port() == 0 {
		return fmt.Errorf("sockets: SendToAddr: %v is not a destination address", to)
	}
	if err := s.begin(ctx, &s.send, errSendBusy); err != nil {
		return err
	}
	// net maps an IPv4 address for an IPv6 socket itself, but does not
	// unmap an IPv4-mapped one for an IPv4 socket.
	to = netip.AddrPortFrom(to.Addr().Unmap(), to.Port())
	_, err := s.uc.WriteToUDPAddrPort(data, to)
	return s.end(ctx, &s.send, err)
}

// sendFamily is the family of the addresses this socket can send to: any,
// for a dual-stack socket.
func (s *UDPSocket) sendFamily() int {
	if s.family == syscall.AF_INET6 {
		la, _ := s.uc.LocalAddr().(*net.UDPAddr)
		switch {
		case la == nil:
		case la.IP.IsUnspecified():
			return syscall.AF_UNSPEC // dual-stack
		case la.IP.To4() != nil:
			return syscall.AF_INET // bound to an IPv4-mapped address
		}
	}
	return s.family
}

// Packets returns an iterator over the datagrams the socket receives, for
// a range loop; each is received into a buffer large enough for any UDP
// datagram, and copied into a Data of its own, which the loop may keep.
// An error (ctx done, the socket closed, another goroutine receiving) is
// yielded once and ends the iteration; breaking out of the loop ends it
// too, and leaves the socket usable. (As for [UnixDatagramSocket.Packets],
// a datagram too large for the buffer would be yielded with a
// [*TruncatedError] and the iteration would go on, but no UDP datagram
// is.)
//
// Cost: one allocation of 64 KiB for the iteration, and one of the
// datagram's size per datagram.
func (s *UDPSocket) Packets(ctx context.Context) iter.Seq2[Packet, error] {
	return packets(ctx, s.ReceiveFrom, func(data []byte, from netip.AddrPort) Packet {
		return Packet{Data: data, Addr: from}
	})
}

// Close closes the socket and releases its port at once (it can be bound
// again straight away), waking any blocked call with
// [streams.ErrClosed]. Calling it again does nothing and returns nil.
func (s *UDPSocket) Close() error { return s.close() }

// LocalAddr returns the address the socket is bound to, a *net.UDPAddr.
func (s *UDPSocket) LocalAddr() net.Addr { return s.uc.LocalAddr() }

// Attribute answers [LocalAddr], [LocalPort], [Family] and [RawConn]; see
// [streams.Extra].
func (s *UDPSocket) Attribute(key any) (any, bool) { return s.attribute(key) }

// ConnectedUDPSocket is a UDP socket connected to one peer: it sends only
// to that peer and receives only from it. Make one with [ConnectUDP]; the
// zero value is not usable. Its concurrency, reuse and cost are those of
// [UDPSocket].
type ConnectedUDPSocket struct {
	dgram
	uc *net.UDPConn
}

// ConnectUDP opens a UDP socket connected to port on host, an IP address
// literal or a name resolved (by the [Resolver] option, or
// net.DefaultResolver) to the first address [ConnectTCP] would try, of
// the [IPFamily] asked for, if any, and of LocalHost's. [LocalHost] and
// [Port] bind the local end; [ReusePort], [ReceiveBufferSize] and
// [SendBufferSize] apply as for [ListenUDP].
//
// UDP has no handshake: connecting only fixes the peer, and a peer that
// is not there shows later, as an error of Send or Receive. When ctx is
// done first (while resolving), ConnectUDP returns its cancellation error.
func ConnectUDP(ctx context.Context, host string, port int, opts ...Option) (*ConnectedUDPSocket, error) {
	cfg, err := newIPConfig("ConnectUDP", opts)
	if err != nil {
		return nil, err
	}
	d := net.Dialer{Control: cfg.listenControl} // ReusePort, buffer sizes
	if cfg.localHost != "" || cfg.localPort != 0 {
		local, err := resolveLocal(ctx, cfg)
		if err != nil {
			return nil, fmt.Errorf("sockets: ConnectUDP: option LocalHost: %w", err)
		}
		if cfg.family == syscall.AF_UNSPEC && local.Addr().IsValid() {
			cfg.family = addrPortFamily(local) // the peer must be of the same
		}
		d.LocalAddr = net.UDPAddrFromAddrPort(local)
	}
	to, err := resolveUDP(ctx, cfg, host, port)
	if err != nil {
		return nil, fmt.Errorf("sockets: ConnectUDP: %w", err)
	}
	c, err := d.DialContext(ctx, udpNetwork(addrPortFamily(to)), to.String())
	if err != nil {
		return nil, fmt.Errorf("sockets: ConnectUDP: %w", err)
	}
	return newConnectedUDPSocket(c.(*net.UDPConn)), nil
}

func newConnectedUDPSocket(uc *net.UDPConn) *ConnectedUDPSocket {
	s := &ConnectedUDPSocket{uc: uc}
	s.init(uc, uc, socketFamily(uc))
	return s
}

// Receive waits for a datagram from the peer and copies it into p, as
// [UDPSocket.ReceiveFrom] does, with the same errors for a datagram
// larger than p and the same cancellation contract. An ICMP error for an
// earlier datagram (the peer's port is closed: syscall.ECONNREFUSED) is
// returned once, by this call or the next Send; the socket stays usable.
func (s *ConnectedUDPSocket) Receive(ctx context.Context, p []byte) (int, error) {
	n, _, err := receiveUDP(ctx, &s.dgram, s.uc, p)
	return n, err
}

// Send sends data as one datagram to the peer, as [UDPSocket.SendTo]
// does, with the same cancellation contract.
func (s *ConnectedUDPSocket) Send(ctx context.Context, data []byte) error {
	if err := s.begin(ctx, &s.send, errSendBusy); err != nil {
		return err
	}
	_, err := s.uc.Write(data)
	return s.end(ctx, &s.send, err)
}

// Close closes the socket and releases its port at once, waking any
// blocked call with [streams.ErrClosed]. Calling it again does nothing
// and returns nil.
func (s *ConnectedUDPSocket) Close() error { return s.close() }

// LocalAddr returns the local address, a *net.UDPAddr.
func (s *ConnectedUDPSocket) LocalAddr() net.Addr { return s.uc.LocalAddr() }

// RemoteAddr returns the peer's address, a *net.UDPAddr.
func (s *ConnectedUDPSocket) RemoteAddr() net.Addr { return s.uc.RemoteAddr() }

// Attribute answers [LocalAddr], [RemoteAddr], [LocalPort], [RemotePort],
// [Family] and [RawConn]; see [streams.Extra].
func (s *ConnectedUDPSocket) Attribute(key any) (any, bool) { return s.attribute(key) }

var (
	_ streams.Attributer = (*UDPSocket)(nil)
	_ streams.Attributer = (*ConnectedUDPSocket)(nil)
)

// udpNetwork is net's name for UDP over family.
func udpNetwork(family int) string {
	switch family {
	case syscall.AF_INET:
		return "udp4"
	case syscall.AF_INET6:
		return "udp6"
	}
	return "udp"
}

// addrPortFamily is the family of a's address, an IPv4-mapped one being
// IPv4.
func addrPortFamily(a netip.AddrPort) int {
	if a.Addr().Unmap().Is4() {
		return syscall.AF_INET
	}
	return syscall.AF_INET6
}

// resolveUDP returns the address of port on host, an address literal or
// a name that cfg's resolver resolves, of cfg's family unless it is
// AF_UNSPEC.
func resolveUDP(ctx context.Context, cfg *config, host string, port int) (netip.AddrPort, error) {
	if port < 1 || port > 65535 {
		return netip.AddrPort{}, fmt.Errorf("port %d is out of range 1 to 65535", port)
	}
	ip, err := resolveHost(ctx, cfg, host)
	if err != nil {
		return netip.AddrPort{}, err
	}
	return netip.AddrPortFrom(ip, uint16(port)), nil
}

// resolveLocal returns the address that LocalHost and Port ask for.
// An empty LocalHost is the unspecified address (of the IPFamily option's
// family, if any): the port alone is bound.
func resolveLocal(ctx context.Context, cfg *config) (netip.AddrPort, error) {
	if cfg.localHost == "" {
		var ip netip.Addr
		switch cfg.family {
		case syscall.AF_INET:
			ip = netip.IPv4Unspecified()
		case syscall.AF_INET6:
			ip = netip.IPv6Unspecified()
		}
		return netip.AddrPortFrom(ip, uint16(cfg.localPort)), nil
	}
	ip, err := resolveHost(ctx, cfg, cfg.localHost)
	if err != nil {
		return netip.AddrPort{}, err
	}
	return netip.AddrPortFrom(ip, uint16(cfg.localPort)), nil
}

// resolveHost returns host's address: the host itself when it is an
// address literal (without allocating), else the first of the addresses
// that ConnectTCP would try, in the same order (cfg.resolve).
func resolveHost(ctx context.Context, cfg *config, host string) (netip.Addr, error) {
	if host == "" {
		return netip.Addr{}, errors.New("empty host")
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		if !cfg.familyAllows(ip) {
			return netip.Addr{}, fmt.Errorf("%s is not an address of the socket's family", host)
		}
		return ip.Unmap(), nil
	}
	addrs, err := cfg.resolve(ctx, host)
	if err != nil {
		if ctx.Err() != nil {
			return netip.Addr{}, cancel.Checkpoint(ctx)
		}
		return netip.Addr{}, fmt.Errorf("resolving %q: %w", host, err)
	}
	return addrs[0], nil
}

// receiveUDP is the receive of both UDP sockets: d's, on uc. The sender's
// address comes unmapped (an IPv4 sender of a dual-stack socket as an
// IPv4 address).
func receiveUDP(ctx context.Context, d *dgram, uc *net.UDPConn, p []byte) (int, netip.AddrPort, error) {
	if len(p) == 0 {
		return 0, netip.AddrPort{}, errNoBuffer
	}
	if err := d.begin(ctx, &d.recv, errRecvBusy); err != nil {
		return 0, netip.AddrPort{}, err
	}
	n, _, flags, from, err := uc.ReadMsgUDPAddrPort(p, nil)
	if err := d.end(ctx, &d.recv, err); err != nil {
		return 0, netip.AddrPort{}, err
	}
	from = netip.AddrPortFrom(from.Addr().Unmap(), from.Port())
	if flags&syscall.MSG_TRUNC != 0 {
		return n, from, &TruncatedError{Size: len(p)}
	}
	return n, from, nil
}
