package tethertest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tether-go/tether/taskgroup"
	"go.uber.org/goleak"
)

// ErrDeadlineNear is the cause with which [Run] cancels its context when
// the test's deadline (go test -timeout) is near: context.Cause(ctx)
// returns it, and ctx.Err() is context.DeadlineExceeded.
var ErrDeadlineNear = errors.New("tethertest: the test's deadline is near")

// Bounds of the time that Run keeps before the test's deadline: it
// cancels its group at a tenth of the time the test has left, within
// these bounds, before the deadline, and reports the tasks still running
// halfway between then and the deadline.
const (
	minMargin = 100 * time.Millisecond
	maxMargin = 5 * time.Second
)

// Run runs body with a task group bound to the test t, as taskgroup.Run
// does, and fails t with what went wrong:
//
//   - the group is named after the test (t.Name()), for the reports;
//   - ctx is t.Context(), cancelled (with cause [ErrDeadlineNear]) a little
//     before the test's deadline when it has one: a tenth of the time left,
//     at least 100 ms and at most 5 s. A test whose group was cancelled so
//     has run out of time, and fails. If tasks are still running halfway
//     from there to the deadline, Run reports them (named tasks by name,
//     each with its stack, as [VerifyNone] does) and ends the test with
//     t.FailNow, instead of letting go test's timeout print every
//     goroutine of the process and exit;
//   - an error returned by body or a task, or a panic in either, fails the
//     test with the error (a panic with its value, its stack and the
//     function of the task that panicked);
//   - after the group is done, goroutines started during Run and still
//     running fail the test, reported as [VerifyNone] does; opts are
//     goleak's options for that check (goleak.IgnoreCurrent is implied).
//     The check sees every goroutine of the process: a test that runs in
//     parallel with others (t.Parallel) must ignore theirs with opts.
//
// body runs in a task of its own, not in the test's goroutine, so that a
// body that hangs is reported like any task; t.Fatal in body ends body
// and cancels the group, and the test ends when the group's tasks have
// returned. Run must be called from the test's goroutine, and not inside
// a testing/synctest bubble (its deadline is on the real clock).
func Run(t *testing.T, body func(ctx context.Context, g *taskgroup.Group) error, opts ...goleak.Option) {
	t.Helper()
	before := make(map[int]bool)
	for _, g := range snapshot() {
		before[g.id] = true
	}
	opts = append(opts, goleak.IgnoreCurrent())

	ctx := t.Context()
	var hung <-chan time.Time
	if deadline, ok := t.Deadline(); ok {
		margin := min(max(time.Until(deadline)/10, minMargin), maxMargin)
		var cancelDeadline context.CancelFunc
		ctx, cancelDeadline = context.WithDeadlineCause(ctx, deadline.Add(-margin), ErrDeadlineNear)
		defer cancelDeadline()
		timer := time.NewTimer(time.Until(deadline.Add(-margin / 2)))
		defer timer.Stop()
		hung = timer.C
	}

	g, _ := taskgroup.New(ctx, taskgroup.PanicsAsErrors(), taskgroup.Named(t.Name()))
	g.Go(func(ctx context.Context) error { return runBody(ctx, g, body) })
	done := make(chan error, 1)
	go waitGroup(g, done)
	var err error
	select {
	case err = <-done:
	case <-hung:
		all := snapshot()
		if running := startedSince(before, all); len(running) > 0 {
			what := fmt.Sprintf("%d goroutines started by the test are still running after their", len(running))
			if len(running) == 1 {
				what = "1 goroutine started by the test is still running after its"
			}
			t.Fatalf("tethertest: the test's deadline is near, and %s context was cancelled:\n\n%s",
				what, report(running, all, labelsBySignature()))
		}
		err = <-done // the group was just ending
	}
	outOfTime := context.Cause(ctx) == ErrDeadlineNear
	if outOfTime {
		t.Errorf("tethertest: the test ran out of time: its tasks were cancelled because its deadline is near")
	}
	reportErrors(t, err, outOfTime)
	if leaks := find(opts...); leaks != "" {
		t.Errorf("tethertest: goroutines left running after the test's task group returned: %s", leaks)
	}
}

// startedSince returns the goroutines of all that are not in before,
// except the one that waits for Run's group.
func startedSince(before map[int]bool, all []goroutine) []goroutine {
	var gs []goroutine
	for _, g := range all {
		if !before[g.id] && !g.runs(waitGroupFunc) {
			gs = append(gs, g)
		}
	}
	return gs
}

// runBody runs body as the group's first task. When body does not return
// (t.Fatal in body calls runtime.Goexit; or it panicked), it cancels the
// group, so that the other tasks end too.
func runBody(ctx context.Context, g *taskgroup.Group, body func(ctx context.Context, g *taskgroup.Group) error) error {
	returned := false
	defer func() {
		if !returned {
			g.Cancel()
		}
	}()
	err := body(ctx, g)
	returned = true
	return err
}

// waitGroupFunc is the function name of waitGroup, by which Run leaves the
// goroutine that waits for the group out of its report of hung tasks.
const waitGroupFunc = "github.com/tether-go/tether/tethertest.waitGroup"

// runBodyFunc is the function name of runBody, which the reports show as
// the body of Run rather than as the function the task runs.
const runBodyFunc = "github.com/tether-go/tether/tethertest.runBody"

// waitGroup waits for g and sends what Wait returned to done.
func waitGroup(g *taskgroup.Group, done chan<- error) {
	done <- g.Wait()
}

// runs reports whether fn is one of g's frames.
func (g goroutine) runs(fn string) bool {
	for _, f := range g.frames {
		if f.fn == fn {
			return true
		}
	}
	return false
}

// reportErrors fails t with each error that the group returned: each
// failure, each panic with its stack. When the test ran out of time, the
// cancellation errors that followed are left out: Run has said so.
func reportErrors(t *testing.T, err error, outOfTime bool) {
	t.Helper()
	if err == nil {
		return
	}
	errs := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	}
	for _, err := range errs {
		var pe *taskgroup.PanicError
		switch {
		case errors.As(err, &pe):
			where := ""
			if gs := parseStacks(pe.Stack); len(gs) > 0 {
				if fn := taskFunction(gs[0].frames); fn != nil {
					where = fmt.Sprintf(" (task running %s)", fn.fn)
				}
			}
			t.Errorf("tethertest: a task panicked%s: %v\n%s", where, pe.Value, indent(fromPanic(string(pe.Stack))))
		case outOfTime && errors.Is(err, context.DeadlineExceeded):
		default:
			t.Errorf("tethertest: a task failed: %v", err)
		}
	}
}

func indent(s string) string {
	return "    " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n    ")
}

// fromPanic cuts the frames that recovered a panic off the top of its
// stack (runtime/debug.Stack, package taskgroup's recovery, the runtime's
// panic), so that it starts where the task panicked.
func fromPanic(stack string) string {
	header, frames, ok := strings.Cut(stack, "\n")
	if !ok {
		return stack
	}
	i := strings.Index(frames, "\npanic(")
	if i < 0 {
		return stack
	}
	rest := frames[i+1:]
	// Skip the panic( line and its position line.
	for range 2 {
		if _, after, ok := strings.Cut(rest, "\n"); ok {
			rest = after
		}
	}
	return header + "\n" + rest
}
