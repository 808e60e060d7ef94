// Command connect connects to a TCP port with sockets.ConnectTCP, which
// implements Happy Eyeballs v2 (RFC 8305) with a task group, and shows how
// it went: the DNS answers (AAAA and A are asked at once), each attempt —
// when it started and why (the first; the one before failed; the one
// before had no answer within the delay) and how it ended (connected,
// failed, abandoned once another won) — and which address won, and why;
// or, when every attempt failed, each attempt's error.
//
//	go run ./examples/connect localhost 7000
//	go run ./examples/connect -delay 100ms example.com 443
//	go run ./examples/connect -demo
//
// With -demo it stages four races on loopback, with a made-up name,
// demo.test, whose AAAA record is ::1 and whose A record is 127.0.0.1:
// both addresses answer (IPv6 wins: it is tried first); ::1 refuses
// (127.0.0.1 wins at once, without waiting for the delay); ::1 never
// answers, as a black-holed route would (127.0.0.1 is started after the
// delay and wins); and the AAAA answer is slow (ConnectTCP waits 50 ms
// for it, then goes on with IPv4).
//
// The DNS answers come through the sockets.Resolver option; the attempts
// through net's dial trace (net/http/httptrace's ConnectStart and
// ConnectDone, which net.Dialer calls for any dial whose ctx carries them,
// HTTP or not), since ConnectTCP dials with a net.Dialer under ctx.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http/httptrace"
	"net/netip"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/tether-go/tether"
	"github.com/tether-go/tether/cancel"
	"github.com/tether-go/tether/sockets"
	"github.com/tether-go/tether/streams"
	"github.com/tether-go/tether/taskgroup"
)

func main() {
	tether.Main(func(ctx context.Context, _ *taskgroup.Group) error {
		return run(ctx, os.Args[1:], os.Stdout)
	})
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("connect", flag.ContinueOnError)
	delay := fs.Duration("delay", sockets.DefaultHappyEyeballsDelay, "Happy Eyeballs delay: how long an attempt has before the next starts")
	timeout := fs.Duration("timeout", 10*time.Second, "give up after this long")
	demo := fs.Bool("demo", false, "stage four races on loopback and show each")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: connect [-delay d] [-timeout d] host port\n       connect -demo")
		fs.PrintDefaults()
	}
	switch err := fs.Parse(args); {
	case errors.Is(err, flag.ErrHelp):
		return nil // -h: fs printed the usage
	case err != nil:
		return err
	}
	if *delay <= 0 || *timeout <= 0 {
		return errors.New("connect: -delay and -timeout must be positive")
	}
	if *demo {
		if fs.NArg() != 0 {
			return errors.New("connect: -demo takes no host and port")
		}
		return runDemo(ctx, stdout, *delay)
	}
	if fs.NArg() != 2 {
		fs.Usage()
		return errors.New("connect: want a host and a port")
	}
	port, err := strconv.Atoi(fs.Arg(1))
	if err != nil {
		return fmt.Errorf("connect: port %q is not a number", fs.Arg(1))
	}
	return cancel.FailAfter(ctx, *timeout, func(ctx context.Context) error {
		_, err := connect(ctx, stdout, fs.Arg(0), port, *delay, net.DefaultResolver)
		return err
	})
}

// A tracer prints what happens during one ConnectTCP, with the time since
// it started: the resolver's answers, seen through the sockets.Resolver
// option, and each attempt, seen through net's dial trace, which
// net/http/httptrace installs in ctx and net.Dialer (under ConnectTCP)
// calls for every address it dials.
type tracer struct {
	w     io.Writer
	start time.Time

	mu       sync.Mutex
	addrs    int  // addresses the resolver gave
	gaveUp6  bool // ConnectTCP went on without the AAAA answer
	attempts []*attempt
}

// attempt is one connection attempt.
type attempt struct {
	addr         string
	afterFailure bool // it started because the one before it had failed
	done         bool
	err          error
}

func (t *tracer) printf(format string, args ...any) {
	line := fmt.Sprintf(format, args...)
	t.mu.Lock()
	defer t.mu.Unlock()
	fmt.Fprintf(t.w, "  %8s  %s\n", "+"+roundDuration(time.Since(t.start)).String(), line)
}

func roundDuration(d time.Duration) time.Duration {
	if d < time.Millisecond {
		return d.Round(10 * time.Microsecond)
	}
	return d.Round(100 * time.Microsecond)
}

// resolver reports each lookup that ConnectTCP makes through r.
func (t *tracer) resolver(r sockets.HostResolver) sockets.HostResolver {
	return sockets.LookupFunc(func(ctx context.Context, network, host string) ([]netip.Addr, error) {
		record := "A   "
		if network == "ip6" {
			record = "AAAA"
		}
		addrs, err := r.LookupNetIP(ctx, network, host)
		t.mu.Lock()
		t.addrs += len(addrs)
		t.gaveUp6 = t.gaveUp6 || (err != nil && ctx.Err() != nil && network == "ip6")
		t.mu.Unlock()
		switch {
		case err != nil && ctx.Err() != nil:
			t.printf("%s %s: given up (ConnectTCP went on without it)", record, host)
		case err != nil:
			t.printf("%s %s: %v", record, host, err)
		default:
			t.printf("%s %s: %v", record, host, addrs)
		}
		return addrs, err
	})
}

