package tether_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tether-go/tether"
	"github.com/tether-go/tether/cancel"
	"github.com/tether-go/tether/memstream"
	"github.com/tether-go/tether/streams"
	"github.com/tether-go/tether/taskgroup"
)

// helperEnv names the helper mode of a child test process; TestMain runs
// runHelper instead of the tests when it is set.
const helperEnv = "TETHER_TEST_HELPER"

// processTimeout bounds each child: one that hangs is killed, and the test
// fails.
const processTimeout = 30 * time.Second

// runHelper is the child's main: tether.Main with a task that behaves as
// mode says. Its stdout lines are what the parent waits for.
func runHelper(mode string) {
	var opts []tether.Option
	if mode == "sighup" {
		opts = append(opts, tether.Signals(syscall.SIGHUP))
		mode = "cooperative"
	}
	tether.Main(func(ctx context.Context, g *taskgroup.Group) error {
		switch mode {
		case "fail":
			return errors.New("helper: boom")
		case "cooperative":
			g.Go(func(ctx context.Context) error {
				fmt.Println("ready")
				<-ctx.Done()
				fmt.Println("cleanup:", context.Cause(ctx))
				return cancel.Checkpoint(ctx)
			})
		case "stubborn":
			g.Go(func(ctx context.Context) error {
				fmt.Println("ready")
				<-ctx.Done()
				fmt.Println("ignoring cancellation")
				<-make(chan struct{}) // blocks for good
				return nil
			})
		case "drain", "drain ends", "drain abandoned":
			return serveHelper(ctx, g, mode)
		default:
			return fmt.Errorf("helper: unknown mode %q", mode)
		}
		return nil
	}, opts...)
}

// serveHelper serves one in-memory connection under Drain, as a server
// under tether.Main does, and prints what its handler sees of the
// shutdown. In mode "drain" the handler finishes its work after Serve has
// stopped; in the others it waits for its ctx, which the end of a short
// drain cancels ("drain ends"), or an hour-long one does not
// ("drain abandoned").
func serveHelper(ctx context.Context, g *taskgroup.Group, mode string) error {
	l := memstream.Listen()
	defer l.Close()
	drain := time.Hour
	if mode == "drain ends" {
		drain = 10 * time.Millisecond
	}
	stopped := make(chan struct{}) // Serve returned: the shutdown began
	handler := func(ctx context.Context, c streams.ByteStream) error {
		fmt.Println("ready")
		if mode == "drain" {
			<-stopped
			fmt.Println("after the shutdown began, handler's ctx:", ctx.Err())
			return nil
		}
		<-ctx.Done()
		fmt.Println("handler cancelled:", cancel.IsCancelled(ctx.Err()))
		return ctx.Err()
	}
	g.Go(func(ctx context.Context) error { // the client
		c, err := l.Dial(ctx)
		if err != nil {
			return err
		}
		<-ctx.Done()
		return c.Close()
	})
	err := streams.Serve(ctx, l, handler, g, streams.Drain(drain))
	fmt.Println("Serve returned")
	close(stopped)
	return err
}

// step waits for a line of the child's stdout, then sends it a signal.
type step struct {
	wait string
	send os.Signal
}

