package taskgroup_test

// Cancel-scope cases from AnyIO's tests/test_taskgroups.py: shielding,
// deadlines and nested scopes, with task groups around them where the
// AnyIO test has one.

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tether-go/tether/cancel"
	"github.com/tether-go/tether/taskgroup"
)

func TestAnyIOCancelScopeInAnotherTask(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var result atomic.Bool
		scopes := make(chan *cancel.Scope, 1)
		err := taskgroup.Run(context.Background(), func(ctx context.Context, g *taskgroup.Group) error {
			g.Go(func(ctx context.Context) error {
				s, sctx := cancel.Open(ctx)
				scopes <- s
				if err := cancel.Sleep(sctx, 2*time.Second); err != nil {
					return s.Close(err)
				}
				result.Store(true)
				return s.Close(nil)
			})
			(<-scopes).Cancel()
			return nil
		})
		if err != nil || result.Load() {
			t.Errorf("Run = %v, result %v; want nil, false", err, result.Load())
		}
	})
}

func TestAnyIOCancelScopeCleared(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		timedOut, err := cancel.MoveOnAfter(context.Background(), 100*time.Millisecond, func(ctx context.Context) error {
			return cancel.Sleep(ctx, time.Second)
		})
		if !timedOut || err != nil {
			t.Errorf("MoveOnAfter = %v, %v; want true, nil", timedOut, err)
		}
		if err := cancel.Sleep(context.Background(), 0); err != nil {
			t.Errorf("Sleep after MoveOnAfter = %v, want nil", err)
		}
	})
}

func TestAnyIOShielding(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var innerSleepCompleted, outerSleepCompleted bool
		var inner *cancel.Scope
		var g *taskgroup.Group
		err := taskgroup.Run(context.Background(), func(ctx context.Context, tg *taskgroup.Group) error {
			g = tg
			g.Go(func(context.Context) error { synctest.Wait(); g.Cancel(); return nil })
			var sctx context.Context
			inner, sctx = cancel.Open(ctx, cancel.Shielded(), cancel.WithTimeout(10*time.Second))
			err := inner.Close(cancel.Sleep(sctx, 100*time.Millisecond))
			if err != nil {
				return err
			}
			innerSleepCompleted = true
			if err := cancel.Sleep(ctx, time.Second); err != nil {
				return err
			}
			outerSleepCompleted = true
			return nil
		})
		if err != nil {
			t.Errorf("Run = %v, want nil", err)
		}
		if !innerSleepCompleted || outerSleepCompleted {
			t.Errorf("inner sleep completed %v, outer %v; want true, false", innerSleepCompleted, outerSleepCompleted)
		}
		if !g.Scope().CancelCalled() || inner.CancelCalled() {
			t.Errorf("CancelCalled: group %v, shielded %v; want true, false", g.Scope().CancelCalled(), inner.CancelCalled())
		}
	})
}

func TestAnyIOCancelFromShieldedScope(t *testing.T) {
	err := taskgroup.Run(context.Background(), func(ctx context.Context, g *taskgroup.Group) error {
		err := cancel.Run(ctx, func(sctx context.Context) error {
			g.Cancel()
			if _, ok := sctx.Deadline(); ok {
				t.Error("shielded ctx has a deadline, want none")
			}
			return cancel.Checkpoint(sctx)
		}, cancel.Shielded())
		if err != nil {
			t.Errorf("shielded Run = %v, want nil: the group's cancellation does not reach it", err)
		}
		for i := range 2 {
			if err := cancel.Sleep(ctx, 10*time.Millisecond); !cancel.IsCancelled(err) {
				t.Errorf("Sleep #%d after the shield = %v, want a cancellation", i, err)
			}
		}
		return cancel.Checkpoint(ctx)
	})
	if err != nil {
		t.Errorf("Run = %v, want nil", err)
	}
}

func TestAnyIOShieldingImmediateScopeCancelled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sleepCompleted := false
		err := taskgroup.Run(context.Background(), func(ctx context.Context, g *taskgroup.Group) error {
			scope, sctx := cancel.Open(ctx, cancel.Shielded())
			g.Go(func(context.Context) error { synctest.Wait(); scope.Cancel(); return nil })
			err := cancel.Sleep(sctx, 500*time.Millisecond)
			if err == nil {
				sleepCompleted = true
			}
			return scope.Close(err)
		})
		if err != nil || sleepCompleted {
			t.Errorf("Run = %v, sleep completed %v; want nil, false", err, sleepCompleted)
		}
	})
}

func TestAnyIOCancelScopeInChildTask(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		hostDone := false
		var g *taskgroup.Group
		err := taskgroup.Run(context.Background(), func(ctx context.Context, tg *taskgroup.Group) error {
			g = tg
			scopes := make(chan *cancel.Scope, 1)
			g.Go(func(ctx context.Context) error {
				s, sctx := cancel.Open(ctx)
				scopes <- s
				return s.Close(cancel.Sleep(sctx, 2*time.Second))
			})
			(<-scopes).Cancel()
			if err := cancel.Sleep(ctx, 100*time.Millisecond); err != nil {
				return err
			}
			hostDone = true
			return nil
		})
		if err != nil || !hostDone {
			t.Errorf("Run = %v, host done %v; want nil, true", err, hostDone)
		}
		if g.Scope().CancelCalled() {
			t.Error("group CancelCalled = true, want false")
		}
	})
}

func TestAnyIOShieldedDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		_, err := cancel.MoveOnAfter(context.Background(), 10*time.Second, func(ctx context.Context) error {
			return cancel.Run(ctx, func(ctx context.Context) error {
				_, err := cancel.MoveOnAfter(ctx, 1000*time.Second, func(ctx context.Context) error {
					if d, ok := ctx.Deadline(); !ok || time.Until(d) <= 900*time.Second {
						t.Errorf("effective deadline %v from now, want over 900s", time.Until(d))
					}
					return nil
				})
				return err
			}, cancel.Shielded())
		})
		if err != nil {
			t.Errorf("MoveOnAfter = %v, want nil", err)
		}
	})
}

func TestAnyIODeadlineReachedOnStart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		reached := false
		timedOut, err := cancel.MoveOnAfter(context.Background(), 0, func(ctx context.Context) error {
			if err := cancel.Sleep(ctx, 0); err != nil {
				return err
			}
			reached = true
			return nil
		})
		if !timedOut || err != nil || reached {
			t.Errorf("MoveOnAfter = %v, %v, reached %v; want true, nil, false", timedOut, err, reached)
		}
	})
}

func TestAnyIODeadlineMoved(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		err := taskgroup.Run(context.Background(), func(ctx context.Context, g *taskgroup.Group) error {
			g.Scope().SetDeadline(time.Now().Add(100 * time.Millisecond))
			g.Scope().SetDeadline(g.Scope().Deadline().Add(300 * time.Millisecond))
			return cancel.Sleep(ctx, 200*time.Millisecond)
		})
		if err != nil {
			t.Errorf("Run = %v, want nil: the moved deadline had not passed", err)
		}
	})
}

func TestAnyIOTimeoutErrorWithMultipleCancellations(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		err := cancel.FailAfter(context.Background(), 100*time.Millisecond, func(ctx context.Context) error {
			return taskgroup.Run(ctx, func(ctx context.Context, g *taskgroup.Group) error {
				g.Go(func(ctx context.Context) error { return cancel.Sleep(ctx, 2*time.Second) })
				return cancel.Sleep(ctx, 2*time.Second)
			})
		})
		if !errors.Is(err, cancel.ErrTimeout) {
			t.Errorf("FailAfter = %v, want ErrTimeout", err)
		}
	})
}

func TestAnyIONestedShield(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		err := taskgroup.Run(context.Background(), func(ctx context.Context, g *taskgroup.Group) error {
			scope, sctx := cancel.Open(ctx)
			g.Go(func(context.Context) error { synctest.Wait(); scope.Cancel(); return nil })
			err := cancel.Run(sctx, func(ctx context.Context) error {
				return cancel.FailAfter(ctx, 200*time.Millisecond, func(ctx context.Context) error {
					return cancel.Sleep(ctx, 2*time.Second)
				})
			}, cancel.Shielded())
			return scope.Close(err)
		})
		if !errors.Is(err, cancel.ErrTimeout) || joined(err) != nil {
			t.Errorf("Run = %v, want ErrTimeout alone", err)
		}
	})
}

func TestAnyIOTripleNestedShield(t *testing.T) {
	tests := []struct {
		name         string
		cancelInner  bool // cancel scope2 too (checkpoint in outer)
		checkpointIn string
	}{
		{name: "checkpoint in outer", cancelInner: true, checkpointIn: "outer"},
		{name: "checkpoint in middle", checkpointIn: "middle"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s1, ctx1 := cancel.Open(context.Background())
			s2, ctx2 := cancel.Open(ctx1)
			s3, _ := cancel.Open(ctx2, cancel.Shielded())
			s1.Cancel()
			if tt.cancelInner {
				s2.Cancel()
			}
			s3.Close(nil)
			var err error
			if tt.checkpointIn == "middle" {
				err = cancel.Checkpoint(ctx2)
			}
			err = s2.Close(err)
			if tt.checkpointIn == "outer" {
				err = cancel.Checkpoint(ctx1)
			}
			if !cancel.IsCancelled(err) {
				t.Fatalf("checkpoint in %s = %v, want a cancellation", tt.checkpointIn, err)
			}
			if got := s1.Close(err); got != nil {
				t.Errorf("s1.Close = %v, want nil", got)
			}
		})
	}
}

func TestAnyIOEscapingCancelledErrorFromCancelledTask(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		err := cancel.Run(context.Background(), func(ctx context.Context) error {
			scope, _ := cancel.Open(ctx)
			defer scope.Close(nil)
			if _, err := cancel.MoveOnAfter(ctx, 100*time.Millisecond, func(ctx context.Context) error {
				return cancel.Sleep(ctx, time.Second)
			}); err != nil {
				return err
			}
			scope.Cancel()
			return nil
		})
		if err != nil {
			t.Errorf("Run = %v, want nil", err)
		}
	})
}

// Regression test for AnyIO #642: cancellation reaches a child task even
// when the host waits in a shielded scope.
func TestAnyIOCancelChildTaskWhenHostIsShielded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		parent, pctx := cancel.Open(context.Background())
		cancelled := make(chan struct{})
		err := taskgroup.Run(pctx, func(ctx context.Context, g *taskgroup.Group) error {
			g.Go(func(ctx context.Context) error {
				<-ctx.Done()
				close(cancelled)
				return cancel.Checkpoint(ctx)
			})
			synctest.Wait()
			return cancel.Run(ctx, func(ctx context.Context) error {
				return cancel.FailAfter(ctx, time.Second, func(ctx context.Context) error {
					parent.Cancel()
					select {
					case <-cancelled:
						return nil
					case <-ctx.Done():
						return cancel.Checkpoint(ctx)
					}
				})
			}, cancel.Shielded())
		})
		if parent.Close(err) != nil {
			t.Errorf("Run = %v, want the parent's cancellation", err)
		}
	})
}
