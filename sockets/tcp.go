package sockets

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/tether-go/tether/cancel"
	"github.com/tether-go/tether/internal/ioctx"
)

// ConnectError is the error of a [ConnectTCP] whose every attempt failed.
// Attempts holds each attempt's error in the order they were made; each
// names its address, and errors.Is and errors.As reach through them to the
// OS error (syscall.ECONNREFUSED, ...).
type ConnectError struct {
	Host     string
	Port     int
	Attempts []error
}

// Error names the host and port, and each attempt's error.
func (e *ConnectError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "sockets: connect to %s: ", net.JoinHostPort(e.Host, strconv.Itoa(e.Port)))
	if len(e.Attempts) == 1 {
		b.WriteString(e.Attempts[0].Error())
		return b.String()
	}
	fmt.Fprintf(&b, "all %d attempts failed", len(e.Attempts))
	for _, err := range e.Attempts {
		b.WriteString("; ")
		b.WriteString(err.Error())
	}
	return b.String()
}

// Unwrap returns the attempts' errors.
func (e *ConnectError) Unwrap() []error { return e.Attempts }

// ConnectTCP connects to host (a name, or an IP address literal) on port
// and returns the connection as a [*SocketStream], implementing Happy
// Eyeballs v2 (RFC 8305) with a task group:
//
//   - AAAA and A are looked up in parallel, in tasks of the group. If
//     AAAA answers first, the first attempt starts at once; if A does,
//     ConnectTCP waits up to 50 ms (the resolution delay) for AAAA
//     before starting without it. A late answer's addresses join the
//     list of those left to try. A localhost name (RFC 6761 §6.3:
//     "localhost", or a name under it) is the exception when the
//     resolver is a *net.Resolver: it answers such a name from the hosts
//     file, both families at once (or a DNS server does, at once, as RFC
//     6761 asks), so ConnectTCP asks it once, for both (network "ip"),
//     and has no lookup to race.
//   - Within a family, the resolver's order (RFC 6724's) is kept. The
//     families are interleaved, starting with the one RFC 6724 prefers
//     between the first address of each: IPv6 unless that address is
//     link-local or of a lower precedence than IPv4 (ULA, 6to4, Teredo),
//     so a host whose only IPv6 is link-local is tried over IPv4 first
//     (and an AAAA answer of such addresses waits for A, as A does for
//     AAAA).
//   - Each attempt after the first starts when the previous one fails,
//     or after [HappyEyeballsDelay] (default 250 ms) without an
//     answer, while the earlier ones go on.
//   - The first success cancels the others; one that succeeds anyway is
//     closed. ConnectTCP returns when every attempt and lookup has
//     ended.
//
// Options: [LocalHost] and [Port] bind the source (attempts to the other
// family are skipped), [IPFamily] restricts the addresses, [Resolver]
// replaces the resolver, and [KeepAlive], [Linger], [ReceiveBufferSize],
// [SendBufferSize] set the stream's options. When every attempt fails the
// error is a [*ConnectError] joining them. A bad host (empty, or not
// resolving), a port outside 1 to 65535 or a bad option is an error that
// says so.
//
// Cancellation: when ctx is done, every attempt is abandoned and
// ConnectTCP returns ctx's cancellation error (cancel.Checkpoint's).
func ConnectTCP(ctx context.Context, host string, port int, opts ...Option) (*SocketStream, error) {
	if host == "" {
		return nil, errors.New("sockets: ConnectTCP: empty host")
	}
	if port < 1 || port > 65535 {
		return nil, fmt.Errorf("sockets: ConnectTCP: port %d is out of range 1 to 65535", port)
	}
	cfg, err := newIPConfig("ConnectTCP", opts)
	if err != nil {
		return nil, err
	}
	if err := cancel.Checkpoint(ctx); err != nil {
		return nil, err
	}
	d, err := cfg.dialer()
	if err != nil {
		return nil, err
	}
	delay := cfg.delay
	if delay == 0 {
		delay = DefaultHappyEyeballsDelay
	}
	var (
		c    *net.TCPConn
		errs []error
	)
	if _, lerr := netip.ParseAddr(host); lerr != nil && cfg.family == 0 && !cfg.oneLookup(host) {
		// A name, both families: the lookups race with the attempts.
		c, errs, err = race(ctx, d, port, delay, cfg.hostResolver(), host, nil)
	} else {
		// An address, one family's, or a localhost name: one answer,
		// then the attempts.
		var addrs []netip.Addr
		if addrs, err = cfg.resolve(ctx, host); err == nil {
			c, errs, err = race(ctx, d, port, delay, nil, host, addrs)
		}
	}
	if err != nil {
		if cerr := deadlineError(ctx, err); cerr != nil {
			return nil, cerr
		}
		return nil, fmt.Errorf("sockets: ConnectTCP: resolve %q: %w", host, err)
	}
	if c != nil {
		s := newSocketStream(c)
		if err := cfg.setConnOptions(c); err != nil {
			s.Close()
			return nil, err
		}
		return s, nil
	}
	if err := deadlineError(ctx, errs...); err != nil {
		return nil, err
	}
	return nil, &ConnectError{Host: host, Port: port, Attempts: errs}
}

