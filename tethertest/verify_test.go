package tethertest_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/tether-go/tether/taskgroup"
	"github.com/tether-go/tether/tethertest"
	"go.uber.org/goleak"
)

// recorder is a testing.TB that keeps what is reported to it, so that a
// test can check a failure that it causes on purpose.
type recorder struct {
	testing.TB
	mu     sync.Mutex
	errors []string
}

func (r *recorder) Helper() {}

func (r *recorder) Error(args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errors = append(r.errors, fmt.Sprint(args...))
}

func (r *recorder) output() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.errors, "\n")
}

// leakTasks starts n tasks named by name(i) in a group named group, which
// stay until release is closed, and returns once they have all started;
// the returned func waits for them.
func leakTasks(group string, n int, name func(i int) string, release <-chan struct{}) (wait func()) {
	var started sync.WaitGroup
	started.Add(n)
	g, _ := taskgroup.New(context.Background(), taskgroup.Named(group))
	for i := range n {
		g.GoNamed(name(i), func(ctx context.Context) error {
			started.Done()
			<-release
			return nil
		})
	}
	started.Wait()
	return func() { g.Wait() }
}

// TestVerifyNoneGroups leaks a thousand handlers with names of their own
// and a few workers of one name, and checks that each kind reads as one
// entry with a count.
func TestVerifyNoneGroups(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	release := make(chan struct{})
	waitHandlers := leakTasks("server", 1000, func(i int) string { return fmt.Sprintf("handler 127.0.0.1:%d", 10000+i) }, release)
	waitWorkers := leakTasks("pool", 5, func(int) string { return "worker" }, release)
	defer waitWorkers()
	defer waitHandlers()
	defer close(release)

	var r recorder
	tethertest.VerifyNone(&r, ignore)
	out := r.output()
	checkPrinted(t, out,
		"found 1005 unexpected goroutines:",
		`1000 tasks of group "server": "handler 127.0.0.1:10000", "handler 127.0.0.1:10001", "handler 127.0.0.1:10002" and 997 more`,
		`5 tasks of group "pool": "worker" (×5)`,
		"runs github.com/tether-go/tether/tethertest_test.leakTasks.func1 (",
		"(and 1004 more with the same stack):",
	)
	if lines := strings.Count(out, "\n"); lines > 40 {
		t.Errorf("got a report of %d lines, want a short one:\n%s", lines, out)
	}
}

// TestVerifyNoneNamesOneTask leaks one task and checks the words of the
// report.
func TestVerifyNoneNamesOneTask(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	release := make(chan struct{})
	wait := leakTasks("server", 1, func(int) string { return "handler 127.0.0.1:4242" }, release)
	defer wait()
	defer close(release)

	var r recorder
	tethertest.VerifyNone(&r, ignore)
	checkPrinted(t, r.output(),
		"found 1 unexpected goroutine:",
		`task "handler 127.0.0.1:4242" of group "server"`,
		"runs github.com/tether-go/tether/tethertest_test.leakTasks.func1 (",
		"started by goroutine ",
		"goroutine ", "[chan receive]:",
	)
}

// TestVerifyNoneSharedStack leaks tasks whose stack is also that of tasks
// started before the check began (and so ignored): the report cannot say
// which names are the leaked ones, and says so.
func TestVerifyNoneSharedStack(t *testing.T) {
	release := make(chan struct{})
	earlier := leakTasks("server", 2, func(i int) string { return fmt.Sprint("old ", i) }, release)
	ignore := goleak.IgnoreCurrent()
	later := leakTasks("server", 3, func(i int) string { return fmt.Sprint("new ", i) }, release)
	defer later()
	defer earlier()
	defer close(release)

	var r recorder
	tethertest.VerifyNone(&r, ignore)
	checkPrinted(t, r.output(),
		"found 3 unexpected goroutines:",
		`5 tasks of group "server": "new 0", "new 1", "new 2" and 2 more`,
		"(these are the names of all 5 goroutines with this stack; 3 of them leaked)",
	)
}

// TestVerifyNoneClean checks that nothing is reported when nothing leaked.
func TestVerifyNoneClean(t *testing.T) {
	var r recorder
	tethertest.VerifyNone(&r, goleak.IgnoreCurrent())
	if out := r.output(); out != "" {
		t.Errorf("got report %q, want none", out)
	}
}

// TestVerifyNoneLabels leaks goroutines that carry task labels without
// being tasks of a group: one that a named task started (goroutines
// inherit their parent's labels), and one labelled as a task with the
// place it was started (the "started" label, which taskgroup may record).
func TestVerifyNoneLabels(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	release := make(chan struct{})
	spawned := make(chan struct{})
	g, _ := taskgroup.New(context.Background(), taskgroup.Named("server"))
	g.GoNamed("handler 1", func(ctx context.Context) error {
		go func() {
			close(spawned)
			<-release
		}()
		return nil
	})
	if err := g.Wait(); err != nil {
		t.Fatalf("Wait: %v", err)
	}
	<-spawned
	defer close(release)

	var r recorder
	tethertest.VerifyNone(&r, ignore)
	checkPrinted(t, r.output(),
		"found 1 unexpected goroutine:",
		`started inside task "handler 1" of group "server"`,
		"Goroutine ", "in state chan receive, with github.com/tether-go/tether/tethertest_test.TestVerifyNoneLabels.func1.1 on top of the stack:",
	)
}
