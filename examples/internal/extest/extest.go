// Package extest holds what the examples' tests share: building the
// example programs, running them and the seed's Python programs
// (testdata/*.py at the module's root, with AnyIO) as processes, reading
// what they print, stopping them with SIGINT, and waiting for a server by
// polling, never by sleeping blindly.
//
// Every process it starts is killed, if still running, and waited for by
// the test's cleanup, and every wait is bounded by [Timeout].
package extest

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// Timeout bounds each wait of a test: for a server to be ready, for a
// client to finish, for a server to shut down.
const Timeout = 30 * time.Second

// Python is the interpreter the interop tests run: Debian's, where
// python3-anyio installs AnyIO.
const Python = "/usr/bin/python3"

// RequirePython checks that [Python] imports AnyIO. When it does not, the
// test is skipped with a message that says how to get it, or fails when
// the environment variable TETHER_REQUIRE_PEERS is 1 (CI sets it, so that
// interop tests never pass by skipping there).
func RequirePython(t testing.TB) {
	t.Helper()
	out, err := exec.Command(Python, "-c", "import anyio").CombinedOutput()
	if err == nil {
		return
	}
	msg := fmt.Sprintf("%s cannot import anyio (%v: %s): install python3-anyio (apt-get install python3-anyio)",
		Python, err, bytes.TrimSpace(out))
	if os.Getenv("TETHER_REQUIRE_PEERS") == "1" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// Root returns the module's root directory.
func Root(t testing.TB) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("extest: cannot find the module's root")
	}
	return filepath.Join(filepath.Dir(file), "..", "..", "..")
}

// Build builds every program under examples/ into dir: each program is
// there under its directory's name. It runs the go command that runs the
// test (go test puts its GOROOT/bin first in the test's PATH). Call it
// once, from TestMain.
func Build(dir string) error {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return errors.New("extest: cannot find the module's root")
	}
	cmd := exec.Command("go", "build", "-o", dir+string(filepath.Separator), "./examples/...")
	cmd.Dir = filepath.Join(filepath.Dir(file), "..", "..", "..")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build ./examples/...: %v\n%s", err, out)
	}
	return nil
}

// Proc is a running process: its output, and its end.
type Proc struct {
	name string
	cmd  *exec.Cmd
	out  output
	done chan struct{}
	err  error
}

// Start starts the program path with args. The test's cleanup kills it if
// it is still running, and waits for it.
func Start(t testing.TB, path string, args ...string) *Proc {
	t.Helper()
	p := &Proc{name: filepath.Base(path), done: make(chan struct{})}
	p.out.changed = make(chan struct{})
	p.cmd = exec.Command(path, args...)
	p.cmd.Stdout = &p.out
	p.cmd.Stderr = &p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", p.name, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		if !p.Exited() {
			p.cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

// StartPython starts the seed's Python program script (a file of the
// module's testdata directory) with args, after [RequirePython].
func StartPython(t testing.TB, script string, args ...string) *Proc {
	t.Helper()
	RequirePython(t)
	path := filepath.Join(Root(t), "testdata", script)
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("extest: %v", err)
	}
	p := Start(t, Python, append([]string{"-u", path}, args...)...)
	p.name = script
	return p
}

// Wait waits until the process exits, and returns what it printed
// (stdout and stderr together) and how it ended. A process still running
// after [Timeout] is killed and fails the test.
func (p *Proc) Wait(t testing.TB) (string, error) {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(Timeout):
		p.cmd.Process.Kill()
		<-p.done
		t.Fatalf("%s did not exit within %v; output:\n%s", p.name, Timeout, p.Output())
	}
	return p.Output(), p.err
}

// Success waits until the process exits, fails the test unless it exited
// with status 0, and returns what it printed.
func (p *Proc) Success(t testing.TB) string {
	t.Helper()
	out, err := p.Wait(t)
	if err != nil {
		t.Fatalf("%s: %v; output:\n%s", p.name, err, out)
	}
	return out
}

