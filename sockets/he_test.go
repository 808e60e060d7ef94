package sockets_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http/httptrace"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/tether-go/tether/sockets"
)

// hostsResolver answers names from a table, as a hosts file would, and
// counts the queries; a name it does not know is not found. No query
// ever leaves the machine.
type hostsResolver struct {
	hosts map[string][]netip.Addr
	mu    sync.Mutex
	asked []string // "network host", in order
}

func (r *hostsResolver) LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error) {
	r.mu.Lock()
	r.asked = append(r.asked, network+" "+host)
	r.mu.Unlock()
	var out []netip.Addr
	for _, a := range r.hosts[host] {
		if (network == "ip6") == a.Is6() {
			out = append(out, a)
		}
	}
	if len(out) == 0 {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	return out, nil
}

var (
	lo4 = netip.MustParseAddr("127.0.0.1")
	lo6 = netip.MustParseAddr("::1")
)

// localhost is a resolver for which "localhost" is both loopbacks, as
// most hosts files say (this machine's may have only one).
func localhost() *hostsResolver {
	return &hostsResolver{hosts: map[string][]netip.Addr{"localhost": {lo6, lo4}}}
}

// TestHappyEyeballsListeners connects to IPv4-only, IPv6-only and
// dual-stack listeners by "localhost" and by each loopback literal.
func TestHappyEyeballsListeners(t *testing.T) {
	if !has6() {
		t.Skip("skipping: ::1 is not available on this machine")
	}
	listeners := []struct {
		name   string
		family int
	}{
		{"IPv4-only", syscall.AF_INET},
		{"IPv6-only", syscall.AF_INET6},
		{"dual-stack", syscall.AF_UNSPEC},
	}
	hosts := []struct {
		host  string
		works func(family int) bool
		want  func(family int) string // the address connected to
	}{
		{"localhost", func(int) bool { return true }, func(f int) string {
			if f == syscall.AF_INET {
				return "127.0.0.1"
			}
			return "::1" // tried first, as RFC 6724 orders them
		}},
		{"127.0.0.1", func(f int) bool { return f != syscall.AF_INET6 }, func(int) string { return "127.0.0.1" }},
		{"::1", func(f int) bool { return f != syscall.AF_INET }, func(int) string { return "::1" }},
	}
	for _, lt := range listeners {
		for _, ht := range hosts {
			t.Run(fmt.Sprintf("%s/%s", lt.name, ht.host), func(t *testing.T) {
				l, err := sockets.ListenTCP(sockets.IPFamily(lt.family))
				if err != nil {
					t.Fatal(err)
				}
				defer l.Close()
				accepted := acceptOne(t.Context(), l.Accept)
				s, err := sockets.ConnectTCP(t.Context(), ht.host, l.Port(), sockets.Resolver(localhost()))
				if !ht.works(lt.family) {
					if !errors.Is(err, syscall.ECONNREFUSED) {
						t.Fatalf("ConnectTCP = %v, want ECONNREFUSED", err)
					}
					l.Close()
					<-accepted
					return
				}
				if err != nil {
					t.Fatalf("ConnectTCP: %v", err)
				}
				defer s.Close()
				c := <-accepted
				if c == nil {
					t.Fatal("Accept failed")
				}
				c.Close()
				if got := s.RemoteAddr().(*net.TCPAddr).IP.String(); got != ht.want(lt.family) {
					t.Errorf("connected to %s, want %s", got, ht.want(lt.family))
				}
			})
		}
	}
}

// TestHappyEyeballsSystemLocalhost connects to "localhost" with the
// system's resolver (its hosts file), whatever families it lists.
func TestHappyEyeballsSystemLocalhost(t *testing.T) {
	l, err := sockets.ListenTCP()
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	accepted := acceptOne(t.Context(), l.Accept)
	s, err := sockets.ConnectTCP(t.Context(), "localhost", l.Port())
	if err != nil {
		t.Fatalf("ConnectTCP(localhost): %v", err)
	}
	s.Close()
	if c := <-accepted; c != nil {
		c.Close()
	}
}

// TestHappyEyeballsLocalhostOneLookup: a *net.Resolver is asked once for
// a localhost name (RFC 6761 §6.3), both families in one lookup, and twice
// for any other name, AAAA and A in parallel. httptrace's DNSStart counts
// the lookups. The resolver has no DNS server, so nothing leaves the
// machine: only the hosts file answers.
func TestHappyEyeballsLocalhostOneLookup(t *testing.T) {
	noDNS := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, address string) (net.Conn, error) {
		return nil, errors.New("no DNS server in this test")
	}}
	l, err := sockets.ListenTCP()
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	tests := []struct {
		name     string
		host     string
		lookups  int32
		connects bool // the hosts file names it; the others go to the absent DNS
	}{
		{"localhost", "localhost", 1, true},
		{"upper case", "LocalHost", 1, true},
		{"the root's dot", "localhost.", 1, false}, // Go's resolver asks DNS
		{"a name under localhost", "app.localhost", 1, false},
		{"a name ending in localhost", "notlocalhost", 2, false},
		{"a name under localhost.example", "localhost.example", 2, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var lookups atomic.Int32
			ctx := httptrace.WithClientTrace(t.Context(), &httptrace.ClientTrace{
				DNSStart: func(httptrace.DNSStartInfo) { lookups.Add(1) },
			})
			s, err := sockets.ConnectTCP(ctx, tt.host, l.Port(), sockets.Resolver(noDNS))
			if err == nil {
				s.Close()
			}
			if got := lookups.Load(); got != tt.lookups {
				t.Errorf("ConnectTCP(%q) made %d lookups, want %d", tt.host, got, tt.lookups)
			}
			if tt.connects && err != nil {
				t.Errorf("ConnectTCP(%q) = %v, want a connection", tt.host, err)
			}
		})
	}
}

