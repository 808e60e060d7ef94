package sockets

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/tether-go/tether/streams"
)

// bindRetries bounds how often ListenTCP picks a new port when the port
// the first family chose is taken in another family.
const bindRetries = 20

// ListenTCP listens for TCP connections and returns the listeners as one
// [*MultiListener]. With no [LocalHost], it listens on the wildcard
// address of every family the machine has (IPv6 with IPV6_V6ONLY, so the
// two do not overlap); with a host name, on each of its addresses; with an
// IP literal, on that address. Every listener has the same port: [Port],
// or else the one the system chose for the first listener (when that port
// is taken in another family, ListenTCP starts again with a new one).
//
// Options: [IPFamily] keeps one family, [Backlog] sets the accept queue,
// [ReusePort] sets SO_REUSEPORT (several sockets share the port),
// [ReceiveBufferSize] and [SendBufferSize] are set on the listener (and
// so on every accepted connection), [KeepAlive] and [Linger] on every
// accepted stream. A bad option, a host that does not resolve, or a
// failed bind (syscall.EADDRINUSE reachable) is an error that says so.
func ListenTCP(opts ...Option) (*MultiListener, error) {
	cfg, err := newIPConfig("ListenTCP", opts)
	if err != nil {
		return nil, err
	}
	addrs, wildcard, err := cfg.listenAddrs()
	if err != nil {
		return nil, err
	}
	lc := net.ListenConfig{KeepAlive: cfg.keepAlive, Control: cfg.listenControl}
	for range bindRetries {
		m, retry, err := cfg.listenAll(&lc, addrs, wildcard)
		if !retry {
			return m, err
		}
	}
	return nil, fmt.Errorf("sockets: ListenTCP: no port free in every family after %d tries: %w", bindRetries, syscall.EADDRINUSE)
}

// listenAddrs returns the addresses to listen on, and whether they are
// the wildcard ones (a family the machine lacks is then skipped).
func (c *config) listenAddrs() ([]netip.Addr, bool, error) {
	if c.localHost == "" {
		var addrs []netip.Addr
		if c.family != syscall.AF_INET {
			addrs = append(addrs, netip.IPv6Unspecified())
		}
		if c.family != syscall.AF_INET6 {
			addrs = append(addrs, netip.IPv4Unspecified())
		}
		return addrs, true, nil
	}
	addrs, err := c.resolve(context.Background(), c.localHost)
	if err != nil {
		return nil, false, fmt.Errorf("sockets: ListenTCP: option LocalHost: resolve %q: %w", c.localHost, err)
	}
	return addrs, false, nil
}

// listenAll makes one listener per address on one port; retry says that
// the chosen port was taken in another family and a new one should be
// tried.
func (c *config) listenAll(lc *net.ListenConfig, addrs []netip.Addr, wildcard bool) (m *MultiListener, retry bool, err error) {
	m = &MultiListener{cfg: c}
	port := c.localPort
	fail := func(err error) (*MultiListener, bool, error) {
		for _, l := range m.ls {
			l.close()
		}
		return nil, false, err
	}
	for _, a := range addrs {
		network := "tcp4"
		if a.Is6() {
			network = "tcp6"
		}
		l, err := lc.Listen(context.Background(), network, net.JoinHostPort(a.String(), strconv.Itoa(port)))
		if err != nil {
			switch {
			case wildcard && (errors.Is(err, syscall.EAFNOSUPPORT) || errors.Is(err, syscall.EADDRNOTAVAIL)):
				continue // the machine lacks this family
			case len(m.ls) > 0 && c.localPort == 0 && errors.Is(err, syscall.EADDRINUSE):
				_, _, err = fail(nil)
				return nil, true, err
			}
			return fail(fmt.Errorf("sockets: ListenTCP: %w", err))
		}
		tl := l.(*net.TCPListener)
		if c.backlog > 0 {
			if err := relisten(tl, c.backlog); err != nil {
				tl.Close()
				return fail(err)
			}
		}
		port = tl.Addr().(*net.TCPAddr).Port
		m.add(tl)
	}
	if len(m.ls) == 0 {
		return nil, false, errors.New("sockets: ListenTCP: no address family is available")
	}
	if len(m.ls) > 1 {
		ones := make([]streams.Listener[*SocketStream], len(m.ls))
		for i, a := range m.ls {
			ones[i] = tcpOne{a, m}
		}
		m.many = &anyOf[*SocketStream]{ls: ones}
	}
	return m, false, nil
}

// relisten sets the accept queue's length: Linux takes a second listen()
// on a listening socket as a new backlog (net.ListenConfig has no field
// for it).
func relisten(l syscall.Conn, backlog int) error {
	raw, err := l.SyscallConn()
	if err != nil {
		return err
	}
	var lerr error
	if err := raw.Control(func(fd uintptr) { lerr = syscall.Listen(int(fd), backlog) }); err != nil {
		return err
	}
	if lerr != nil {
		return fmt.Errorf("sockets: option Backlog: %w", os.NewSyscallError("listen", lerr))
	}
	return nil
}

// listenControl sets the options that must come before bind.
func (c *config) listenControl(network, address string, raw syscall.RawConn) error {
	if c.reusePort {
		var serr error
		err := raw.Control(func(fd uintptr) {
			serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1)
		})
		if err != nil {
			return err
		}
		if serr != nil {
			return fmt.Errorf("sockets: option ReusePort: %w", os.NewSyscallError("setsockopt", serr))
		}
	}
	if c.recvBuf > 0 || c.sendBuf > 0 {
		return c.control(network, address, raw)
	}
	return nil
}