// trace returns ctx with hooks that report each attempt. The hooks run in
// the attempts' goroutines, several at once.
func (t *tracer) trace(ctx context.Context, delay time.Duration) context.Context {
	return httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		ConnectStart: func(network, addr string) {
			t.mu.Lock()
			a := &attempt{addr: addr}
			n := len(t.attempts)
			why := "started"
			if n > 0 {
				prev := t.attempts[n-1]
				a.afterFailure = prev.done && prev.err != nil
				if a.afterFailure {
					why = fmt.Sprintf("started at once: attempt %d failed", n)
				} else {
					why = fmt.Sprintf("started: attempt %d had no answer after %v", n, delay)
				}
			}
			t.attempts = append(t.attempts, a)
			t.mu.Unlock()
			t.printf("attempt %d: %s %s", n+1, addr, why)
		},
		ConnectDone: func(network, addr string, err error) {
			t.mu.Lock()
			n := 0
			for i, a := range t.attempts {
				if a.addr == addr && !a.done {
					a.done, a.err, n = true, err, i+1
					break
				}
			}
			t.mu.Unlock()
			switch {
			case err == nil:
				t.printf("attempt %d: %s connected", n, addr)
			case errors.Is(err, context.Canceled):
				t.printf("attempt %d: %s abandoned: the race is over", n, addr)
			default:
				t.printf("attempt %d: %s failed: %v", n, addr, unwrapOp(err))
			}
		},
	})
}

// unwrapOp drops the "dial tcp6 [::1]:7000: " that net puts before the
// reason, which the line already says.
func unwrapOp(err error) error {
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		return op.Err
	}
	return err
}

// connect connects to host and port, printing what happens, and returns
// the address that won.
func connect(ctx context.Context, w io.Writer, host string, port int, delay time.Duration, r sockets.HostResolver) (netip.AddrPort, error) {
	t := &tracer{w: w, start: time.Now()}
	t.printf("connecting to %s (Happy Eyeballs delay %v)", net.JoinHostPort(host, strconv.Itoa(port)), delay)
	conn, err := sockets.ConnectTCP(t.trace(ctx, delay), host, port,
		sockets.Resolver(t.resolver(r)), sockets.HappyEyeballsDelay(delay))
	var ce *sockets.ConnectError
	switch {
	case errors.As(err, &ce):
		t.printf("every attempt failed, in the order they were made:")
		for i, err := range ce.Attempts {
			fmt.Fprintf(w, "  %10d. %v\n", i+1, err)
		}
		return netip.AddrPort{}, err
	case err != nil:
		t.printf("failed: %v", err)
		return netip.AddrPort{}, err
	}
	defer conn.Close()
	remote, _ := streams.Extra(conn, sockets.RemoteAddr)
	local, _ := streams.Extra(conn, sockets.LocalAddr)
	won := remote.(*net.TCPAddr).AddrPort()
	t.printf("connected to %v from %v: %s", won, local, t.why(won))
	return won, nil
}

// why tells why the attempt to won won, from what the tracer saw. Every
// attempt has ended: ConnectTCP returns only then.
func (t *tracer) why(won netip.AddrPort) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	family := "IPv4"
	if won.Addr().Is6() && !won.Addr().Is4In6() {
		family = "IPv6"
	}
	k := 0
	for i, a := range t.attempts {
		if a.done && a.err == nil {
			k = i + 1
			break
		}
	}
	switch {
	case k == 0:
		return family + ", by a path the trace did not see" // ConnectTCP dialled without net.Dialer
	case t.gaveUp6 && family == "IPv4":
		return "A answered and AAAA did not within 50 ms (RFC 8305's resolution delay), so IPv4 went ahead alone"
	case t.addrs <= 1:
		return "the only address"
	case k == 1:
		return fmt.Sprintf("the first attempt (%s, the family RFC 8305 tries first here) answered", family)
	case t.attempts[k-1].afterFailure:
		return fmt.Sprintf("attempt %d failed, so attempt %d (%s) started at once, without waiting for the delay, and won", k-1, k, family)
	}
	return fmt.Sprintf("the attempts before it did not answer within the delay, so attempt %d (%s) started alongside them, and connected first", k, family)
}

// A scenario is one staged race of -demo.
type scenario struct {
	title   string
	ipv6    string        // "listen", "refuse" or "blackhole"
	slow6   time.Duration // how late the AAAA answer comes
	want    netip.Addr    // who must win
	atLeast time.Duration // the least time the race must take
	below   time.Duration // and the most (0: no bound)
}

var (
	loop6 = netip.MustParseAddr("::1")
	loop4 = netip.MustParseAddr("127.0.0.1")
)

