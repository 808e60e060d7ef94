package tethertest_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/tether-go/tether/memstream"
	"github.com/tether-go/tether/streams"
	"github.com/tether-go/tether/taskgroup"
	"github.com/tether-go/tether/tethertest"
	"go.uber.org/goleak"
)

// The server under test speaks a small line protocol: it answers each
// line with the line in upper case, gives up on a client that is silent
// for idleTimeout, and ends the connection when the client ends its side.

const idleTimeout = 50 * time.Millisecond

var errPartialLine = errors.New("client ended in the middle of a line")

// handleLines serves one connection of the line protocol.
func handleLines(ctx context.Context, c streams.ByteStream) error {
	b := streams.NewBuffered(c)
	for {
		lctx, cancel := context.WithTimeout(ctx, idleTimeout)
		line, err := b.ReceiveUntil(lctx, []byte("\n"), 64)
		cancel()
		switch {
		case errors.Is(err, streams.ErrIncompleteRead) && len(b.Buffer()) == 0:
			return nil // the client is done
		case errors.Is(err, streams.ErrIncompleteRead):
			return errPartialLine
		case err != nil:
			return err
		}
		if err := c.Send(ctx, append(bytes.ToUpper(line), '\n')); err != nil {
			return err
		}
	}
}

// talk dials l, sends request, ends its side and returns all that the
// server answered until it ended the connection.
func talk(ctx context.Context, l *memstream.Listener, request string) (string, error) {
	c, err := l.Dial(ctx)
	if err != nil {
		return "", err
	}
	defer c.Close()
	if err := c.Send(ctx, []byte(request)); err != nil {
		return "", err
	}
	// A server that has hung up already (as after ResetAfter) breaks
	// SendEOF; what it answered before is still there to read.
	if err := c.SendEOF(ctx); err != nil && !errors.Is(err, streams.ErrBroken) {
		return "", err
	}
	var reply strings.Builder
	_, err = io.Copy(&reply, streams.Reader(ctx, c))
	return reply.String(), err
}

// The happy path: a client talks to the server over an in-memory
// listener. In a test, the body goes in tethertest.Run, which also checks
// that the server's tasks are gone when it returns:
//
//	func TestLines(t *testing.T) {
//		tethertest.Run(t, func(ctx context.Context, g *taskgroup.Group) error { ... })
//	}
func Example_happyPath() {
	err := taskgroup.Run(context.Background(), func(ctx context.Context, g *taskgroup.Group) error {
		l := memstream.Listen()
		g.GoNamed("server", func(ctx context.Context) error {
			return streams.Serve(ctx, l, handleLines, nil)
		})
		reply, err := talk(ctx, l, "hello\nworld\n")
		fmt.Print(reply)
		g.Cancel() // the test is over: stop the server
		return err
	})
	fmt.Println("err:", err)
	// Output:
	// HELLO
	// WORLD
	// err: <nil>
}

// Every fault: the same server, against clients that misbehave. Each
// line shows what the client got back and what the handler returned.
func Example_faults() {
	tests := []struct {
		name  string
		fault tethertest.Fault
	}{
		{"Chunked(1)", tethertest.Chunked(1)},
		{"Latency(1ms)", tethertest.Latency(time.Millisecond)},
		{"Bandwidth(10000)", tethertest.Bandwidth(10000)},
		{"ResetAfter(8)", tethertest.ResetAfter(8)},
		{"EOFAfter(8)", tethertest.EOFAfter(8)},
		{"StallAfter(8)", tethertest.StallAfter(8)},
		{"SlowClose(1ms)", tethertest.SlowClose(time.Millisecond)},
	}
	for _, tt := range tests {
		var (
			reply      string
			clientErr  error
			handlerErr error // set before Serve returns, so before Run does
		)
		err := taskgroup.Run(context.Background(), func(ctx context.Context, g *taskgroup.Group) error {
			ml := memstream.Listen()
			l := tethertest.FaultyAccepts(ml, tt.fault)
			g.GoNamed("server", func(ctx context.Context) error {
				return streams.Serve(ctx, l, handleLines, nil, streams.OnError(func(err error) { handlerErr = err }))
			})
			reply, clientErr = talk(ctx, ml, "hello\nworld\n")
			g.Cancel()
			return nil
		})
		if err != nil {
			fmt.Println(err)
		}
		fmt.Printf("%-16s client got %q (%v), handler: %v\n", tt.name, reply, clientErr, errName(handlerErr))
	}
	// Output:
	// Chunked(1)       client got "HELLO\nWORLD\n" (<nil>), handler: ok
	// Latency(1ms)     client got "HELLO\nWORLD\n" (<nil>), handler: ok
	// Bandwidth(10000) client got "HELLO\nWORLD\n" (<nil>), handler: ok
	// ResetAfter(8)    client got "HELLO\n" (<nil>), handler: broken
	// EOFAfter(8)      client got "HELLO\n" (<nil>), handler: error: client ended in the middle of a line
	// StallAfter(8)    client got "HELLO\n" (<nil>), handler: timeout
	// SlowClose(1ms)   client got "HELLO\nWORLD\n" (<nil>), handler: ok
}

// printer is a testing.TB that prints the first lines of what is reported
// to it, for the example below (a test passes its *testing.T).
type printer struct {
	testing.TB
	lines int
}

func (p printer) Helper() {}

func (p printer) Error(args ...any) {
	report := strings.Split(fmt.Sprint(args...), "\n")
	fmt.Println(strings.Join(report[:min(p.lines, len(report))], "\n"))
}

// A deliberate leak: a server whose handlers run in a group of their own
// that nobody waits for, so that they outlive the test. streams.Serve
// names each handler's task after its connection ("handler " and the
// client's address, or, over memstream, which has none, a number), and
// VerifyNone (or Run, or Main) reports the leaked tasks by those names,
// with a count, the handler they run and their stack (left out here: it
// holds goroutine numbers and file paths).
func Example_leak() {
	ignore := goleak.IgnoreCurrent()
	release := make(chan struct{})
	started := make(chan struct{})
	handle := func(ctx context.Context, c streams.ByteStream) error {
		started <- struct{}{}
		<-release // the mistake: the handler does not watch ctx
		return nil
	}
	l := memstream.Listen()
	defer l.Close()
	handlers, _ := taskgroup.New(context.Background(), taskgroup.Named("server"))
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	served := make(chan error, 1)
	go func() { served <- streams.Serve(ctx, l, handle, handlers) }()
	for range 1000 {
		c, err := l.Dial(ctx)
		if err != nil {
			fmt.Println(err)
			return
		}
		defer c.Close()
		<-started
	}
	stop() // Serve returns, and its handlers go on
	<-served

	tethertest.VerifyNone(printer{lines: 3}, ignore)

	close(release)
	handlers.Wait()
	// Output:
	// found 1000 unexpected goroutines:
	//
	// 1000 tasks of group "server": "handler #1", "handler #2", "handler #3" and 997 more
}
