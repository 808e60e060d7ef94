package taskgroup_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tether-go/tether/cancel"
	"github.com/tether-go/tether/taskgroup"
)

func TestRunWaitsForBodyAndTasks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var done atomic.Int32
		start := time.Now()
		err := taskgroup.Run(context.Background(), func(ctx context.Context, g *taskgroup.Group) error {
			for i := 1; i <= 3; i++ {
				g.Go(func(ctx context.Context) error {
					time.Sleep(time.Duration(i) * time.Second)
					done.Add(1)
					return nil
				})
			}
			return nil
		})
		if err != nil {
			t.Errorf("Run = %v, want nil", err)
		}
		if got := done.Load(); got != 3 {
			t.Errorf("%d tasks finished when Run returned, want 3", got)
		}
		if got := time.Since(start); got != 3*time.Second {
			t.Errorf("Run returned after %v, want 3s (the slowest task)", got)
		}
	})
}

func TestGoFromRunningTask(t *testing.T) {
	var ran atomic.Int32
	err := taskgroup.Run(context.Background(), func(ctx context.Context, g *taskgroup.Group) error {
		g.Go(func(ctx context.Context) error {
			g.Go(func(ctx context.Context) error {
				g.GoNamed("grandchild", func(ctx context.Context) error { ran.Add(1); return nil })
				ran.Add(1)
				return nil
			})
			ran.Add(1)
			return nil
		})
		return nil
	})
	if err != nil || ran.Load() != 3 {
		t.Errorf("Run = %v with %d tasks run, want nil with 3", err, ran.Load())
	}
}

// golang/go#27837: a Go blocked on the limit must stop waiting when the
// group is cancelled. It runs its function then, with the cancelled
// context, without waiting for the slot (still held here by a task that
// ignores the cancellation), so that the function always owns what it was
// given.
func TestGoWaitingForSlotRunsOnCancel(t *testing.T) {
	tests := []struct {
		name  string
		limit int
		start func(g *taskgroup.Group, fn func(context.Context) error)
	}{
		{name: "Go, limit 1", limit: 1, start: func(g *taskgroup.Group, fn func(context.Context) error) { g.Go(fn) }},
		{name: "GoNamed, limit 1", limit: 1, start: func(g *taskgroup.Group, fn func(context.Context) error) { g.GoNamed("x", fn) }},
		{name: "Go, limit 0", limit: 0, start: func(g *taskgroup.Group, fn func(context.Context) error) { g.Go(fn) }},
		{name: "Start, limit 1", limit: 1, start: func(g *taskgroup.Group, fn func(context.Context) error) {
			taskgroup.Start(context.Background(), g, func(ctx context.Context, started func(int)) error {
				started(1)
				return fn(ctx)
			})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				g, _ := taskgroup.New(context.Background())
				g.SetLimit(tt.limit)
				release := make(chan struct{})
				if tt.limit > 0 {
					g.Go(func(ctx context.Context) error { <-release; return nil })
				}
				ran := make(chan error, 1)
				returned := make(chan struct{})
				go func() {
					defer close(returned)
					tt.start(g, func(ctx context.Context) error { ran <- ctx.Err(); return nil })
				}()
				synctest.Wait()
				select {
				case <-returned:
					t.Fatal("Go returned while the group was full, want it to wait")
				default:
				}
				g.Cancel()
				<-returned
				if err := <-ran; err == nil {
					t.Error("the task ran with a live context, want the group's cancelled one")
				}
				close(release)
				if err := g.Wait(); err != nil {
					t.Errorf("Wait() = %v, want nil", err)
				}
			})
		})
	}
}

func TestSetLimitWhileRunningPanics(t *testing.T) {
	tests := []struct {
		name  string
		limit int // before the task starts; -1: none
	}{
		{name: "with a limit", limit: 2},
		{name: "without a limit", limit: -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, _ := taskgroup.New(context.Background())
			g.SetLimit(tt.limit)
			release := make(chan struct{})
			g.Go(func(context.Context) error { <-release; return nil })
			r := mustPanic(t, func() { g.SetLimit(1) })
			if msg := fmt.Sprint(r); !strings.HasPrefix(msg, "taskgroup: SetLimit") {
				t.Errorf("panic %q, want a message starting with %q", msg, "taskgroup: SetLimit")
			}
			close(release)
			if err := g.Wait(); err != nil {
				t.Errorf("Wait() = %v, want nil", err)
			}
		})
	}
}

