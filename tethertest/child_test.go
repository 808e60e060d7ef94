package tethertest_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/tether-go/tether/taskgroup"
	"github.com/tether-go/tether/tethertest"
)

// childEnv names the environment variable that makes TestChild run one of
// the misbehaving tests below, in a child process started by the tests
// that check what tethertest prints about them.
const childEnv = "TETHERTEST_CHILD"

// never is a channel that is never closed: a goroutine that receives from
// it is stuck for good.
var never = make(chan struct{})

// The tasks of the child tests, as named functions, so that the reports
// that name them can be checked.

func stuckReader(ctx context.Context) error {
	<-never
	return nil
}

func politeWorker(ctx context.Context) error {
	<-ctx.Done()
	return ctx.Err()
}

func hungBody(ctx context.Context, g *taskgroup.Group) error {
	<-never
	return nil
}

func quietWorker(ctx context.Context) error {
	<-ctx.Done()
	return nil
}

func leakyHandler(ctx context.Context) error {
	<-never
	return nil
}

func bareGoroutine() { <-never }

func failingFetch(ctx context.Context) error {
	return errors.New("fetch: connection refused")
}

func panickingTask(ctx context.Context) error {
	panic("oops")
}

// childTests are tests that fail on purpose, run one per child process.
var childTests = map[string]func(t *testing.T){
	// A task ignores its context: the test hangs until its deadline.
	"hang": func(t *testing.T) {
		tethertest.Run(t, func(ctx context.Context, g *taskgroup.Group) error {
			g.GoNamed("stuck reader", stuckReader)
			g.GoNamed("polite worker", politeWorker)
			return nil
		})
	},
	// Run's body itself ignores its context.
	"hungbody": func(t *testing.T) {
		tethertest.Run(t, hungBody)
	},
	// Every task honours its context, but the test runs out of time all
	// the same, and the tasks return nil when cancelled.
	"outoftime": func(t *testing.T) {
		tethertest.Run(t, func(ctx context.Context, g *taskgroup.Group) error {
			g.GoNamed("quiet worker", quietWorker)
			return nil
		})
	},
	// Handlers of a group that nobody waits for, and a bare goroutine,
	// outlive the test.
	"leak": func(t *testing.T) {
		tethertest.Run(t, func(ctx context.Context, g *taskgroup.Group) error {
			server, _ := taskgroup.New(context.Background(), taskgroup.Named("server"))
			for i := range 3 {
				server.GoNamed(fmt.Sprintf("handler 127.0.0.1:%d", 4242+i), leakyHandler)
			}
			go bareGoroutine()
			return nil
		})
	},
	// A task fails, another panics.
	"fail": func(t *testing.T) {
		tethertest.Run(t, func(ctx context.Context, g *taskgroup.Group) error {
			g.GoNamed("fetch", failingFetch)
			g.Go(panickingTask)
			return nil
		})
	},
	// body calls t.Fatal while a task runs: the task is cancelled and
	// waited for, and nothing is reported as leaked.
	"fatal": func(t *testing.T) {
		tethertest.Run(t, func(ctx context.Context, g *taskgroup.Group) error {
			g.GoNamed("polite worker", politeWorker)
			t.Fatal("body gives up")
			return nil
		})
		t.Log("Run returned after body's t.Fatal")
	},
	// The test passes but leaves a goroutine behind, for Main to find.
	"main": func(t *testing.T) {
		go bareGoroutine()
	},
	// streams.Serve's handlers outlive the test (serve_test.go).
	"serveleak": serveLeak,
	// A streams.Serve handler hangs the test (serve_test.go).
	"servehang": serveHang,
}

// TestChild runs one of childTests when the environment asks for it, and
// is skipped otherwise.
func TestChild(t *testing.T) {
	name := os.Getenv(childEnv)
	if name == "" {
		t.Skip("runs only as a child process of the tests of tethertest's reports")
	}
	childTests[name](t)
}

