package sockets

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"syscall"
	"time"
)

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
