package sockets

import (
	"cmp"
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
	"github.com/tether-go/tether/taskgroup"
)

// resolutionDelay is how long ConnectTCP waits for the AAAA answer once
// the A answer is in (RFC 8305 §3 recommends 50 ms).
const resolutionDelay = 50 * time.Millisecond

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

// race is Happy Eyeballs (RFC 8305): it connects to one of addrs, or of
// the addresses of host that r (when not nil) looks up. It returns the
// winner; or the lookups' error, when they found no address; or else
// every attempt's error, in the order the attempts started.
func race(ctx context.Context, d *net.Dialer, port int, delay time.Duration, r HostResolver, host string, addrs []netip.Addr) (*net.TCPConn, []error, error) {
	if r == nil && len(addrs) == 1 { // no race: no group
		c, err := dial(ctx, d, addrs[0], port)
		if err != nil {
			return nil, []error{err}, nil
		}
		return c, nil, nil
	}
	h := &eyeballs{d: d, port: port, delay: delay, r: r, host: host}
	h.list.add(addrs)
	taskgroup.Run(ctx, h.run)
	if h.winner != nil {
		return h.winner, nil, nil
	}
	if len(h.errs) == 0 && r != nil { // no address to try
		if h.err6 != nil && h.err4 != nil && h.err6.Error() != h.err4.Error() {
			return nil, nil, errors.Join(h.err6, h.err4)
		}
		return nil, nil, cmp.Or(h.err6, h.err4, errNoAddress)
	}
	return nil, slices.DeleteFunc(h.errs, func(err error) bool { return err == nil }), nil
}

// eyeballs is one Happy Eyeballs connect: a task group whose body
// ([eyeballs.run]) starts the attempts, one task each, from the addresses
// that two lookup tasks (AAAA and A of host, when r is not nil) bring in
// as they answer. What it found is read once the group has ended.
type eyeballs struct {
	d     *net.Dialer
	port  int
	delay time.Duration
	r     HostResolver
	host  string

	list       attempts
	winner     *net.TCPConn
	errs       []error // the attempts', in the order they started
	err6, err4 error   // the lookups'
}

// lookup is a lookup task's answer.
type lookup struct {
	v6    bool
	addrs []netip.Addr
	err   error
}

// attempt is an attempt task's result.
type attempt struct {
	i   int // the attempt's, in the order they started
	c   *net.TCPConn
	err error
}

// run is the group's body.
func (h *eyeballs) run(ctx context.Context, g *taskgroup.Group) error {
	var (
		answers chan lookup
		lookups int // not answered yet
		results chan attempt
		running int          // attempts not ended yet
		next    = h.r == nil // start the next attempt now
		// One timer, made when first needed: the resolution delay, then
		// the delay between attempts.
		timer *time.Timer
		tick  <-chan time.Time
	)
	arm := func(d time.Duration) {
		if timer == nil {
			timer = time.NewTimer(d)
			tick = timer.C
			return
		}
		timer.Reset(d) // since Go 1.23, no stale tick survives a Reset
	}
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	if h.r != nil {
		answers, lookups = make(chan lookup, 2), 2
		g.Go(func(ctx context.Context) error { return h.lookup(ctx, "ip6", answers) })
		g.Go(func(ctx context.Context) error { return h.lookup(ctx, "ip4", answers) })
	}
	for {
		if next && lookups == 0 && running == 0 && h.list.len() == 1 {
			// The last address, and nothing else to wait for: no race,
			// so the body dials it itself.
			a, _ := h.list.next()
			c, err := dial(ctx, h.d, a, h.port)
			if err != nil {
				h.errs = append(h.errs, err)
			}
			h.winner = c
			return nil
		}
		if next {
			if a, ok := h.list.next(); ok {
				if results == nil {
					results = make(chan attempt)
				}
				i := len(h.errs)
				h.errs = append(h.errs, nil)
				running++
				g.Go(func(ctx context.Context) error { return h.attempt(ctx, i, a, results) })
				next = false
				arm(h.delay)
			}
		}
		if lookups == 0 && running == 0 && h.list.len() == 0 {
			return nil // nothing left to try
		}
		select {
		case <-ctx.Done(): // the caller gave up
			return nil
		case a := <-answers:
			lookups--
			if a.v6 {
				h.err6 = a.err
			} else {
				h.err4 = a.err
			}
			h.list.addFamily(a.addrs, a.v6)
			// RFC 8305 §3: the first answer of the preferred family
			// (IPv6, unless RFC 6724 says otherwise) starts the attempts
			// at once; the other family's waits the resolution delay
			// for it.
			if !h.list.started && h.list.len() > 0 {
				if lookups == 0 || a.v6 && h.list.prefers6() {
					next = true
				} else {
					arm(resolutionDelay)
				}
			}
		case res := <-results:
			running--
			if res.err == nil {
				h.winner = res.c
				g.Cancel() // the others lose
				return nil
			}
			h.errs[res.i] = res.err
			next = true
		case <-tick:
			next = true
		}
	}
}