// TestHappyEyeballsLocalhostOtherResolver: a HostResolver that is not a
// *net.Resolver is asked for AAAA and A, as HostResolver's doc says, even
// for "localhost".
func TestHappyEyeballsLocalhostOtherResolver(t *testing.T) {
	l := listenTCP4(t)
	r := localhost()
	s, err := sockets.ConnectTCP(t.Context(), "localhost", l.Port(), sockets.Resolver(r))
	if err != nil {
		t.Fatalf("ConnectTCP: %v", err)
	}
	s.Close()
	r.mu.Lock()
	asked := slices.Sorted(slices.Values(r.asked))
	r.mu.Unlock()
	if want := []string{"ip4 localhost", "ip6 localhost"}; !slices.Equal(asked, want) {
		t.Errorf("the resolver was asked %q, want %q", asked, want)
	}
}

// blackHole returns a listener on 127.0.0.1 whose accept queue is full,
// so that a new connection's SYN is never answered, and its port.
func blackHole(t testing.TB) int {
	t.Helper()
	l := listenTCP4(t, sockets.Backlog(1))
	var queued []net.Conn
	t.Cleanup(func() {
		for _, c := range queued {
			c.Close()
		}
	})
	for range 64 {
		c, err := net.DialTimeout("tcp4", net.JoinHostPort("127.0.0.1", fmt.Sprint(l.Port())), 100*time.Millisecond)
		if err != nil {
			return l.Port() // this one went unanswered: the queue is full
		}
		queued = append(queued, c)
	}
	t.Fatal("the accept queue never filled")
	return 0
}

// TestHappyEyeballsBlackHole: the first address never answers, so the
// second attempt starts after the delay and wins.
func TestHappyEyeballsBlackHole(t *testing.T) {
	port := blackHole(t)
	second := netip.MustParseAddr("127.0.0.2") // loopback too
	good, err := sockets.ListenTCP(sockets.LocalHost(second.String()), sockets.Port(port))
	if err != nil {
		t.Skipf("skipping: cannot listen on %s:%d: %v", second, port, err)
	}
	defer good.Close()
	accepted := acceptOne(t.Context(), good.Accept)
	r := &hostsResolver{hosts: map[string][]netip.Addr{"twohomes": {lo4, second}}}
	const delay = 50 * time.Millisecond
	start := time.Now()
	s, err := sockets.ConnectTCP(t.Context(), "twohomes", port, sockets.Resolver(r), sockets.HappyEyeballsDelay(delay))
	took := time.Since(start)
	if err != nil {
		t.Fatalf("ConnectTCP: %v", err)
	}
	defer s.Close()
	if c := <-accepted; c != nil {
		c.Close()
	}
	if got := s.RemoteAddr().(*net.TCPAddr).IP.String(); got != second.String() {
		t.Errorf("connected to %s, want %s", got, second)
	}
	if took < delay {
		t.Errorf("connected after %v, before the delay %v: the second attempt did not wait", took, delay)
	}
	if took > 10*delay {
		t.Errorf("connected after %v, want about the delay %v", took, delay)
	}
}

// TestHappyEyeballsNextOnFailure: a refused attempt starts the next one
// at once, without waiting for the delay.
func TestHappyEyeballsNextOnFailure(t *testing.T) {
	l := listenTCP4(t)
	dead := netip.MustParseAddr("127.0.0.3") // nothing listens there
	r := &hostsResolver{hosts: map[string][]netip.Addr{"h": {dead, lo4}}}
	accepted := acceptOne(t.Context(), l.Accept)
	start := time.Now()
	s, err := sockets.ConnectTCP(t.Context(), "h", l.Port(), sockets.Resolver(r), sockets.HappyEyeballsDelay(time.Hour))
	if err != nil {
		t.Fatalf("ConnectTCP: %v", err)
	}
	s.Close()
	if c := <-accepted; c != nil {
		c.Close()
	}
	if took := time.Since(start); took > time.Minute {
		t.Errorf("took %v: the refusal did not start the next attempt", took)
	}
}

