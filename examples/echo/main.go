// Command echo is the demo that `make demo` runs: a line echo server on
// loopback, built on [streams.Serve] with [streams.Drain], put through a
// few hundred concurrent clients, then shut down gracefully.
//
//	go run ./examples/echo            # or: make demo
//	go run ./examples/echo -clients 1000
//
// The clients are of six kinds, all running at once:
//
//   - normal clients send lines and check each echo, then close;
//   - half-closing clients send every line, then SendEOF, then read the
//     echoes until the server ends the stream;
//   - idle clients go quiet after one line: the server's idle timeout
//     (cancel.FailAfter) hangs up on them;
//   - one client sends a line longer than the server accepts (garbage);
//   - one client sends "panic", and the handler panics;
//   - a few clients are still talking when the shutdown starts: Drain
//     lets them finish while the server accepts no one new.
//
// The errors and the panic end their own connection only: Serve reports
// them (OnError) and goes on serving. The program prints a summary —
// connections served, bytes echoed, errors isolated, time to shut down —
// and checks that no goroutine is left behind. On a terminal a progress
// line updates while it runs; otherwise it prints plain lines. Ctrl-C stops
// it at any point, cleanly.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
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

// The protocol: lines of at most maxLine bytes, each echoed back; the line
// "panic" makes the handler panic (a bug planted to show that it is
// isolated).
const maxLine = 1024

var newline = []byte("\n")

// config is what the flags set.
type config struct {
	host     string
	port     int
	clients  int           // every kind together
	lines    int           // lines per talking client
	idle     time.Duration // the server hangs up after this much silence
	drain    time.Duration // how long shutdown waits for running handlers
	progress bool          // a live progress line (stdout is a terminal)
}

// The fixed part of the mix; half-closing clients are a sixth of the rest.
const (
	idleClients    = 8
	drainedClients = 5
	oddClients     = 2 // the garbage one and the panicking one
)

func parse(args []string, stdout io.Writer) (config, error) {
	c := config{progress: isTerminal(stdout)}
	fs := flag.NewFlagSet("echo", flag.ContinueOnError)
	fs.StringVar(&c.host, "host", "127.0.0.1", "address to listen on (loopback)")
	fs.IntVar(&c.port, "port", 0, "port to listen on (0: any free port)")
	fs.IntVar(&c.clients, "clients", 300, "number of concurrent clients, every kind together")
	fs.IntVar(&c.lines, "lines", 20, "lines each talking client sends")
	// Long enough that a busy machine never makes a talking client look
	// idle; the idle clients wait this long for the server to hang up.
	fs.DurationVar(&c.idle, "idle", time.Second, "idle timeout of a connection")
	fs.DurationVar(&c.drain, "drain", 5*time.Second, "how long shutdown waits for running handlers")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("echo: unexpected arguments %q", fs.Args())
	}
	if min := idleClients + drainedClients + oddClients + 1; c.clients < min {
		return c, fmt.Errorf("echo: -clients must be at least %d, got %d", min, c.clients)
	}
	if c.lines < 2 {
		return c, fmt.Errorf("echo: -lines must be at least 2, got %d", c.lines)
	}
	if c.idle <= 0 || c.drain <= 0 {
		return c, fmt.Errorf("echo: -idle and -drain must be positive")
	}
	return c, nil
}

// stats are what the server and the clients count, at once.
type stats struct {
	conns       atomic.Int64 // connections whose handler ran
	ended       atomic.Int64 // handlers returned
	bytes       atomic.Int64 // bytes echoed by the server
	clientsDone atomic.Int64

	mu       sync.Mutex
	timeouts int
	garbage  int
	panics   int
	other    []error
}

// isolate is Serve's OnError: each handler failure is counted by kind.
func (s *stats) isolate(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var pe *taskgroup.PanicError
	switch {
	case errors.As(err, &pe):
		s.panics++
	case errors.Is(err, cancel.ErrTimeout):
		s.timeouts++
	case errors.Is(err, streams.ErrDelimiterNotFound):
		s.garbage++
	default:
		s.other = append(s.other, err)
	}
}