// lookup is a lookup task: it answers on answers, which has room.
func (h *eyeballs) lookup(ctx context.Context, network string, answers chan<- lookup) error {
	addrs, err := h.r.LookupNetIP(ctx, network, h.host)
	answers <- lookup{network == "ip6", addrs, err}
	return nil
}

// attempt is an attempt task: it dials a and reports to the body, unless
// the race is over, when a connection made anyway is closed.
func (h *eyeballs) attempt(ctx context.Context, i int, a netip.Addr, results chan<- attempt) error {
	c, err := dial(ctx, h.d, a, h.port)
	select {
	case results <- attempt{i, c, err}:
	case <-ctx.Done(): // a winner, or the caller gave up
		if c != nil {
			c.Close()
		}
	}
	return nil
}

// attempts is the list of addresses Happy Eyeballs has yet to try, which
// grows as the lookups answer. Each family's are tried in the resolver's
// order (RFC 6724's), the families alternately (RFC 8305 §4), starting
// with the one RFC 6724 prefers between the first address of each: IPv6
// unless that address is link-local or of a lower precedence than IPv4.
// The zero value is an empty list.
type attempts struct {
	v6, v4  []netip.Addr
	next6   bool // the family of the next address, when both have one
	started bool // next was called: the first family is chosen
}

// add adds addrs, each to its family's list.
func (l *attempts) add(addrs []netip.Addr) {
	l.addFamily(addrs, true)
	l.addFamily(addrs, false)
}

// addFamily adds the addresses of addrs of one family, unmapped. A
// lookup's answer, all of the family, is taken as it is (the list never
// writes to it).
func (l *attempts) addFamily(addrs []netip.Addr, v6 bool) {
	dst := &l.v4
	if v6 {
		dst = &l.v6
	}
	if len(*dst) == 0 && !slices.ContainsFunc(addrs, func(a netip.Addr) bool { return a.Is6() != v6 || a.Is4In6() }) {
		*dst = addrs
		return
	}
	for _, a := range addrs {
		if a = a.Unmap(); a.Is6() == v6 {
			*dst = append(*dst, a)
		}
	}
}

// len returns how many addresses are left.
func (l *attempts) len() int { return len(l.v6) + len(l.v4) }

// prefers6 reports whether IPv6 comes first: it has an address, and
// RFC 6724 puts it before IPv4's.
func (l *attempts) prefers6() bool {
	return len(l.v6) > 0 && (len(l.v4) == 0 || prefer6(l.v6[0]))
}

// all takes every address left, in order. With one family left, it
// returns that family's list itself.
func (l *attempts) all() []netip.Addr {
	switch {
	case len(l.v4) == 0:
		out := l.v6
		l.v6 = nil
		return out
	case len(l.v6) == 0:
		out := l.v4
		l.v4 = nil
		return out
	}
	out := make([]netip.Addr, 0, l.len())
	for a, ok := l.next(); ok; a, ok = l.next() {
		out = append(out, a)
	}
	return out
}