// TestHappyEyeballsAllFail: every attempt's error is kept, with its
// address.
func TestHappyEyeballsAllFail(t *testing.T) {
	l := listenTCP4(t)
	port := l.Port()
	l.Close()
	r := &hostsResolver{hosts: map[string][]netip.Addr{"h": {lo4, netip.MustParseAddr("127.0.0.3")}}}
	_, err := sockets.ConnectTCP(t.Context(), "h", port, sockets.Resolver(r))
	var ce *sockets.ConnectError
	if !errors.As(err, &ce) || len(ce.Attempts) != 2 {
		t.Fatalf("ConnectTCP = %v, want a *ConnectError with 2 attempts", err)
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("ConnectTCP = %v, want ECONNREFUSED reachable", err)
	}
	for _, want := range []string{"127.0.0.1", "127.0.0.3"} {
		if !containsAddr(ce.Attempts, want) {
			t.Errorf("the attempts' errors %v do not name %s", ce.Attempts, want)
		}
	}
}

func containsAddr(errs []error, addr string) bool {
	return slices.ContainsFunc(errs, func(err error) bool {
		var oe *net.OpError
		return errors.As(err, &oe) && oe.Addr != nil && oe.Addr.(*net.TCPAddr).IP.String() == addr
	})
}

// TestHappyEyeballsOrder: the families alternate, starting with the
// family RFC 6724 prefers, and a link-local IPv6 address does not go
// first (AnyIO #1230).
func TestHappyEyeballsOrder(t *testing.T) {
	tests := []struct {
		name  string
		addrs []string
		want  []string
	}{
		{"IPv6 first", []string{"::1", "::2", "127.0.0.1", "127.0.0.2"}, []string{"::1", "127.0.0.1", "::2", "127.0.0.2"}},
		{"link-local IPv6 last", []string{"fe80::1", "127.0.0.1", "127.0.0.2"}, []string{"127.0.0.1", "fe80::1", "127.0.0.2"}},
		{"ULA after IPv4", []string{"fd00::1", "127.0.0.1"}, []string{"127.0.0.1", "fd00::1"}},
		{"one family", []string{"127.0.0.1", "127.0.0.2"}, []string{"127.0.0.1", "127.0.0.2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var addrs []netip.Addr
			for _, a := range tt.addrs {
				addrs = append(addrs, netip.MustParseAddr(a))
			}
			got := sockets.AttemptOrder(addrs)
			var gots []string
			for _, a := range got {
				gots = append(gots, a.String())
			}
			if !slices.Equal(gots, tt.want) {
				t.Errorf("order = %v, want %v", gots, tt.want)
			}
		})
	}
}

// TestHappyEyeballsCancel: a cancelled ConnectTCP abandons its attempts
// and returns the cancellation error.
func TestHappyEyeballsCancel(t *testing.T) {
	port := blackHole(t)
	ctx, cancelFn := context.WithCancelCause(t.Context())
	why := errors.New("user gave up")
	errc := make(chan error, 1)
	go func() {
		_, err := sockets.ConnectTCP(ctx, "127.0.0.1", port)
		errc <- err
	}()
	cancelFn(why)
	if err := <-errc; !errors.Is(err, context.Canceled) || !errors.Is(err, why) {
		t.Fatalf("cancelled ConnectTCP = %v, want context.Canceled and the cause", err)
	}
}

// TestHappyEyeballsResolutionDelay: when A is in and AAAA never comes,
// ConnectTCP goes on with A after the resolution delay, and the AAAA
// lookup is cancelled and waited for (goleak checks nothing is left).
func TestHappyEyeballsResolutionDelay(t *testing.T) {
	l := listenTCP4(t)
	aaaaCancelled := make(chan struct{})
	r := sockets.LookupFunc(func(ctx context.Context, network, host string) ([]netip.Addr, error) {
		if network == "ip4" {
			return []netip.Addr{lo4}, nil
		}
		<-ctx.Done() // a DNS server that never answers AAAA
		close(aaaaCancelled)
		return nil, ctx.Err()
	})
	accepted := acceptOne(t.Context(), l.Accept)
	s, err := sockets.ConnectTCP(t.Context(), "slow-aaaa", l.Port(), sockets.Resolver(r))
	if err != nil {
		t.Fatalf("ConnectTCP: %v", err)
	}
	s.Close()
	if c := <-accepted; c != nil {
		c.Close()
	}
	select {
	case <-aaaaCancelled:
	default:
		t.Fatal("ConnectTCP returned before its AAAA lookup ended")
	}
}