// handle echoes lines until the client ends the stream. Silence longer
// than idle is an error (the connection is dropped); so is a line longer
// than maxLine; "panic" panics. Serve closes conn when handle returns.
func handle(ctx context.Context, conn *sockets.SocketStream, idle time.Duration, st *stats) error {
	st.conns.Add(1)
	defer st.ended.Add(1)
	in := streams.NewBuffered(conn)
	for {
		var line []byte
		err := cancel.FailAfter(ctx, idle, func(ctx context.Context) (err error) {
			line, err = in.ReceiveUntil(ctx, newline, maxLine)
			return err
		})
		if errors.Is(err, streams.ErrIncompleteRead) && len(in.Buffer()) == 0 {
			return nil // the client ended the stream between two lines
		}
		if err != nil {
			return err
		}
		if string(line) == "panic" {
			panic("echo: a client asked the handler to panic")
		}
		if err := conn.Send(ctx, append(line, '\n')); err != nil {
			return err
		}
		st.bytes.Add(int64(len(line) + 1))
	}
}

// run is the demo: it starts the server, runs every client at once, shuts
// the server down while a few clients still talk, and prints the summary.
// It returns an error if any client saw the server misbehave, or if a
// goroutine is left behind; ctx's cancellation (Ctrl-C) stops it at any
// point, and it returns that cancellation.
func run(ctx context.Context, args []string, stdout io.Writer) error {
	c, err := parse(args, stdout)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return nil // -h: the usage was printed
	case err != nil:
		return err
	}
	say := func(format string, args ...any) { fmt.Fprintf(stdout, "echo: "+format+"\n", args...) }
	baseline := runtime.NumGoroutine()
	var st stats
	var shutdownTook time.Duration
	start := time.Now()

	err = taskgroup.Run(ctx, func(ctx context.Context, g *taskgroup.Group) error {
		l, err := sockets.ListenTCP(sockets.LocalHost(c.host), sockets.Port(c.port))
		if err != nil {
			return err
		}
		defer l.Close()
		port, _ := streams.Extra(l, sockets.LocalPort)
		addr, _ := streams.Extra(l, sockets.LocalAddr)
		say("listening on %v", addr)

		// The server runs until serveCtx is cancelled; Drain then lets the
		// handlers that are still running finish.
		serveCtx, shutdown := context.WithCancel(ctx)
		defer shutdown()
		serverDone := make(chan struct{})
		g.Go(func(context.Context) error {
			defer close(serverDone)
			return l.Serve(serveCtx, func(ctx context.Context, conn *sockets.SocketStream) error {
				return handle(ctx, conn, c.idle, &st)
			}, nil, streams.Drain(c.drain), streams.OnError(st.isolate))
		})

		stopProgress := func() {}
		if c.progress {
			stopProgress = showProgress(ctx, g, stdout, c.clients, &st)
		}

		cl := clients{host: c.host, port: port, lines: c.lines, serverIdle: c.idle, st: &st}
		halfClosers := (c.clients - idleClients - drainedClients - oddClients) / 6
		normal := c.clients - idleClients - drainedClients - oddClients - halfClosers
		say("%d clients at once: %d normal, %d half-closing, %d idle, %d still talking at shutdown, 1 garbage, 1 panic",
			c.clients, normal, halfClosers, idleClients, drainedClients)

		// The clients that will still be talking when the shutdown starts
		// run in a group of their own, waited for after it.
		talking, _ := taskgroup.New(ctx)
		shutdownStarted := make(chan struct{})
		var mid sync.WaitGroup
		mid.Add(drainedClients)
		for range drainedClients {
			talking.Go(interruptible(func(ctx context.Context) error { return cl.drained(ctx, &mid, shutdownStarted) }))
		}

		err = taskgroup.Run(ctx, func(ctx context.Context, cg *taskgroup.Group) error {
			for range normal {
				cg.Go(interruptible(cl.normal))
			}
			for range halfClosers {
				cg.Go(interruptible(cl.halfClose))
			}
			for range idleClients {
				cg.Go(interruptible(cl.idle))
			}
			cg.Go(interruptible(cl.garbage))
			cg.Go(interruptible(cl.panics))
			return nil
		})
		if err != nil {
			talking.Cancel()
			talking.Wait()
			return err
		}
		mid.Wait() // every talking client has had a few lines echoed
		stopProgress()
		say("%d clients done in %v; shutting down while %d more are still talking",
			st.clientsDone.Load(), time.Since(start).Round(time.Millisecond), drainedClients)

		t0 := time.Now()
		close(shutdownStarted)
		shutdown()
		<-serverDone
		shutdownTook = time.Since(t0)
		return talking.Wait()
	})
	if err != nil {
		if ctx.Err() != nil {
			say("%v: shut down cleanly", context.Cause(ctx))
		}
		return err
	}
	left, err := goroutinesBackTo(baseline)
	summary(stdout, &st, time.Since(start), shutdownTook, left, baseline)
	return err
}