// next takes the next address to try, if any is left.
func (l *attempts) next() (netip.Addr, bool) {
	if l.len() == 0 {
		return netip.Addr{}, false
	}
	if !l.started {
		l.started, l.next6 = true, l.prefers6()
	}
	var a netip.Addr
	if use6 := len(l.v4) == 0 || l.next6 && len(l.v6) > 0; use6 {
		a, l.v6 = l.v6[0], l.v6[1:]
		l.next6 = false
	} else {
		a, l.v4 = l.v4[0], l.v4[1:]
		l.next6 = true
	}
	return a, true
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

// resolve returns all of host's addresses, filtered by the family option,
// in the order Happy Eyeballs would try them (see [attempts]): for
// ListenTCP, UDP, and ConnectTCP with one family or to a localhost name
// (see [config.oneLookup]). An IP literal is its own answer.
func (c *config) resolve(ctx context.Context, host string) ([]netip.Addr, error) {
	if a, err := netip.ParseAddr(host); err == nil {
		if !c.familyAllows(a) {
			return nil, fmt.Errorf("address %s is not of the family the options allow", a)
		}
		return []netip.Addr{a.Unmap()}, nil
	}
	r := c.hostResolver()
	want6, want4 := c.family != syscall.AF_INET, c.family != syscall.AF_INET6
	if !want6 || !want4 { // one family: one lookup
		network := "ip4"
		if want6 {
			network = "ip6"
		}
		addrs, err := r.LookupNetIP(ctx, network, host)
		v := family(addrs, want6)
		if len(v) == 0 {
			return nil, cmp.Or(err, errNoAddress)
		}
		return v, nil
	}
	if c.oneLookup(host) {
		addrs, err := r.LookupNetIP(ctx, "ip", host)
		if len(addrs) == 0 {
			return nil, cmp.Or(err, errNoAddress)
		}
		return inOrder(addrs), nil
	}
	// AAAA in a task of its own, A here: when A is in, AAAA has the
	// resolution delay to come; when AAAA is in first, it waits for A.
	type answer struct {
		addrs []netip.Addr
		err   error
	}
	answer6 := make(chan answer, 1)
	lctx, stop := context.WithCancel(ctx)
	defer stop()
	go func() {
		addrs, err := r.LookupNetIP(lctx, "ip6", host)
		answer6 <- answer{addrs, err}
	}()
	addrs4, err4 := r.LookupNetIP(ctx, "ip4", host)
	v4 := family(addrs4, false)
	var a6 answer
	select {
	case a6 = <-answer6:
	default:
		if len(v4) == 0 {
			a6 = <-answer6 // nothing to start with: wait for AAAA
			break
		}
		t := time.NewTimer(resolutionDelay)
		select {
		case a6 = <-answer6:
		case <-t.C:
			// AAAA is late: go on without it, once its lookup has ended
			// (it sees lctx cancelled), so that nothing is left behind.
			stop()
			<-answer6
		}
		t.Stop()
	}
	v6 := family(a6.addrs, true)
	if len(v6)+len(v4) == 0 {
		err6 := a6.err
		if err6 != nil && err4 != nil && err6.Error() != err4.Error() {
			return nil, errors.Join(err6, err4)
		}
		return nil, cmp.Or(err6, err4, errNoAddress)
	}
	var list attempts
	list.v6, list.v4 = v6, v4
	return list.all(), nil
}

// inOrder returns addrs, unmapped, in the order Happy Eyeballs tries
// them (see [attempts]). It may return addrs itself.
func inOrder(addrs []netip.Addr) []netip.Addr {
	var list attempts
	list.add(addrs)
	return list.all()
}

// oneLookup reports whether ConnectTCP, ListenTCP and the UDP sockets
// look up both families of host at once (network "ip"), with no race
// between an AAAA and an A lookup: host is a localhost name (RFC 6761
// §6.3: "localhost" or a name under it) and the resolver is a
// *net.Resolver, net.DefaultResolver by default.
//
// The race, and its resolution delay, are for DNS, whose AAAA and A
// answers come apart. A *net.Resolver answers a localhost name from
// local sources, which hold both families and answer both at once: the
// hosts file (Go's resolver reads it before DNS unless nsswitch.conf
// says otherwise, and for every family) or, through getaddrinfo, NSS's
// files and myhostname. A name the hosts file lacks (or written with the
// root's dot, "localhost.", which Go's resolver takes to DNS) goes to
// DNS, where RFC 6761 §6.3 has caching servers answer localhost names
// themselves, at once. So one lookup gives what the two would, as soon
// as they would; and it costs half as much, with no task group,
// goroutine, channel or timer for them (BenchmarkConnectLocalhost fell
// from ~95 µs to ~68 µs, net.Dialer's time, on a 2-core amd64). Another
// [HostResolver] is asked as its doc says: AAAA and A, in parallel.
func (c *config) oneLookup(host string) bool {
	if _, ok := c.hostResolver().(*net.Resolver); !ok {
		return false
	}
	host = strings.TrimSuffix(host, ".")
	const name = "localhost"
	n := len(host) - len(name)
	return n >= 0 && strings.EqualFold(host[n:], name) && (n == 0 || host[n-1] == '.')
}

// hostResolver returns the Resolver option's resolver, or
// net.DefaultResolver.
func (c *config) hostResolver() HostResolver {
	if c.resolver == nil {
		return net.DefaultResolver
	}
	return c.resolver
}

// errNoAddress is the error of a lookup that found nothing and said
// nothing.
var errNoAddress = errors.New("no address")

// family returns the addresses of addrs of one family, unmapped, in
// their order.
func family(addrs []netip.Addr, v6 bool) []netip.Addr {
	var out []netip.Addr
	for _, a := range addrs {
		a = a.Unmap()
		if a.Is6() == v6 {
			out = append(out, a)
		}
	}
	return out
}

// familyAllows reports whether a is of the family the options allow.
func (c *config) familyAllows(a netip.Addr) bool {
	switch c.family {
	case syscall.AF_INET:
		return a.Unmap().Is4()
	case syscall.AF_INET6:
		return a.Is6() && !a.Is4In6()
	}
	return true
}

// prefer6 reports whether RFC 6724 puts the IPv6 address a before an IPv4
// one: its precedence (§2.1's default policy table: IPv4 is 35) is higher,
// and it is not link-local (rule 2: a link-local destination does not
// match the scope of our global or loopback sources).
func prefer6(a netip.Addr) bool {
	if a.IsLinkLocalUnicast() {
		return false
	}
	b := a.As16()
	switch {
	case b[0]&0xfe == 0xfc: // fc00::/7, ULA: precedence 3
		return false
	case b[0] == 0x20 && b[1] == 0x02: // 2002::/16, 6to4: 30
		return false
	case b[0] == 0x20 && b[1] == 0x01 && b[2] == 0 && b[3] == 0: // 2001::/32, Teredo: 5
		return false
	}
	return true
}