// TestHappyEyeballsAAAAFirst: when AAAA answers first, the IPv6 attempt
// starts at once (RFC 8305 §3), without waiting for A, whose lookup is
// cancelled once the connection is made.
func TestHappyEyeballsAAAAFirst(t *testing.T) {
	if !has6() {
		t.Skip("skipping: ::1 is not available on this machine")
	}
	l, err := sockets.ListenTCP(sockets.LocalHost("::1"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	aCancelled := make(chan struct{})
	r := sockets.LookupFunc(func(ctx context.Context, network, host string) ([]netip.Addr, error) {
		if network == "ip6" {
			return []netip.Addr{lo6}, nil
		}
		<-ctx.Done() // a DNS server that never answers A
		close(aCancelled)
		return nil, ctx.Err()
	})
	accepted := acceptOne(t.Context(), l.Accept)
	ctx, stop := context.WithTimeout(t.Context(), 10*time.Second) // a bound, should it wait for A
	defer stop()
	s, err := sockets.ConnectTCP(ctx, "slow-a", l.Port(), sockets.Resolver(r))
	if err != nil {
		t.Fatalf("ConnectTCP: got %v, want a connection to ::1 without A's answer", err)
	}
	s.Close()
	if c := <-accepted; c != nil {
		c.Close()
	}
	select {
	case <-aCancelled:
	default:
		t.Fatal("ConnectTCP returned before its A lookup ended")
	}
}

// TestHappyEyeballsLateAAAA: an AAAA answer that comes after the
// resolution delay is not lost: its addresses join the list, and are
// tried when the IPv4 ones have failed.
func TestHappyEyeballsLateAAAA(t *testing.T) {
	if !has6() {
		t.Skip("skipping: ::1 is not available on this machine")
	}
	l, err := sockets.ListenTCP(sockets.LocalHost("::1")) // 127.0.0.1 refuses
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	r := sockets.LookupFunc(func(ctx context.Context, network, host string) ([]netip.Addr, error) {
		if network == "ip4" {
			return []netip.Addr{lo4}, nil
		}
		select { // a slow DNS server: AAAA well after the resolution delay
		case <-time.After(200 * time.Millisecond):
			return []netip.Addr{lo6}, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	})
	accepted := acceptOne(t.Context(), l.Accept)
	s, err := sockets.ConnectTCP(t.Context(), "slow-aaaa", l.Port(), sockets.Resolver(r))
	if err != nil {
		t.Fatalf("ConnectTCP: got %v, want a connection to ::1 once AAAA answered", err)
	}
	defer s.Close()
	if c := <-accepted; c != nil {
		c.Close()
	}
	if got := s.RemoteAddr().(*net.TCPAddr).IP.String(); got != "::1" {
		t.Errorf("connected to %s, want ::1", got)
	}
}

// TestHappyEyeballsLookupErrors: a name neither family resolves is an
// error that says so once.
func TestHappyEyeballsLookupErrors(t *testing.T) {
	_, err := sockets.ConnectTCP(t.Context(), "nowhere", 80, sockets.Resolver(localhost()))
	var de *net.DNSError
	if !errors.As(err, &de) || !de.IsNotFound {
		t.Fatalf("ConnectTCP = %v, want a not-found *net.DNSError", err)
	}
	if n := strings.Count(err.Error(), "no such host"); n != 1 {
		t.Errorf("error %q says %q %d times, want once", err, "no such host", n)
	}
}

// TestConnectDeadlineIsContexts: when ctx's deadline ends the connect,
// the error is ctx's (DeadlineExceeded, with its cause), never the dial's
// "i/o timeout": the dial's deadline is ctx's, and the poller can see it
// pass a moment before ctx's own timer has fired. Repeated, since which
// of the two comes first is a race.
func TestConnectDeadlineIsContexts(t *testing.T) {
	port := blackHole(t)
	r := &hostsResolver{hosts: map[string][]netip.Addr{"twoholes": {lo4, netip.MustParseAddr("127.0.0.2")}}}
	why := errors.New("connect budget spent")
	tests := []struct {
		name string
		host string
	}{
		{"one address", "127.0.0.1"},
		{"raced addresses", "twoholes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for i := range 30 {
				ctx, stop := context.WithTimeoutCause(t.Context(), time.Millisecond, why)
				s, err := sockets.ConnectTCP(ctx, tt.host, port, sockets.Resolver(r), sockets.HappyEyeballsDelay(time.Millisecond/2))
				stop()
				if s != nil {
					s.Close()
				}
				if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, why) {
					t.Fatalf("try %d: got %v, want context.DeadlineExceeded with its cause", i, err)
				}
			}
		})
	}
}
