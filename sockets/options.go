package sockets

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"syscall"
	"time"
)

// Option configures a socket constructor of this package (ConnectTCP,
// ListenTCP, ConnectUnix, ListenUnix, and the UDP and datagram ones). Make
// one with the functions below; each constructor uses the options that
// concern it and ignores the others. The zero Option does nothing. A bad
// value (a port out of range, a negative size) is not a panic: the
// constructor given it returns an error that names the option.
type Option struct {
	apply func(*config) error
}

// config is what the options set. Zero means "not set" for every field:
// the constructor's default applies.
type config struct {
	localHost string
	localPath string // LocalPath's: a UNIX socket's path
	localPort int
	family    int
	backlog   int
	reusePort bool
	delay     time.Duration
	resolver  HostResolver
	mode      os.FileMode
	keepAlive time.Duration // < 0: off
	linger    *time.Duration
	recvBuf   int
	sendBuf   int
}

// newConfig applies opts in order; the first invalid one is the error.
func newConfig(opts []Option) (*config, error) {
	c := &config{}
	for _, o := range opts {
		if o.apply == nil {
			continue
		}
		if err := o.apply(c); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// newIPConfig is newConfig for the IP sockets' constructor op, which
// refuse LocalPath: a path is no IP socket's local end, and ignoring it
// would leave the socket bound elsewhere than the caller meant.
func newIPConfig(op string, opts []Option) (*config, error) {
	c, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	if c.localPath != "" {
		return nil, fmt.Errorf("sockets: %s: option LocalPath(%q) is for UNIX sockets; use LocalHost for an IP address", op, c.localPath)
	}
	return c, nil
}

func optionError(name string, format string, args ...any) error {
	return fmt.Errorf("sockets: option %s: %s", name, fmt.Sprintf(format, args...))
}

// LocalHost binds the socket's local end to host, an IP address literal
// ("127.0.0.1", "::1") or a name that resolves to one. For ConnectTCP it
// is the source address of every attempt (and attempts to the other family
// are skipped); for ListenTCP, the address listened on. An empty host is
// the zero Option.
func LocalHost(host string) Option {
	if host == "" {
		return Option{}
	}
	return Option{func(c *config) error { c.localHost = host; return nil }}
}

// Port sets the local port, 0 to 65535: the port ListenTCP listens on, the
// source port of ConnectTCP's attempts (0 lets the system choose, which is
// also the default). It is not named LocalPort, the attribute key.
func Port(port int) Option {
	return Option{func(c *config) error {
		if port < 0 || port > 65535 {
			return optionError("Port", "port %d is out of range 0 to 65535", port)
		}
		c.localPort = port
		return nil
	}}
}

// IPFamily restricts a socket to one address family: syscall.AF_INET or
// syscall.AF_INET6. syscall.AF_UNSPEC (0) is the zero Option: every
// family. It is not named Family, the attribute key.
func IPFamily(family int) Option {
	return Option{func(c *config) error {
		switch family {
		case syscall.AF_UNSPEC, syscall.AF_INET, syscall.AF_INET6:
			c.family = family
			return nil
		}
		return optionError("IPFamily", "%d is not AF_INET (%d), AF_INET6 (%d) or AF_UNSPEC (0)", family, syscall.AF_INET, syscall.AF_INET6)
	}}
}

// Backlog sets the length of a listener's queue of connections not yet
// accepted; 0 is the zero Option (the system's default, somaxconn).
func Backlog(n int) Option {
	return Option{func(c *config) error {
		if n < 0 {
			return optionError("Backlog", "%d is negative", n)
		}
		c.backlog = n
		return nil
	}}
}

// ReusePort sets SO_REUSEPORT before bind, so that several sockets (of
// this process or others) can listen on one port and the kernel spreads
// connections among them. ReusePort(false) is the zero Option.
func ReusePort(on bool) Option {
	if !on {
		return Option{}
	}
	return Option{func(c *config) error { c.reusePort = true; return nil }}
}

// DefaultHappyEyeballsDelay is how long [ConnectTCP] waits for an attempt
// before starting the next one, as RFC 8305 §5 recommends.
const DefaultHappyEyeballsDelay = 250 * time.Millisecond

// HappyEyeballsDelay sets how long [ConnectTCP] waits for a connection
// attempt before starting the next one in parallel (default
// [DefaultHappyEyeballsDelay]). d must be positive; 0 is the zero Option.
func HappyEyeballsDelay(d time.Duration) Option {
	return Option{func(c *config) error {
		if d < 0 {
			return optionError("HappyEyeballsDelay", "%v is negative", d)
		}
		c.delay = d
		return nil
	}}
}

// HostResolver resolves host names for [ConnectTCP]: network is "ip6"
// (AAAA records) or "ip4" (A records). *net.Resolver implements it;
// [LookupFunc] turns a function into one.
type HostResolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// LookupFunc is a function that implements [HostResolver], as
// http.HandlerFunc is one that implements http.Handler.
type LookupFunc func(ctx context.Context, network, host string) ([]netip.Addr, error)

// LookupNetIP returns f(ctx, network, host).
func (f LookupFunc) LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error) {
	return f(ctx, network, host)
}

// Resolver makes [ConnectTCP] resolve names with r (a *net.Resolver, or a
// [LookupFunc] that answers as tests or users need) in place of
// net.DefaultResolver. A nil r is the zero Option.
func Resolver(r HostResolver) Option {
	if r == nil {
		return Option{}
	}
	return Option{func(c *config) error { c.resolver = r; return nil }}
}

// Mode sets the permissions of the socket file of [ListenUnix] (after bind,
// before listen: no one can connect with the default permissions first).
// Only permission bits are allowed; 0 is the zero Option (the umask's).
func Mode(mode os.FileMode) Option {
	return Option{func(c *config) error {
		if mode&^os.ModePerm != 0 {
			return optionError("Mode", "%v has bits other than the permissions (0777)", mode)
		}
		c.mode = mode
		return nil
	}}
}

// KeepAlive sets TCP keep-alive on a stream, as net.Dialer.KeepAlive
// does: d > 0 sends the first probe after d of silence (TCP_KEEPIDLE; the
// probes then go every 15 s), d < 0 turns keep-alive off; 0 is the zero
// Option (Go's default: on, 15 s).
func KeepAlive(d time.Duration) Option {
	return Option{func(c *config) error { c.keepAlive = d; return nil }}
}

// Linger sets SO_LINGER on a TCP stream (see net.TCPConn.SetLinger): d < 0
// is the default (Close returns at once, the system sends the rest in the
// background); d == 0 makes Close discard unsent data and reset the
// connection; d > 0 makes Close wait up to d for the data to be sent.
func Linger(d time.Duration) Option {
	return Option{func(c *config) error { c.linger = &d; return nil }}
}

// ReceiveBufferSize sets SO_RCVBUF, in bytes. n must be positive; 0 is the
// zero Option (the system's default).
func ReceiveBufferSize(n int) Option {
	return Option{func(c *config) error {
		if n < 0 {
			return optionError("ReceiveBufferSize", "%d is negative", n)
		}
		c.recvBuf = n
		return nil
	}}
}

// SendBufferSize sets SO_SNDBUF, in bytes. n must be positive; 0 is the
// zero Option (the system's default).
func SendBufferSize(n int) Option {
	return Option{func(c *config) error {
		if n < 0 {
			return optionError("SendBufferSize", "%d is negative", n)
		}
		c.sendBuf = n
		return nil
	}}
}