// summary prints what happened.
func summary(w io.Writer, st *stats, took, shutdownTook time.Duration, left, baseline int) {
	st.mu.Lock()
	defer st.mu.Unlock()
	isolated := st.timeouts + st.garbage + st.panics + len(st.other)
	returned := "every handler returned"
	if st.conns.Load() != st.ended.Load() {
		returned = fmt.Sprintf("%d handlers did not return", st.conns.Load()-st.ended.Load())
	}
	fmt.Fprintf(w, "== summary (%v in all)\n", took.Round(time.Millisecond))
	fmt.Fprintf(w, "connections served  %d, %s\n", st.conns.Load(), returned)
	fmt.Fprintf(w, "bytes echoed        %d (%.1f KiB)\n", st.bytes.Load(), float64(st.bytes.Load())/1024)
	fmt.Fprintf(w, "errors isolated     %d: %d idle timeouts, %d line too long, %d panic, %d other; each ended its own connection only\n",
		isolated, st.timeouts, st.garbage, st.panics, len(st.other))
	for _, err := range st.other {
		fmt.Fprintf(w, "  other error: %v\n", err)
	}
	fmt.Fprintf(w, "time to shut down   %v: stopped accepting at once, drained %d talking connections\n",
		shutdownTook.Round(time.Millisecond), drainedClients)
	fmt.Fprintf(w, "goroutines          %d after shutdown, %d before the server started\n", left, baseline)
}