func TestSetLimitBetweenTasks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g, _ := taskgroup.New(context.Background())
		g.Go(func(context.Context) error { return nil })
		g.GoNamed("x", func(context.Context) error { return nil })
		synctest.Wait() // both tasks have returned
		g.SetLimit(1)   // allowed: nothing is running
		release := make(chan struct{})
		if !g.TryGo(func(context.Context) error { <-release; return nil }) {
			t.Error("TryGo after SetLimit(1) = false, want true")
		}
		if g.TryGo(func(context.Context) error { return nil }) {
			t.Error("second TryGo with limit 1 = true, want false")
		}
		close(release)
		synctest.Wait()
		g.SetLimit(-1)
		for range 3 {
			if !g.TryGo(func(context.Context) error { return nil }) {
				t.Error("TryGo without a limit = false, want true")
			}
		}
		if err := g.Wait(); err != nil {
			t.Errorf("Wait() = %v, want nil", err)
		}
	})
}

func TestMisusePanics(t *testing.T) {
	noop := func(context.Context) error { return nil }
	startNoop := func(ctx context.Context, started func(int)) error { started(1); return nil }
	tests := []struct {
		name string
		call func(g *taskgroup.Group)
		want string
	}{
		{name: "Go nil", call: func(g *taskgroup.Group) { g.Go(nil) }, want: "taskgroup: Go called with a nil function"},
		{name: "GoNamed nil", call: func(g *taskgroup.Group) { g.GoNamed("x", nil) }, want: "taskgroup: Go called with a nil function"},
		{name: "TryGo nil", call: func(g *taskgroup.Group) { g.TryGo(nil) }, want: "taskgroup: Go called with a nil function"},
		{name: "Start nil", call: func(g *taskgroup.Group) { taskgroup.Start[int](context.Background(), g, nil) }, want: "taskgroup: Start called with a nil function"},
		{name: "Go after Wait", call: func(g *taskgroup.Group) { g.Wait(); g.Go(noop) }, want: "taskgroup: Go called after Wait returned"},
		{name: "GoNamed after Wait", call: func(g *taskgroup.Group) { g.Wait(); g.GoNamed("x", noop) }, want: "taskgroup: Go called after Wait returned"},
		{name: "TryGo after Wait", call: func(g *taskgroup.Group) { g.Wait(); g.TryGo(noop) }, want: "taskgroup: Go called after Wait returned"},
		{name: "Start after Wait", call: func(g *taskgroup.Group) { g.Wait(); taskgroup.Start(context.Background(), g, startNoop) }, want: "taskgroup: Start called after Wait returned"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, _ := taskgroup.New(context.Background())
			r := mustPanic(t, func() { tt.call(g) })
			if msg := fmt.Sprint(r); !strings.HasPrefix(msg, tt.want) {
				t.Errorf("panic %q, want a message starting with %q", msg, tt.want)
			}
			g.Wait()
		})
	}
}

func TestCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var saw atomic.Int32
		err := taskgroup.Run(context.Background(), func(ctx context.Context, g *taskgroup.Group) error {
			for range 3 {
				g.Go(func(ctx context.Context) error {
					err := cancel.Sleep(ctx, time.Hour)
					if cancel.IsCancelled(err) {
						saw.Add(1)
					}
					return err
				})
			}
			time.Sleep(time.Second)
			g.Cancel()
			g.Cancel() // again: nothing more
			if !g.Scope().CancelCalled() {
				t.Error("Scope().CancelCalled() = false after Cancel, want true")
			}
			return nil
		})
		if err != nil {
			t.Errorf("Run = %v, want nil: the group's own cancellation is not an error", err)
		}
		if saw.Load() != 3 {
			t.Errorf("%d tasks saw the cancellation, want 3", saw.Load())
		}
	})
}

