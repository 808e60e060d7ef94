package taskgroup_test

import (
	"context"
	"fmt"
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

// golang/go#27837: a Go blocked on the limit must give up when the group
// is cancelled, without running its function.
func TestGoWaitingForSlotGivesUpOnCancel(t *testing.T) {
	tests := []struct {
		name  string
		limit int
		start func(g *taskgroup.Group, fn func(context.Context) error)
	}{
		{name: "Go, limit 1", limit: 1, start: func(g *taskgroup.Group, fn func(context.Context) error) { g.Go(fn) }},
		{name: "GoNamed, limit 1", limit: 1, start: func(g *taskgroup.Group, fn func(context.Context) error) { g.GoNamed("x", fn) }},
		{name: "Go, limit 0", limit: 0, start: func(g *taskgroup.Group, fn func(context.Context) error) { g.Go(fn) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				g, _ := taskgroup.New(context.Background())
				g.SetLimit(tt.limit)
				if tt.limit > 0 {
					g.Go(func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() })
				}
				var ran atomic.Bool
				returned := make(chan struct{})
				go func() {
					defer close(returned)
					tt.start(g, func(context.Context) error { ran.Store(true); return nil })
				}()
				synctest.Wait()
				select {
				case <-returned:
					t.Fatal("Go returned while the group was full, want it to wait")
				default:
				}
				g.Cancel()
				<-returned
				if err := g.Wait(); err != nil {
					t.Errorf("Wait() = %v, want nil", err)
				}
				if ran.Load() {
					t.Error("the waiting task ran after the group was cancelled")
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