// runChild runs the child test name in a new test process with the given
// timeout and returns what it printed. The process ends within the
// timeout (a hung child is killed a little after).
func runChild(t *testing.T, name string, timeout time.Duration) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), timeout+10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestChild$", "-test.timeout="+timeout.String())
	cmd.Env = append(os.Environ(), childEnv+"="+name)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("child %q: got %v, want exit status 1; it printed:\n%s", name, err, out)
	}
	t.Logf("child %q printed:\n%s", name, out)
	return string(out)
}

// checkPrinted checks that out has each of want, in order.
func checkPrinted(t *testing.T, out string, want ...string) {
	t.Helper()
	rest := out
	for _, w := range want {
		i := strings.Index(rest, w)
		if i < 0 {
			t.Errorf("got output\n%s\nwant it to have %q (after what came before)", out, w)
			return
		}
		rest = rest[i+len(w):]
	}
}

func TestRunReportsHungTasks(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a test process that hangs for 2 s")
	}
	out := runChild(t, "hang", 2*time.Second)
	checkPrinted(t, out,
		"--- FAIL: TestChild",
		"the test's deadline is near, and 1 goroutine started by the test is still running",
		`task "stuck reader" of group "TestChild"`,
		"runs github.com/tether-go/tether/tethertest_test.stuckReader (",
		"goroutine ", "[chan receive]:",
		"github.com/tether-go/tether/tethertest_test.stuckReader(",
	)
	if strings.Contains(out, "panic: test timed out") {
		t.Errorf("got go test's timeout panic, want Run's report before it")
	}
	if strings.Contains(out, "polite worker") {
		t.Errorf("the report names the task that honoured its context")
	}
}

func TestRunReportsLeaks(t *testing.T) {
	out := runChild(t, "leak", time.Minute)
	checkPrinted(t, out,
		"goroutines left running after the test's task group returned",
		"found 4 unexpected goroutines",
		`3 tasks of group "server": "handler 127.0.0.1:4242", "handler 127.0.0.1:4243", "handler 127.0.0.1:4244"`,
		"runs github.com/tether-go/tether/tethertest_test.leakyHandler (",
		"(and 2 more with the same stack):",
		"Goroutine ", "in state chan receive, with github.com/tether-go/tether/tethertest_test.bareGoroutine on top of the stack:",
	)
}

func TestRunReportsFailures(t *testing.T) {
	out := runChild(t, "fail", time.Minute)
	checkPrinted(t, out, "tethertest: a task failed: fetch: connection refused")
	checkPrinted(t, out,
		"tethertest: a task panicked (task running github.com/tether-go/tether/tethertest_test.panickingTask): oops",
		"github.com/tether-go/tether/tethertest_test.panickingTask(")
	if strings.Contains(out, "runtime/debug.Stack()") {
		t.Errorf("the panic's stack shows how it was recovered; want it to start where the task panicked")
	}
}

func TestMainReportsLeaks(t *testing.T) {
	out := runChild(t, "main", time.Minute)
	checkPrinted(t, out,
		"PASS",
		"tethertest: the tests passed, but goroutines leaked",
		"found 1 unexpected goroutine:",
		"in state chan receive, with github.com/tether-go/tether/tethertest_test.bareGoroutine on top of the stack:",
	)
}

func TestRunBodyFatal(t *testing.T) {
	out := runChild(t, "fatal", time.Minute)
	checkPrinted(t, out, "--- FAIL: TestChild", "body gives up", "Run returned after body's t.Fatal")
	if strings.Contains(out, "goroutines left running") {
		t.Errorf("got a leak report, want the task cancelled and waited for")
	}
}

func TestRunReportsHungBody(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a test process that hangs for 1 s")
	}
	out := runChild(t, "hungbody", time.Second)
	checkPrinted(t, out,
		"1 goroutine started by the test is still running",
		"the body of tethertest.Run",
		"runs github.com/tether-go/tether/tethertest_test.hungBody (",
	)
}

func TestRunReportsOutOfTime(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a test process that waits 1 s")
	}
	out := runChild(t, "outoftime", time.Second)
	checkPrinted(t, out, "--- FAIL: TestChild", "tethertest: the test ran out of time")
	if strings.Contains(out, "still running") || strings.Contains(out, "a task failed") {
		t.Errorf("got a report of hung or failed tasks, want only that the test ran out of time")
	}
}