func TestMainProcess(t *testing.T) {
	tests := []struct {
		name       string
		mode       string
		steps      []step
		wantStatus int
		wantStdout []string
		wantStderr string // a substring
	}{
		{
			name:       "SIGINT, clean shutdown",
			mode:       "cooperative",
			steps:      []step{{"ready", os.Interrupt}},
			wantStatus: 0,
			wantStdout: []string{"ready", "cleanup: tether: received interrupt"},
		},
		{
			name:       "SIGTERM, clean shutdown",
			mode:       "cooperative",
			steps:      []step{{"ready", syscall.SIGTERM}},
			wantStatus: 0,
			wantStdout: []string{"ready", "cleanup: tether: received terminated"},
		},
		{
			name:       "second SIGINT abandons",
			mode:       "stubborn",
			steps:      []step{{"ready", os.Interrupt}, {"ignoring cancellation", os.Interrupt}},
			wantStatus: 130,
			wantStdout: []string{"ready", "ignoring cancellation"},
			wantStderr: `ERROR tether: exiting status=130 err="tether: received interrupt again during shutdown: tasks abandoned"`,
		},
		{
			name:       "second SIGTERM abandons",
			mode:       "stubborn",
			steps:      []step{{"ready", os.Interrupt}, {"ignoring cancellation", syscall.SIGTERM}},
			wantStatus: 143,
			wantStdout: []string{"ready", "ignoring cancellation"},
			wantStderr: `status=143 err="tether: received terminated again during shutdown: tasks abandoned"`,
		},
		{
			name:       "chosen signal, SIGHUP",
			mode:       "sighup",
			steps:      []step{{"ready", syscall.SIGHUP}},
			wantStatus: 0,
			wantStdout: []string{"ready", "cleanup: tether: received hangup"},
		},
		{
			// The bug of issue 6: the signal cancelled the handlers at once.
			name:       "SIGTERM drains Serve's handlers",
			mode:       "drain",
			steps:      []step{{"ready", syscall.SIGTERM}},
			wantStatus: 0,
			wantStdout: []string{"ready", "Serve returned", "after the shutdown began, handler's ctx: <nil>"},
		},
		{
			name:       "the drain ends, handlers are cancelled",
			mode:       "drain ends",
			steps:      []step{{"ready", syscall.SIGTERM}},
			wantStatus: 0,
			wantStdout: []string{"ready", "Serve returned", "handler cancelled: true"},
		},
		{
			name:       "second SIGTERM abandons the drain",
			mode:       "drain abandoned",
			steps:      []step{{"ready", syscall.SIGTERM}, {"Serve returned", syscall.SIGTERM}},
			wantStatus: 143,
			wantStdout: []string{"ready", "Serve returned"},
			wantStderr: `status=143 err="tether: received terminated again during shutdown: tasks abandoned"`,
		},
		{
			name:       "fn fails",
			mode:       "fail",
			wantStatus: 1,
			wantStdout: nil,
			wantStderr: `ERROR tether: exiting status=1 err="helper: boom"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := startHelper(t, tt.mode)
			var stdout []string
			for _, s := range tt.steps {
				stdout = append(stdout, c.waitFor(t, s.wait)...)
				if err := c.cmd.Process.Signal(s.send); err != nil {
					t.Fatalf("Signal(%v): %v", s.send, err)
				}
			}
			stdout = append(stdout, c.rest(t)...)
			status := c.wait(t)
			if status != tt.wantStatus {
				t.Errorf("exit status = %d, want %d (stderr: %q)", status, tt.wantStatus, c.stderr.String())
			}
			if !slices.Equal(stdout, tt.wantStdout) {
				t.Errorf("stdout = %q, want %q", stdout, tt.wantStdout)
			}
			if !strings.Contains(c.stderr.String(), tt.wantStderr) {
				t.Errorf("stderr = %q, want it to contain %q", c.stderr.String(), tt.wantStderr)
			}
			if tt.wantStderr == "" && c.stderr.Len() != 0 {
				t.Errorf("stderr = %q, want it empty", c.stderr.String())
			}
		})
	}
}

// child is a running helper process.
type child struct {
	ctx    context.Context // done when the child has run too long
	cmd    *exec.Cmd
	lines  chan string // the child's stdout, line by line; closed at EOF
	stderr bytes.Buffer
}

func startHelper(t *testing.T, mode string) *child {
	t.Helper()
	ctx, cancelCtx := context.WithTimeout(t.Context(), processTimeout)
	t.Cleanup(cancelCtx)
	c := &child{ctx: ctx, lines: make(chan string)}
	// -test.run names no test, so that a child that somehow lost helperEnv
	// runs nothing rather than the whole suite again.
	c.cmd = exec.CommandContext(ctx, os.Args[0], "-test.run=^TestHelperProcess$")
	c.cmd.Env = append(os.Environ(), helperEnv+"="+mode)
	c.cmd.Stderr = &c.stderr
	c.cmd.WaitDelay = processTimeout
	stdout, err := c.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer close(c.lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			select {
			case c.lines <- sc.Text():
			case <-ctx.Done():
				return
			}
		}
	}()
	t.Cleanup(func() {
		// On a failed test, the child may still run: kill it, then let
		// Wait (idempotent here) reap it and the reader end.
		cancelCtx()
		c.cmd.Wait()
		<-done
	})
	return c
}

// waitFor returns the lines the child printed up to and including want.
func (c *child) waitFor(t *testing.T, want string) []string {
	t.Helper()
	var got []string
	for {
		select {
		case line, ok := <-c.lines:
			if !ok {
				t.Fatalf("child's stdout ended before %q; got %q, stderr %q", want, got, c.stderr.String())
			}
			got = append(got, line)
			if line == want {
				return got
			}
		case <-c.ctx.Done():
			t.Fatalf("child did not print %q within %v; got %q", want, processTimeout, got)
		}
	}
}

// rest returns the lines the child prints until its stdout ends.
func (c *child) rest(t *testing.T) []string {
	t.Helper()
	var got []string
	for {
		select {
		case line, ok := <-c.lines:
			if !ok {
				return got
			}
			got = append(got, line)
		case <-c.ctx.Done():
			t.Fatalf("child did not exit within %v; got %q", processTimeout, got)
		}
	}
}

// wait waits for the child to exit and returns its exit status.
func (c *child) wait(t *testing.T) int {
	t.Helper()
	err := c.cmd.Wait()
	if c.ctx.Err() != nil {
		t.Fatalf("child killed after %v: %v", processTimeout, err)
	}
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		return ee.ExitCode()
	default:
		t.Fatalf("waiting for child: %v", err)
		return -1
	}
}