// goroutinesBackTo waits, for at most two seconds, until no more than n
// goroutines run. A goroutine that has just signalled that it is done may
// not have exited yet, so a few short polls are normal.
func goroutinesBackTo(n int) (int, error) {
	deadline := time.Now().Add(2 * time.Second)
	for {
		got := runtime.NumGoroutine()
		if got <= n {
			return got, nil
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			buf = buf[:runtime.Stack(buf, true)]
			return got, fmt.Errorf("echo: %d goroutines left behind, %d before:\n%s", got-n, n, buf)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// clients are the demo's clients, one method per kind. Each returns an
// error only when the server did not behave as it should.
type clients struct {
	host       string
	port       int
	lines      int
	serverIdle time.Duration // the server's idle timeout
	st         *stats
}

// interruptible makes a client's error a cancellation when its ctx is
// done: after Ctrl-C, the server closes connections as it shuts down, and
// a client that sees its stream end then has not found a bug.
func interruptible(client func(ctx context.Context) error) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		err := client(ctx)
		if err != nil && ctx.Err() != nil {
			return cancel.Checkpoint(ctx)
		}
		return err
	}
}

func (c *clients) connect(ctx context.Context) (*sockets.SocketStream, *streams.Buffered, error) {
	conn, err := sockets.ConnectTCP(ctx, c.host, c.port)
	if err != nil {
		return nil, nil, err
	}
	return conn, streams.NewBuffered(conn), nil
}

// roundTrip sends line and checks that it comes back.
func roundTrip(ctx context.Context, conn *sockets.SocketStream, in *streams.Buffered, line string) error {
	if err := conn.Send(ctx, []byte(line+"\n")); err != nil {
		return err
	}
	got, err := in.ReceiveUntil(ctx, newline, maxLine)
	if err != nil {
		return fmt.Errorf("waiting for the echo of %q: %w", line, err)
	}
	if string(got) != line {
		return fmt.Errorf("echo of %q came back as %q", line, got)
	}
	return nil
}

// expectEnd checks that the server ends the stream (or drops the
// connection) within its idle timeout and a few seconds, having sent
// nothing more.
func (c *clients) expectEnd(ctx context.Context, in *streams.Buffered, why string) error {
	return cancel.FailAfter(ctx, c.serverIdle+5*time.Second, func(ctx context.Context) error {
		var p [64]byte
		n, err := in.Receive(ctx, p[:])
		switch {
		case n > 0:
			return fmt.Errorf("%s: got %q, want the end of the stream", why, p[:n])
		case errors.Is(err, streams.ErrEndOfStream), errors.Is(err, streams.ErrBroken):
			return nil
		default:
			return fmt.Errorf("%s: %w", why, err)
		}
	})
}

func (c *clients) done() { c.st.clientsDone.Add(1) }

func (c *clients) normal(ctx context.Context) error {
	conn, in, err := c.connect(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	for i := range c.lines {
		if err := roundTrip(ctx, conn, in, fmt.Sprintf("line %d from a normal client", i)); err != nil {
			return err
		}
	}
	c.done()
	return nil
}

// halfClose sends every line first, then ends its side of the stream,
// then reads every echo: the server sees the end of the stream, finishes,
// and ends its side.
func (c *clients) halfClose(ctx context.Context) error {
	conn, in, err := c.connect(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	var want bytes.Buffer
	for i := range c.lines {
		fmt.Fprintf(&want, "line %d from a half-closing client\n", i)
	}
	if err := conn.Send(ctx, want.Bytes()); err != nil {
		return err
	}
	if err := conn.SendEOF(ctx); err != nil {
		return err
	}
	got, err := in.ReceiveExactly(ctx, want.Len())
	if err != nil {
		return fmt.Errorf("half-closing client: %w", err)
	}
	if !bytes.Equal(got, want.Bytes()) {
		return fmt.Errorf("half-closing client: got %q, want %q", got, want.Bytes())
	}
	if err := c.expectEnd(ctx, in, "half-closing client"); err != nil {
		return err
	}
	c.done()
	return nil
}

// idle goes quiet after one line, and waits for the server to hang up.
func (c *clients) idle(ctx context.Context) error {
	conn, in, err := c.connect(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if err := roundTrip(ctx, conn, in, "one line, then silence"); err != nil {
		return err
	}
	if err := c.expectEnd(ctx, in, "idle client"); err != nil {
		return err
	}
	c.done()
	return nil
}

// garbage sends a line longer than the server accepts.
func (c *clients) garbage(ctx context.Context) error {
	conn, in, err := c.connect(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	junk := bytes.Repeat([]byte{0xff, 0x00, 'x'}, 2*maxLine)
	if err := conn.Send(ctx, junk); err != nil && !errors.Is(err, streams.ErrBroken) {
		return err
	}
	if err := c.expectEnd(ctx, in, "garbage client"); err != nil {
		return err
	}
	c.done()
	return nil
}

// panics asks the handler to panic, and sees its connection end.
func (c *clients) panics(ctx context.Context) error {
	conn, in, err := c.connect(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if err := roundTrip(ctx, conn, in, "a line before the panic"); err != nil {
		return err
	}
	if err := conn.Send(ctx, []byte("panic\n")); err != nil {
		return err
	}
	if err := c.expectEnd(ctx, in, "panicking client"); err != nil {
		return err
	}
	c.done()
	return nil
}

// drainLines is how many lines a talking client sends once the shutdown
// has started, 5 ms apart: well within any drain.
const drainLines = 10

// drained keeps talking until the shutdown starts, then sends a few more
// lines: the server, draining, still echoes them.
func (c *clients) drained(ctx context.Context, mid *sync.WaitGroup, shutdownStarted <-chan struct{}) error {
	conn, in, err := c.connect(ctx)
	once := sync.OnceFunc(mid.Done)
	defer once()
	if err != nil {
		return err
	}
	defer conn.Close()
	for i := 0; ; i++ {
		if err := roundTrip(ctx, conn, in, fmt.Sprintf("line %d before the shutdown", i)); err != nil {
			return err
		}
		if i == 1 {
			once()
		}
		select {
		case <-shutdownStarted:
			for j := range drainLines {
				if err := roundTrip(ctx, conn, in, fmt.Sprintf("line %d during the drain", j)); err != nil {
					return fmt.Errorf("drained client: %w", err)
				}
				if err := cancel.Sleep(ctx, 5*time.Millisecond); err != nil {
					return err
				}
			}
			c.done()
			return nil
		case <-time.After(20 * time.Millisecond): // a pause between lines, well within the idle timeout
		case <-ctx.Done():
			return cancel.Checkpoint(ctx)
		}
	}
}

// showProgress updates a progress line every 100 ms until the returned
// function is called, which erases it.
func showProgress(ctx context.Context, g *taskgroup.Group, w io.Writer, total int, st *stats) (stop func()) {
	s, ctx := cancel.Open(ctx)
	done := make(chan struct{})
	g.Go(func(context.Context) error {
		defer close(done)
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			fmt.Fprintf(w, "\r  clients done %d/%d, connections %d, bytes echoed %d ",
				st.clientsDone.Load(), total, st.conns.Load(), st.bytes.Load())
			select {
			case <-ctx.Done():
				fmt.Fprintf(w, "\r%s\r", strings.Repeat(" ", 72))
				return nil
			case <-tick.C:
			}
		}
	})
	return func() {
		s.Cancel()
		<-done
		s.Close(nil)
	}
}

// isTerminal reports whether w is a terminal, where a progress line that
// rewrites itself reads well; in a file or a pipe it would be noise.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