// runDemo stages each race on loopback and checks that it went as RFC
// 8305 says it should.
func runDemo(ctx context.Context, w io.Writer, delay time.Duration) error {
	scenarios := []scenario{
		{title: "both ::1 and 127.0.0.1 answer: IPv6 is tried first, and wins", ipv6: "listen", want: loop6, below: delay},
		{title: "::1 refuses: 127.0.0.1 is tried at once, without waiting for the delay", ipv6: "refuse", want: loop4, below: delay},
		{title: "::1 never answers (a full accept queue drops the SYN): 127.0.0.1 starts after the delay, and wins", ipv6: "blackhole", want: loop4, atLeast: delay},
		{title: "the AAAA answer is a second late: after 50 ms of waiting for it, IPv4 goes ahead", ipv6: "listen", slow6: time.Second, want: loop4, below: time.Second},
	}
	for _, sc := range scenarios {
		fmt.Fprintf(w, "== %s\n", sc.title)
		if err := sc.run(ctx, w, delay); err != nil {
			return err
		}
	}
	return nil
}

func (sc scenario) run(ctx context.Context, w io.Writer, delay time.Duration) error {
	stage, err := newStage(ctx, sc.ipv6)
	if err != nil {
		return err
	}
	defer stage.Close()
	demoDNS := sockets.LookupFunc(func(ctx context.Context, network, host string) ([]netip.Addr, error) {
		if host != "demo.test" {
			return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
		}
		if network == "ip4" {
			return []netip.Addr{loop4}, nil
		}
		if err := cancel.Sleep(ctx, sc.slow6); err != nil {
			return nil, err
		}
		return []netip.Addr{loop6}, nil
	})
	start := time.Now()
	won, err := connect(ctx, w, "demo.test", stage.port, delay, demoDNS)
	took := time.Since(start)
	switch {
	case err != nil:
		return err
	case won.Addr() != sc.want:
		return fmt.Errorf("connect: %s won, want %s", won.Addr(), sc.want)
	case took < sc.atLeast:
		return fmt.Errorf("connect: the race took %v, want at least %v", took, sc.atLeast)
	case sc.below > 0 && took >= sc.below:
		return fmt.Errorf("connect: the race took %v, want less than %v", took, sc.below)
	}
	return nil
}

// A stage is the listeners of one scenario: 127.0.0.1 always listens, and
// ::1, on the same port, listens, refuses, or takes the connection into a
// full accept queue, where its SYN is dropped and it never completes.
type stage struct {
	port      int
	listeners []*sockets.MultiListener
	fillers   []*sockets.SocketStream
}

func newStage(ctx context.Context, ipv6 string) (_ *stage, err error) {
	s := &stage{}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	// Two listeners on one port: retry a few times if the port is free on
	// 127.0.0.1 but taken on ::1.
	for try := 0; ; try++ {
		l4, err := sockets.ListenTCP(sockets.LocalHost("127.0.0.1"))
		if err != nil {
			return nil, err
		}
		s.listeners = append(s.listeners, l4)
		s.port = l4.Port()
		if ipv6 == "refuse" {
			// Nothing may listen on [::1]:port: check by listening, once.
			l6, err := sockets.ListenTCP(sockets.LocalHost("::1"), sockets.Port(s.port))
			if err == nil {
				l6.Close()
				return s, nil
			}
		} else {
			backlog := sockets.Option{}
			if ipv6 == "blackhole" {
				backlog = sockets.Backlog(1)
			}
			l6, err := sockets.ListenTCP(sockets.LocalHost("::1"), sockets.Port(s.port), backlog)
			if err == nil {
				s.listeners = append(s.listeners, l6)
				if ipv6 == "blackhole" {
					return s, s.fill(ctx)
				}
				return s, nil
			}
		}
		if try == 5 {
			return nil, fmt.Errorf("connect: no port free on both 127.0.0.1 and ::1 (is there an IPv6 loopback?): %w", err)
		}
		s.Close()
		s.listeners = nil
	}
}

// fill connects to [::1]:port until a connection does not complete: the
// accept queue, which nobody accepts from, is full, and the kernel drops
// every SYN that comes after.
func (s *stage) fill(ctx context.Context) error {
	for range 16 {
		var conn *sockets.SocketStream
		timedOut, err := cancel.MoveOnAfter(ctx, 100*time.Millisecond, func(ctx context.Context) (err error) {
			conn, err = sockets.ConnectTCP(ctx, "::1", s.port)
			return err
		})
		// The dial's own deadline (ctx's) may fire a moment before ctx
		// is done, and then ConnectTCP reports an i/o timeout rather than
		// the cancellation: either way, the connection did not complete.
		if timedOut || errors.Is(err, os.ErrDeadlineExceeded) {
			return nil
		}
		if err != nil {
			return err
		}
		s.fillers = append(s.fillers, conn)
	}
	return errors.New("connect: the accept queue of [::1] never filled up")
}

// Close closes the listeners and the connections that filled a queue.
func (s *stage) Close() error {
	for _, c := range s.fillers {
		c.Close()
	}
	for _, l := range s.listeners {
		l.Close()
	}
	return nil
}