func TestScope(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		g, ctx := taskgroup.New(context.Background())
		first, second := g.Scope(), g.Scope()
		if first != second || first == nil {
			t.Fatal("Scope() is not one and the same scope")
		}
		g.Scope().SetDeadline(start.Add(time.Minute))
		if d, ok := ctx.Deadline(); !ok || !d.Equal(start.Add(time.Minute)) {
			t.Errorf("ctx.Deadline() = %v, %v; want %v, true", d, ok, start.Add(time.Minute))
		}
		g.Go(func(ctx context.Context) error { return cancel.Sleep(ctx, time.Hour) })
		g.Go(func(ctx context.Context) error {
			time.Sleep(time.Second)
			g.Scope().SetDeadline(start.Add(2 * time.Minute)) // moved later
			return nil
		})
		if err := g.Wait(); err != nil {
			t.Errorf("Wait() = %v, want nil (the group's own deadline is caught)", err)
		}
		if got := time.Since(start); got != 2*time.Minute {
			t.Errorf("tasks cancelled after %v, want 2m", got)
		}
	})
}

func TestWaitTwice(t *testing.T) {
	g, _ := taskgroup.New(context.Background())
	g.Go(func(context.Context) error { return errBoom })
	results := make(chan error, 2)
	for range 2 {
		go func() { results <- g.Wait() }()
	}
	for range 2 {
		if err := <-results; err != errBoom {
			t.Errorf("concurrent Wait() = %v, want errBoom", err)
		}
	}
	if err := g.Wait(); err != errBoom {
		t.Errorf("third Wait() = %v, want errBoom", err)
	}
}

func TestGoOnCancelledGroupRunsTask(t *testing.T) {
	// AnyIO's start_soon on a cancelled group: the task runs and meets the
	// cancellation at its first blocking call.
	var ran, cancelled atomic.Bool
	err := taskgroup.Run(context.Background(), func(ctx context.Context, g *taskgroup.Group) error {
		g.Cancel()
		g.Go(func(ctx context.Context) error {
			ran.Store(true)
			err := cancel.Sleep(ctx, time.Hour)
			cancelled.Store(cancel.IsCancelled(err))
			return err
		})
		return nil
	})
	if err != nil || !ran.Load() || !cancelled.Load() {
		t.Errorf("Run = %v, ran %v, cancelled %v; want nil, true, true", err, ran.Load(), cancelled.Load())
	}
}

func TestNewCtxIsCancelledByParent(t *testing.T) {
	parent, stop := context.WithCancel(context.Background())
	g, ctx := taskgroup.New(parent)
	stop()
	<-ctx.Done()
	if err := g.Wait(); err != nil {
		t.Errorf("Wait() = %v, want nil (no task returned an error)", err)
	}
}

// Go on a cancelled group with a limit runs its task at once, with the
// cancelled context, whether or not a slot is free: never a coin toss
// between the free slot and the cancellation.
func TestGoOnCancelledGroupAtLimit(t *testing.T) {
	tests := []struct {
		name string
		full bool // a task that ignores the cancellation holds the only slot
	}{
		{name: "slot free"},
		{name: "slot held", full: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stress(200, time.Second, func(int) bool {
				synctest.Test(t, func(t *testing.T) {
					g, _ := taskgroup.New(context.Background())
					g.SetLimit(1)
					release := make(chan struct{})
					if tt.full {
						g.Go(func(context.Context) error { <-release; return nil })
					}
					g.Cancel()
					ran := make(chan error, 3)
					task := func(ctx context.Context) error { ran <- ctx.Err(); return nil }
					g.Go(task)
					g.GoNamed("named", task)
					if !g.TryGo(task) {
						t.Error("TryGo on a cancelled group = false, want true: the limit no longer applies")
					}
					synctest.Wait() // every task that was started has run
					if len(ran) != 3 {
						t.Errorf("%d of 3 tasks ran, want all: a task handed to the group always runs", len(ran))
					}
					for len(ran) > 0 {
						if err := <-ran; err == nil {
							t.Error("task ran with a live context, want the cancelled group's")
						}
					}
					close(release)
					if err := g.Wait(); err != nil {
						t.Errorf("Wait() = %v, want nil", err)
					}
				})
				return !t.Failed()
			})
		})
	}
}