// Interrupt sends SIGINT to the process, as Ctrl-C would, and returns
// what it printed once it has exited, failing the test unless it exited
// with status 0.
func (p *Proc) Interrupt(t testing.TB) string {
	t.Helper()
	if err := p.cmd.Process.Signal(os.Interrupt); err != nil && !p.Exited() {
		t.Fatalf("interrupting %s: %v", p.name, err)
	}
	return p.Success(t)
}

// Output returns what the process has printed so far.
func (p *Proc) Output() string { return p.out.String() }

// Exited reports whether the process has exited.
func (p *Proc) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// WaitLine waits until the process has printed a whole line that contains
// s, and returns the rest of that line after s. It fails the test if the
// process exits first or after [Timeout].
func (p *Proc) WaitLine(t testing.TB, s string) string {
	t.Helper()
	deadline := time.After(Timeout)
	for exited := false; ; {
		changed := p.out.changedChan()
		lines := strings.Split(p.Output(), "\n")
		for _, line := range lines[:len(lines)-1] { // whole lines only
			if _, rest, ok := strings.Cut(line, s); ok {
				return rest
			}
		}
		if exited {
			t.Fatalf("%s exited (%v) without printing %q; output:\n%s", p.name, p.err, s, p.Output())
		}
		select {
		case <-changed:
		case <-p.done:
			exited = true // its output is complete: look once more
		case <-deadline:
			t.Fatalf("%s did not print %q within %v; output:\n%s", p.name, s, Timeout, p.Output())
		}
	}
}

// Listening waits until a server has printed "listening on ADDR", and
// returns ADDR.
func (p *Proc) Listening(t testing.TB) string {
	t.Helper()
	return strings.Fields(p.WaitLine(t, "listening on "))[0]
}

// Retry runs a client, with [Start], until it exits with status 0, and
// returns what it printed. It runs it again, after a pause that grows from
// 10 ms, as long as it fails because nothing listens yet (its output says
// "connection refused", which also answers a UDP packet sent to a closed
// port, or "no such file or directory", a socket file not there yet), and
// the server p is still running. Any other failure fails the test.
//
// The client itself is the readiness probe: a probe connection that sent
// nothing would make the handler of AnyIO's serve raise EndOfStream, which
// ends the whole listener.
func Retry(t testing.TB, server *Proc, path string, args ...string) string {
	t.Helper()
	deadline := time.Now().Add(Timeout)
	pause := 10 * time.Millisecond
	for {
		c := Start(t, path, args...)
		out, err := c.Wait(t)
		if err == nil {
			return out
		}
		notYet := strings.Contains(out, "connection refused") || strings.Contains(out, "no such file or directory")
		switch {
		case !notYet:
			t.Fatalf("%s: %v; output:\n%s\nserver output:\n%s", c.name, err, out, server.Output())
		case server.Exited():
			t.Fatalf("%s: the server exited (%v); its output:\n%s", c.name, server.err, server.Output())
		case time.Now().After(deadline):
			t.Fatalf("%s: server not ready after %v; last output:\n%s\nserver output:\n%s", c.name, Timeout, out, server.Output())
		}
		time.Sleep(pause) // a process we do not control: nothing to wait on
		pause = min(2*pause, 200*time.Millisecond)
	}
}

// ExitError returns err's *exec.ExitError, if it is one.
func ExitError(err error) (*exec.ExitError, bool) {
	var ee *exec.ExitError
	ok := errors.As(err, &ee)
	return ee, ok
}

// output keeps what a process prints, and tells waiters when it grows.
type output struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	changed chan struct{} // closed, and replaced, on each Write
}

func (o *output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	close(o.changed)
	o.changed = make(chan struct{})
	return o.buf.Write(p)
}

func (o *output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.String()
}

func (o *output) changedChan() chan struct{} {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.changed
}

// FreePort returns a port of 127.0.0.1 that was free a moment ago, for a
// Python server that must be told its port (a Go server is given port 0,
// and prints the one it got). network is "tcp" or "udp".
func FreePort(t testing.TB, network string) string {
	t.Helper()
	var addr string
	switch network {
	case "udp":
		c, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr = c.LocalAddr().String()
		c.Close()
	default:
		l, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr = l.Addr().String()
		l.Close()
	}
	return addr[strings.LastIndexByte(addr, ':')+1:]
}