// deadlineError returns ctx's cancellation error if ctx is done, or
// about to be: one of errs is a timeout and ctx's deadline has passed.
// The dial's deadline is ctx's, and the poller can see it pass a moment
// before ctx's own timer fires; then deadlineError waits for ctx, which
// is due. It returns nil when the failure is not ctx's.
func deadlineError(ctx context.Context, errs ...error) error {
	if d, ok := ctx.Deadline(); ok && ctx.Err() == nil && time.Until(d) <= 0 && slices.ContainsFunc(errs, ioctx.IsTimeout) {
		<-ctx.Done()
	}
	return cancel.Checkpoint(ctx)
}

// dial makes one attempt.
func dial(ctx context.Context, d *net.Dialer, a netip.Addr, port int) (*net.TCPConn, error) {
	network := "tcp4"
	if a.Is6() {
		network = "tcp6"
	}
	c, err := d.DialContext(ctx, network, netip.AddrPortFrom(a, uint16(port)).String())
	if err != nil {
		return nil, err
	}
	return c.(*net.TCPConn), nil
}

// dialer returns the net.Dialer of ConnectTCP's attempts.
func (c *config) dialer() (*net.Dialer, error) {
	d := &net.Dialer{KeepAlive: c.keepAlive}
	if c.localHost != "" || c.localPort != 0 {
		var ip net.IP
		if c.localHost != "" {
			a, err := netip.ParseAddr(c.localHost)
			if err != nil {
				return nil, fmt.Errorf("sockets: option LocalHost: %q is not an IP address literal", c.localHost)
			}
			ip = a.AsSlice()
			if a.Is4() && c.family == 0 {
				c.family = syscall.AF_INET
			} else if a.Is6() && c.family == 0 {
				c.family = syscall.AF_INET6
			}
		}
		d.LocalAddr = &net.TCPAddr{IP: ip, Port: c.localPort}
	}
	if c.recvBuf > 0 || c.sendBuf > 0 {
		d.Control = c.control
	}
	return d, nil
}

// control sets the buffer sizes before connect or bind, where they shape
// the TCP window.
func (c *config) control(network, address string, raw syscall.RawConn) error {
	var serr error
	err := raw.Control(func(fd uintptr) {
		if c.recvBuf > 0 {
			if serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, c.recvBuf); serr != nil {
				serr = fmt.Errorf("sockets: option ReceiveBufferSize: %w", serr)
				return
			}
		}
		if c.sendBuf > 0 {
			if serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_SNDBUF, c.sendBuf); serr != nil {
				serr = fmt.Errorf("sockets: option SendBufferSize: %w", serr)
			}
		}
	})
	if err != nil {
		return err
	}
	return serr
}

// setConnOptions sets the options of a connected stream. TCP_NODELAY is
// Go's default already.
func (c *config) setConnOptions(tc *net.TCPConn) error {
	if c.linger != nil {
		d := *c.linger
		secs := -1
		if d >= 0 {
			secs = int((d + time.Second - 1) / time.Second)
		}
		if err := tc.SetLinger(secs); err != nil {
			return fmt.Errorf("sockets: option Linger: %w", err)
		}
	}
	return nil
}
