package tethertest_test

import (
	"context"
	"fmt"
	"net"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tether-go/tether/cancel"
	"github.com/tether-go/tether/streams"
	"github.com/tether-go/tether/taskgroup"
	"github.com/tether-go/tether/tethertest"
)

// The tests in this file check, end to end, that the handlers of
// streams.Serve that leak or hang are reported by the names that Serve
// gives their tasks: "handler " and the client's address.

// loopback is a TCP listener on 127.0.0.1 as a streams.Listener. Its
// connections are streams.FromConn's, which know their peer's address.
type loopback struct {
	ln *net.TCPListener
}

func listenLoopback() (*loopback, error) {
	ln, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return nil, err
	}
	return &loopback{ln: ln}, nil
}

// Accept accepts a connection. When ctx is done it returns a cancellation
// error, and the listener stays usable.
func (l *loopback) Accept(ctx context.Context) (streams.ByteStream, error) {
	unblocked := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		l.ln.SetDeadline(time.Unix(1, 0)) // in the past: Accept returns
		close(unblocked)
	})
	c, err := l.ln.Accept()
	if !stop() {
		<-unblocked
		l.ln.SetDeadline(time.Time{})
	}
	switch {
	case err != nil && ctx.Err() != nil:
		return nil, cancel.Checkpoint(ctx)
	case err != nil:
		return nil, err
	}
	return streams.FromConn(c), nil
}

func (l *loopback) Close() error { return l.ln.Close() }

func (l *loopback) addr() string { return l.ln.Addr().String() }

// stuckServer's handler ignores its context and its connection: the
// mistake that the reports below must point at.
type stuckServer struct {
	started chan struct{}
}

func (s *stuckServer) handle(ctx context.Context, c streams.ByteStream) error {
	s.started <- struct{}{}
	<-never
	return nil
}

// dialStuck connects n clients to a stuckServer's listener and returns
// once its handler runs for each; it returns the clients' addresses,
// which are the names of the handlers' tasks after "handler ".
func dialStuck(ctx context.Context, l *loopback, s *stuckServer, n int) (clients []string, err error) {
	var d net.Dialer
	for range n {
		c, err := d.DialContext(ctx, "tcp", l.addr())
		if err != nil {
			return clients, err
		}
		defer c.Close()
		clients = append(clients, c.LocalAddr().String())
	}
	for range n {
		select {
		case <-s.started:
		case <-ctx.Done():
			return clients, ctx.Err()
		}
	}
	return clients, nil
}

// leakedHandlers is how many handlers the serveleak child leaks.
const leakedHandlers = 100

// serveLeak serves clients with handlers that never return, in a group of
// their own that nobody waits for: they outlive the test.
func serveLeak(t *testing.T) {
	tethertest.Run(t, func(ctx context.Context, g *taskgroup.Group) error {
		l, err := listenLoopback()
		if err != nil {
			return err
		}
		defer l.Close()
		s := &stuckServer{started: make(chan struct{})}
		handlers, _ := taskgroup.New(context.Background(), taskgroup.Named("server"))
		serveCtx, stop := context.WithCancel(ctx)
		defer stop()
		g.GoNamed("accept loop", func(context.Context) error {
			return streams.Serve(serveCtx, l, s.handle, handlers)
		})
		clients, err := dialStuck(ctx, l, s, leakedHandlers)
		if err != nil {
			return err
		}
		names := make([]string, len(clients))
		for i, c := range clients {
			names[i] = "handler " + c
		}
		slices.SortFunc(names, tethertest.CompareNames)
		t.Logf("the first names: %q, %q, %q", names[0], names[1], names[2])
		stop() // Serve returns; its handlers go on, forgotten
		return nil
	})
}

// serveHang serves a client with a handler that never returns, in the
// test's own group: the test hangs until its deadline.
func serveHang(t *testing.T) {
	tethertest.Run(t, func(ctx context.Context, g *taskgroup.Group) error {
		l, err := listenLoopback()
		if err != nil {
			return err
		}
		s := &stuckServer{started: make(chan struct{})}
		g.GoNamed("accept loop", func(ctx context.Context) error {
			defer l.Close()
			return streams.Serve(ctx, l, s.handle, g)
		})
		clients, err := dialStuck(ctx, l, s, 1)
		if err != nil {
			return err
		}
		t.Logf("the client: %s", clients[0])
		return nil
	})
}

// logged returns what follows prefix on the line of out that has it.
func logged(t *testing.T, out, prefix string) string {
	t.Helper()
	m := regexp.MustCompile(regexp.QuoteMeta(prefix) + `(.*)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("got output\n%s\nwant a line with %q", out, prefix)
	}
	return m[1]
}

func TestServeLeakReport(t *testing.T) {
	out := runChild(t, "serveleak", time.Minute)
	first := logged(t, out, "the first names: ")
	checkPrinted(t, out,
		"goroutines left running after the test's task group returned",
		fmt.Sprintf("found %d unexpected goroutines", leakedHandlers),
		fmt.Sprintf(`%d tasks of group "server": %s and %d more`, leakedHandlers, first, leakedHandlers-3),
		// taskgroup's "started" label: where GoNamed was called, which for
		// a handler is inside Serve.
		"started at ", "/streams/serve.go:",
		"runs github.com/tether-go/tether/tethertest_test.(*stuckServer).handle (",
		fmt.Sprintf("(and %d more with the same stack):", leakedHandlers-1),
		"github.com/tether-go/tether/tethertest_test.(*stuckServer).handle(",
	)
	if n := strings.Count(out, `tasks of group "server"`); n != 1 {
		t.Errorf("got %d entries for the server's tasks, want 1", n)
	}
}

func TestServeHangReport(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a test process that hangs for 2 s")
	}
	out := runChild(t, "servehang", 2*time.Second)
	client := logged(t, out, "the client: ")
	checkPrinted(t, out,
		"--- FAIL: TestChild",
		"the test's deadline is near, and 1 goroutine started by the test is still running",
		fmt.Sprintf(`task "handler %s" of group "TestChild"`, client),
		"started at ", "/streams/serve.go:",
		"runs github.com/tether-go/tether/tethertest_test.(*stuckServer).handle (",
		"goroutine ", "[chan receive]:",
		"github.com/tether-go/tether/tethertest_test.(*stuckServer).handle(",
	)
	if strings.Contains(out, "panic: test timed out") {
		t.Errorf("got go test's timeout panic, want Run's report before it")
	}
}