// A task handed to the group always runs, so that whatever it was given is
// released: here every "connection" is closed, though the group is
// cancelled while producers wait for slots.
func TestTaskAlwaysOwnsWhatItWasGiven(t *testing.T) {
	const conns = 200
	var opened, closed atomic.Int64
	err := taskgroup.Run(context.Background(), func(ctx context.Context, g *taskgroup.Group) error {
		g.SetLimit(4)
		for i := range conns {
			opened.Add(1)
			g.Go(func(ctx context.Context) error {
				defer closed.Add(1)
				if i == conns/2 {
					g.Cancel()
				}
				return cancel.Checkpoint(ctx)
			})
		}
		return nil
	})
	if err != nil {
		t.Errorf("Run = %v, want nil", err)
	}
	if o, c := opened.Load(), closed.Load(); o != c {
		t.Errorf("%d connections handed to tasks, %d closed; want all closed", o, c)
	}
}

// A body that calls runtime.Goexit (t.FailNow, t.Fatal, t.SkipNow) must not
// leave its tasks running: Run cancels the group and waits for it before
// the goroutine unwinds further.
func TestRunBodyGoexit(t *testing.T) {
	// run runs Run with a body that starts a task and then calls exit,
	// which does not return. A deferred call, which runs as the goroutine
	// unwinds below Run, records whether the task had ended by then.
	run := func(exit func(), ended *bool, taskErr *error) {
		taskDone := make(chan struct{})
		defer func() {
			select {
			case <-taskDone:
				*ended = true
			default:
			}
		}()
		taskgroup.Run(context.Background(), func(ctx context.Context, g *taskgroup.Group) error {
			g.Go(func(ctx context.Context) error {
				defer close(taskDone)
				*taskErr = cancel.Sleep(ctx, time.Hour)
				return *taskErr
			})
			exit()
			return nil
		})
		*taskErr = errors.New("Run returned after its body called runtime.Goexit")
	}
	tests := []struct {
		name string
		// goexit runs fn in a goroutine of its own that fn ends with a
		// Goexit, and returns once that goroutine has ended.
		goexit func(t *testing.T, fn func(exit func()))
	}{
		{name: "runtime.Goexit", goexit: func(t *testing.T, fn func(exit func())) {
			done := make(chan struct{})
			go func() {
				defer close(done)
				fn(runtime.Goexit)
			}()
			<-done
		}},
		{name: "t.SkipNow", goexit: func(t *testing.T, fn func(exit func())) {
			t.Run("skipped", func(t *testing.T) { fn(t.SkipNow) })
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ended bool
			var taskErr error
			tt.goexit(t, func(exit func()) { run(exit, &ended, &taskErr) })
			if !ended {
				t.Fatal("the task still ran when Run's goroutine unwound, want it cancelled and waited for")
			}
			if !cancel.IsCancelled(taskErr) || !strings.Contains(taskErr.Error(), "Goexit") {
				t.Errorf("task's Sleep = %v, want a cancellation whose cause names the Goexit", taskErr)
			}
		})
	}
}

// t.Fatal in Run's body, for real: the test binary runs itself again to
// run fatalInRun as a failing test, and reads what it printed. The child's
// goleak check would also report a task left running.
func TestRunBodyFatal(t *testing.T) {
	if os.Getenv("TASKGROUP_TEST_FATAL_CHILD") == "1" {
		fatalInRun(t)
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestRunBodyFatal$", "-test.v", "-test.timeout=60s")
	cmd.Env = append(os.Environ(), "TASKGROUP_TEST_FATAL_CHILD=1")
	out, err := cmd.CombinedOutput()
	if _, ok := err.(*exec.ExitError); !ok {
		t.Fatalf("child test: %v, want it to fail (t.Fatal); output:\n%s", err, out)
	}
	for _, want := range []string{"--- FAIL: TestRunBodyFatal", "the body failed", "task ended before the unwinding: true"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("child's output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(string(out), "unexpected goroutines") {
		t.Errorf("child's goleak check found a goroutine left running:\n%s", out)
	}
}

func fatalInRun(t *testing.T) {
	taskDone := make(chan struct{})
	defer func() {
		ended := false
		select {
		case <-taskDone:
			ended = true
		default:
		}
		fmt.Println("task ended before the unwinding:", ended)
	}()
	taskgroup.Run(context.Background(), func(ctx context.Context, g *taskgroup.Group) error {
		g.Go(func(ctx context.Context) error {
			defer close(taskDone)
			return cancel.Sleep(ctx, time.Hour)
		})
		t.Fatal("the body failed")
		return nil
	})
}
