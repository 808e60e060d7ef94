package main

import (
	"bytes"
	"context"
	"errors"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tether-go/tether/sockets"
	"github.com/tether-go/tether/streams"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

const timeout = 20 * time.Second

// chatServer is the chat server running in the test, with its log.
type chatServer struct {
	port   int
	log    *logLines
	cancel context.CancelFunc
	done   chan error
}

// start runs the server with args on a free port; the test's cleanup
// stops it and checks that it shut down cleanly.
func start(t *testing.T, args ...string) *chatServer {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &chatServer{log: newLogLines(), cancel: cancel, done: make(chan error, 1)}
	go func() { s.done <- run(ctx, append([]string{"-port", "0"}, args...), s.log) }()
	t.Cleanup(func() { s.stop(t) })
	rest := s.log.waitFor(t, "chat: listening on ")
	_, port, err := net.SplitHostPort(rest)
	if err != nil {
		t.Fatal(err)
	}
	s.port, _ = strconv.Atoi(port)
	return s
}

func (s *chatServer) stop(t *testing.T) {
	t.Helper()
	s.cancel()
	select {
	case err := <-s.done:
		if err != nil {
			t.Errorf("run = %v, want nil", err)
		}
		s.done <- nil // a second stop finds it stopped
	case <-time.After(timeout):
		t.Fatalf("server still running %v after cancellation", timeout)
	}
	s.log.waitFor(t, "shut down cleanly")
}

// client is a chat client of the test.
type client struct {
	conn *sockets.SocketStream
	in   *streams.Buffered
}

// connect connects a client and waits until the server has counted it
// online, so that clients get their numbers in the order they connect.
func (s *chatServer) connect(t *testing.T, online int, opts ...sockets.Option) *client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	conn, err := sockets.ConnectTCP(ctx, "127.0.0.1", s.port, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	s.log.waitFor(t, "("+strconv.Itoa(online)+" online)")
	return &client{conn: conn, in: streams.NewBuffered(conn)}
}

func (c *client) say(t *testing.T, line string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := c.conn.Send(ctx, []byte(line+"\n")); err != nil {
		t.Fatal(err)
	}
}

// expect receives the next line and checks it.
func (c *client) expect(t *testing.T, want string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	got, err := c.in.ReceiveUntil(ctx, []byte("\n"), 4096)
	if err != nil {
		t.Fatalf("waiting for %q: %v", want, err)
	}
	if string(got) != want {
		t.Fatalf("got line %q, want %q", got, want)
	}
}

// expectEnd checks that the server ends the stream.
func (c *client) expectEnd(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	line, err := c.in.ReceiveUntil(ctx, []byte("\n"), 4096)
	if !errors.Is(err, streams.ErrIncompleteRead) || len(c.in.Buffer()) > 0 {
		t.Fatalf("got %q, %v, want the end of the stream", line, err)
	}
}

func TestFanOutAndLeave(t *testing.T) {
	s := start(t)
	a := s.connect(t, 1)
	a.expect(t, "* welcome, you are client 1; 1 online")
	b := s.connect(t, 2)
	b.expect(t, "* welcome, you are client 2; 2 online")
	a.expect(t, "* client 2 joined")
	c := s.connect(t, 3)
	c.expect(t, "* welcome, you are client 3; 3 online")
	a.expect(t, "* client 3 joined")
	b.expect(t, "* client 3 joined")

	b.say(t, "hello")
	a.expect(t, "client 2: hello")
	c.expect(t, "client 2: hello")
	c.say(t, "hi\r") // a line from a client that ends lines with CRLF
	a.expect(t, "client 3: hi")
	b.expect(t, "client 3: hi") // b's own line never came back to b

	// A client that leaves is cleaned up, and the others hear of it.
	c.conn.Close()
	s.log.waitFor(t, "chat: client 3 left (2 online)")
	a.expect(t, "* client 3 left")
	b.expect(t, "* client 3 left")
	a.say(t, "still here?")
	b.expect(t, "client 1: still here?")

	// Shutting down ends every connection.
	s.stop(t)
	a.expectEnd(t)
	b.expectEnd(t)
}

// TestSlowClient checks that a client that never reads is dropped once
// its outbox is full, while the others go on without waiting for it.
func TestSlowClient(t *testing.T) {
	s := start(t, "-outbox", "4")
	s.connect(t, 1, sockets.ReceiveBufferSize(4096)) // never reads
	talker := s.connect(t, 2)
	reader := s.connect(t, 3)
	talker.expect(t, "* welcome, you are client 2; 2 online")
	talker.expect(t, "* client 3 joined")
	reader.expect(t, "* welcome, you are client 3; 3 online")

	// The talker and the reader go in step, so that only the slow
	// client's outbox can fill; once the system's buffers for the slow
	// client are full, it does, within a few thousand lines.
	line := strings.Repeat("x", 1000)
	const maxLines = 100_000
	for i := range maxLines {
		talker.say(t, line)
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		got, err := reader.in.ReceiveUntil(ctx, []byte("\n"), 4096)
		cancel()
		if err != nil {
			t.Fatalf("reader, after %d lines: %v", i, err)
		}
		if string(got) == "* client 1 was too slow and was dropped" {
			t.Logf("the slow client was dropped after %d lines", i)
			s.log.waitFor(t, "chat: client 1 was too slow: dropped (2 online)")
			talker.expect(t, "* client 1 was too slow and was dropped")
			talker.say(t, "and on we go")
			reader.expect(t, "client 2: "+line) // the line sent after the drop
			reader.expect(t, "client 2: and on we go")
			return
		}
		if want := "client 2: " + line; string(got) != want {
			t.Fatalf("reader got %.40q..., want %.40q...", got, want)
		}
	}
	t.Fatalf("the slow client was not dropped after %d lines", maxLines)
}

// logLines is the server's stdout, which tests wait on line by line.
type logLines struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	changed chan struct{} // closed and replaced on each write
}

func newLogLines() *logLines { return &logLines{changed: make(chan struct{})} }

func (l *logLines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	close(l.changed)
	l.changed = make(chan struct{})
	return l.buf.Write(p)
}

// waitFor waits until a whole line contains s, and returns the rest of
// that line after s.
func (l *logLines) waitFor(t *testing.T, s string) string {
	t.Helper()
	deadline := time.After(timeout)
	for {
		l.mu.Lock()
		text, changed := l.buf.String(), l.changed
		l.mu.Unlock()
		lines := strings.Split(text, "\n")
		for _, line := range lines[:len(lines)-1] {
			if _, rest, ok := strings.Cut(line, s); ok {
				return rest
			}
		}
		select {
		case <-changed:
		case <-deadline:
			t.Fatalf("the server did not log %q within %v; log:\n%s", s, timeout, text)
		}
	}
}
