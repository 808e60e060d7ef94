package sockets

import (
	"cmp"
	"context"
	"errors"
	"net"
	"net/netip"
	"slices"
	"time"

	"github.com/tether-go/tether/taskgroup"
)

// resolutionDelay is how long ConnectTCP waits for the AAAA answer once
// the A answer is in (RFC 8305 §3 recommends 50 ms).
const resolutionDelay = 50 * time.Millisecond

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
