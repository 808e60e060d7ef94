package taskgroup_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tether-go/tether/cancel"
	"github.com/tether-go/tether/taskgroup"
)

// The zero Group is usable, as errgroup's is: a group in
// context.Background.
func TestZeroGroup(t *testing.T) {
	noop := func(context.Context) error { return nil }
	tests := []struct {
		name string
		use  func(t *testing.T, g *taskgroup.Group)
	}{
		{name: "Go and Wait", use: func(t *testing.T, g *taskgroup.Group) {
			var ran atomic.Int32
			for range 3 {
				g.Go(func(ctx context.Context) error {
					if ctx.Err() != nil || ctx.Done() == nil {
						t.Errorf("task's ctx: Err() = %v, Done() = %v; want a live context that can be cancelled", ctx.Err(), ctx.Done())
					}
					if _, ok := ctx.Deadline(); ok {
						t.Error("task's ctx has a deadline, want none (context.Background's)")
					}
					ran.Add(1)
					return nil
				})
			}
			if err := g.Wait(); err != nil || ran.Load() != 3 {
				t.Errorf("Wait() = %v with %d tasks run, want nil with 3", err, ran.Load())
			}
		}},
		{name: "a failure cancels", use: func(t *testing.T, g *taskgroup.Group) {
			sibling := make(chan error, 1)
			g.Go(func(ctx context.Context) error {
				err := cancel.Sleep(ctx, time.Hour)
				sibling <- err
				return err
			})
			g.GoNamed("failing", func(context.Context) error { return errBoom })
			if err := g.Wait(); err != errBoom {
				t.Errorf("Wait() = %v, want errBoom", err)
			}
			if err := <-sibling; !cancel.IsCancelled(err) {
				t.Errorf("sibling's Sleep = %v, want cancelled", err)
			}
		}},
		{name: "SetLimit", use: func(t *testing.T, g *taskgroup.Group) {
			g.SetLimit(1)
			release := make(chan struct{})
			if !g.TryGo(func(context.Context) error { <-release; return nil }) {
				t.Error("first TryGo with limit 1 = false, want true")
			}
			if g.TryGo(noop) {
				t.Error("second TryGo with limit 1 = true, want false")
			}
			close(release)
			if err := g.Wait(); err != nil {
				t.Errorf("Wait() = %v, want nil", err)
			}
		}},
		{name: "Cancel and Scope", use: func(t *testing.T, g *taskgroup.Group) {
			g.Go(func(ctx context.Context) error { return cancel.Sleep(ctx, time.Hour) })
			g.Cancel()
			if !g.Scope().CancelCalled() {
				t.Error("Scope().CancelCalled() = false after Cancel, want true")
			}
			if err := g.Wait(); err != nil {
				t.Errorf("Wait() = %v, want nil", err)
			}
		}},
		{name: "Start", use: func(t *testing.T, g *taskgroup.Group) {
			v, err := taskgroup.Start(context.Background(), g, func(ctx context.Context, started func(string)) error {
				started("ready")
				return nil
			})
			if v != "ready" || err != nil {
				t.Errorf("Start = %q, %v; want ready, nil", v, err)
			}
			if err := g.Wait(); err != nil {
				t.Errorf("Wait() = %v, want nil", err)
			}
		}},
		{name: "Wait alone", use: func(t *testing.T, g *taskgroup.Group) {
			if err := g.Wait(); err != nil {
				t.Errorf("Wait() = %v, want nil", err)
			}
		}},
		{name: "Go after Wait panics", use: func(t *testing.T, g *taskgroup.Group) {
			g.Wait()
			r := mustPanic(t, func() { g.Go(noop) })
			if msg := fmt.Sprint(r); !strings.HasPrefix(msg, "taskgroup: Go called after Wait returned") {
				t.Errorf("panic %q, want it to name the mistake", msg)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var g taskgroup.Group
			tt.use(t, &g)
		})
	}
}

// The first uses of a zero Group may come from several goroutines at once;
// run with -race.
func TestZeroGroupFirstUseRace(t *testing.T) {
	stress(1000, time.Second, func(int) bool {
		var g taskgroup.Group
		var wg sync.WaitGroup
		var ran atomic.Int32
		for i := range 4 {
			wg.Go(func() {
				switch i {
				case 0:
					g.Go(func(context.Context) error { ran.Add(1); return nil })
				case 1:
					g.GoNamed("named", func(context.Context) error { ran.Add(1); return nil })
				case 2:
					g.TryGo(func(context.Context) error { ran.Add(1); return nil })
				default:
					g.Scope()
				}
			})
		}
		wg.Wait()
		if err := g.Wait(); err != nil || ran.Load() != 3 {
			t.Errorf("Wait() = %v with %d tasks run, want nil with 3", err, ran.Load())
			return false
		}
		return true
	})
}
