package taskgroup_test

// Cases from AnyIO's tests/test_taskgroups.py that apply to Go, each named
// after the AnyIO test it ports. AnyIO's "wait_all_tasks_blocked" is
// synctest.Wait; its sleeps are fake time.

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

// asyncError is AnyIO's async_error: sleep, then fail, even if cancelled.
func asyncError(err error, delay time.Duration) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		_ = cancel.Sleep(ctx, delay)
		return err
	}
}

func TestAnyIOSuccess(t *testing.T) {
	var a, b atomic.Bool
	err := taskgroup.Run(context.Background(), func(ctx context.Context, g *taskgroup.Group) error {
		g.Go(func(context.Context) error { a.Store(true); return nil })
		g.Go(func(context.Context) error { b.Store(true); return nil })
		return nil
	})
	if err != nil || !a.Load() || !b.Load() {
		t.Errorf("Run = %v, tasks ran: %v %v; want nil, true true", err, a.Load(), b.Load())
	}
}

func TestAnyIOStartSoonAfterError(t *testing.T) {
	var g *taskgroup.Group
	err := taskgroup.Run(context.Background(), func(ctx context.Context, tg *taskgroup.Group) error {
		g = tg
		return errBoom
	})
	if err != errBoom {
		t.Errorf("Run = %v, want errBoom", err)
	}
	mustPanic(t, func() { g.Go(func(context.Context) error { return nil }) })
}

func TestAnyIOStartCrashAfterStartedCall(t *testing.T) {
	var value int
	err := taskgroup.Run(context.Background(), func(ctx context.Context, g *taskgroup.Group) error {
		var err error
		value, err = taskgroup.Start(ctx, g, func(ctx context.Context, started func(int)) error {
			started(2)
			return errBoom
		})
		return err
	})
	if err != errBoom || value != 2 {
		t.Errorf("Run = %v, value %d; want errBoom, 2", err, value)
	}
}

func TestAnyIOStartNativeHostCancelled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var started, finished atomic.Bool
		host, hctx := cancel.Open(context.Background())
		done := make(chan error)
		go func() {
			done <- taskgroup.Run(hctx, func(ctx context.Context, g *taskgroup.Group) error {
				_, err := taskgroup.Start(ctx, g, func(ctx context.Context, _ func(int)) error {
					started.Store(true)
					if err := cancel.Sleep(ctx, 2*time.Second); err != nil {
						return err
					}
					finished.Store(true)
					return nil
				})
				return err
			})
		}()
		synctest.Wait()
		host.Cancel()
		err := <-done
		if !cancel.IsCancelled(err) {
			t.Errorf("Run = %v, want the host's cancellation", err)
		}
		if host.Close(err) != nil {
			t.Error("the host's scope did not catch its cancellation")
		}
		if !started.Load() || finished.Load() {
			t.Errorf("started %v, finished %v; want true, false", started.Load(), finished.Load())
		}
	})
}

// Regression test for AnyIO #517: a failure in an inner group cancels a
// Start on the outer group made from the inner group's body.
func TestAnyIOStartCancelAfterError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var sleepCompleted atomic.Bool
		err := taskgroup.Run(context.Background(), func(ctx context.Context, outer *taskgroup.Group) error {
			return taskgroup.Run(ctx, func(ctx context.Context, inner *taskgroup.Group) error {
				inner.Go(func(ctx context.Context) error {
					time.Sleep(time.Millisecond)
					return errBoom
				})
				_, err := taskgroup.Start(ctx, outer, func(ctx context.Context, started func(struct{})) error {
					if err := cancel.Sleep(ctx, time.Second); err != nil {
						return err
					}
					sleepCompleted.Store(true)
					started(struct{}{})
					return nil
				})
				return err
			})
		})
		if err != errBoom {
			t.Errorf("Run = %v, want errBoom", err)
		}
		if sleepCompleted.Load() {
			t.Error("the starting task was not cancelled")
		}
	})
}

func TestAnyIOHostException(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var result atomic.Bool
		err := taskgroup.Run(context.Background(), func(ctx context.Context, g *taskgroup.Group) error {
			g.Go(func(ctx context.Context) error {
				if err := cancel.Sleep(ctx, 3*time.Second); err != nil {
					return err
				}
				result.Store(true)
				return nil
			})
			return errBoom
		})
		if err != errBoom || result.Load() {
			t.Errorf("Run = %v, result set %v; want errBoom, false", err, result.Load())
		}
	})
}

func TestAnyIOLevelCancellation(t *testing.T) {
	var marker atomic.Int32
	err := taskgroup.Run(context.Background(), func(ctx context.Context, g *taskgroup.Group) error {
		begin := make(chan struct{})
		g.Go(func(ctx context.Context) error {
			<-begin
			marker.Store(1)
			if err := cancel.Sleep(ctx, 0); err != nil {
				return err
			}
			marker.Store(2)
			return nil
		})
		g.Cancel()
		close(begin)
		return nil
	})
	if err != nil || marker.Load() != 1 {
		t.Errorf("Run = %v, marker %d; want nil, 1", err, marker.Load())
	}
}

func TestAnyIOFailingChildTaskCancelsHost(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var sleepCompleted bool
		err := taskgroup.Run(context.Background(), func(ctx context.Context, g *taskgroup.Group) error {
			g.Go(func(context.Context) error { synctest.Wait(); return errBoom })
			if err := cancel.Sleep(ctx, 500*time.Millisecond); err != nil {
				return err
			}
			sleepCompleted = true
			return nil
		})
		if err != errBoom || sleepCompleted {
			t.Errorf("Run = %v, sleep completed %v; want errBoom, false", err, sleepCompleted)
		}
	})
}

func TestAnyIOCancelPropagation(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var reached atomic.Bool
		err := taskgroup.Run(context.Background(), func(ctx context.Context, g *taskgroup.Group) error {
			g.Go(func(ctx context.Context) error {
				err := taskgroup.Run(ctx, func(ctx context.Context, _ *taskgroup.Group) error {
					return cancel.Sleep(ctx, time.Second)
				})
				if err != nil {
					return err
				}
				reached.Store(true)
				return nil
			})
			synctest.Wait()
			g.Cancel()
			return nil
		})
		if err != nil || reached.Load() {
			t.Errorf("Run = %v, reached %v; want nil, false", err, reached.Load())
		}
	})
}

func TestAnyIOCancelExitingTaskGroup(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var cancelReceived atomic.Bool
		err := taskgroup.Run(context.Background(), func(ctx context.Context, g *taskgroup.Group) error {
			g.Go(func(ctx context.Context) error {
				return taskgroup.Run(ctx, func(ctx context.Context, g2 *taskgroup.Group) error {
					g2.Go(func(ctx context.Context) error {
						defer cancelReceived.Store(true)
						return cancel.Sleep(ctx, 5*time.Second)
					})
					return nil // waits for its task in Run
				})
			})
			synctest.Wait()
			g.Cancel()
			return nil
		})
		if err != nil || !cancelReceived.Load() {
			t.Errorf("Run = %v, cancel received %v; want nil, true", err, cancelReceived.Load())
		}
	})
}

func TestAnyIOExceptionGroupChildren(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		err1, err2 := errors.New("task1"), errors.New("task2")
		err := taskgroup.Run(context.Background(), func(ctx context.Context, g *taskgroup.Group) error {
			g.Go(asyncError(err1, 100*time.Millisecond))
			g.Go(asyncError(err2, 150*time.Millisecond))
			return nil
		})
		if got := joined(err); len(got) != 2 || got[0] != err1 || got[1] != err2 {
			t.Errorf("Run = %v, want [task1 task2] joined", err)
		}
	})
}

func TestAnyIOExceptionGroupHost(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		errChild, errHost := errors.New("child"), errors.New("host")
		err := taskgroup.Run(context.Background(), func(ctx context.Context, g *taskgroup.Group) error {
			g.Go(asyncError(errChild, 2*time.Second))
			synctest.Wait()
			return errHost
		})
		if got := joined(err); len(got) != 2 || got[0] != errHost || got[1] != errChild {
			t.Errorf("Run = %v, want [host child] joined", err)
		}
	})
}

func TestAnyIOEscapingCancelledException(t *testing.T) {
	err := taskgroup.Run(context.Background(), func(ctx context.Context, g *taskgroup.Group) error {
		g.Cancel()
		return cancel.Sleep(ctx, 0)
	})
	if err != nil {
		t.Errorf("Run = %v, want nil", err)
	}
}

func TestAnyIOExceptionCancelsSiblings(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var sleepCompleted atomic.Bool
		err := taskgroup.Run(context.Background(), func(ctx context.Context, g *taskgroup.Group) error {
			g.Go(func(ctx context.Context) error {
				if err := cancel.Sleep(ctx, time.Second); err != nil {
					return err
				}
				sleepCompleted.Store(true)
				return nil
			})
			synctest.Wait()
			g.Go(func(context.Context) error { return errBoom })
			return nil
		})
		if err != errBoom || sleepCompleted.Load() {
			t.Errorf("Run = %v, sleep completed %v; want errBoom, false", err, sleepCompleted.Load())
		}
	})
}

func TestAnyIOCancelCascade(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		err := taskgroup.Run(context.Background(), func(ctx context.Context, g *taskgroup.Group) error {
			g.Go(func(ctx context.Context) error {
				err := taskgroup.Run(ctx, func(ctx context.Context, g2 *taskgroup.Group) error {
					g2.Go(func(ctx context.Context) error { return cancel.Sleep(ctx, time.Second) })
					return nil
				})
				if err != nil {
					return err // the cancellation, never errBoom
				}
				return errBoom
			})
			synctest.Wait()
			g.Cancel()
			return nil
		})
		if err != nil {
			t.Errorf("Run = %v, want nil", err)
		}
	})
}

func TestAnyIOExceptionGroupFiltering(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		errParent, errChild := errors.New("parent task failed"), errors.New("child task failed")
		err := taskgroup.Run(context.Background(), func(ctx context.Context, g *taskgroup.Group) error {
			g.Go(asyncError(errParent, 100*time.Millisecond))
			return taskgroup.Run(ctx, func(ctx context.Context, g2 *taskgroup.Group) error {
				g2.Go(asyncError(errChild, 100*time.Millisecond))
				return cancel.Sleep(ctx, time.Second)
			})
		})
		if !errors.Is(err, errParent) || !errors.Is(err, errChild) || len(joined(err)) != 2 {
			t.Errorf("Run = %v, want the parent and the child failures, and no cancellation", err)
		}
		for _, e := range joined(err) {
			if cancel.IsCancelled(e) {
				t.Errorf("Run returned the cancellation %v among its errors", e)
			}
		}
	})
}

func TestAnyIOSingleCancellationExc(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		outer, octx := cancel.Open(context.Background())
		err := taskgroup.Run(octx, func(ctx context.Context, g *taskgroup.Group) error {
			g.Go(func(ctx context.Context) error { return cancel.Sleep(ctx, 5*time.Second) })
			synctest.Wait()
			outer.Cancel()
			return cancel.Sleep(ctx, 5*time.Second)
		})
		if !cancel.IsCancelled(err) || joined(err) != nil {
			t.Errorf("Run = %v, want a single cancellation", err)
		}
		if outer.Close(err) != nil {
			t.Error("the outer scope did not catch its cancellation")
		}
	})
}

func TestAnyIOCancelBeforeEnteringTaskGroup(t *testing.T) {
	scope, ctx := cancel.Open(context.Background())
	scope.Cancel()
	err := taskgroup.Run(ctx, func(context.Context, *taskgroup.Group) error { return nil })
	if err != nil {
		t.Errorf("Run = %v, want nil: nothing blocked", err)
	}
	scope.Close(nil)
}

// Regression test for AnyIO #685 / #710: Start from a cancelled scope runs
// the task, which meets the cancellation, and does not cancel the group.
func TestAnyIOStartCancelsParentScope(t *testing.T) {
	var started atomic.Bool
	var g *taskgroup.Group
	err := taskgroup.Run(context.Background(), func(ctx context.Context, tg *taskgroup.Group) error {
		g = tg
		inner, ictx := cancel.Open(ctx)
		inner.Cancel()
		_, err := taskgroup.Start(ictx, g, func(ctx context.Context, _ func(int)) error {
			started.Store(true)
			<-ctx.Done()
			return cancel.Checkpoint(ctx)
		})
		return inner.Close(err)
	})
	if err != nil || !started.Load() {
		t.Errorf("Run = %v, started %v; want nil, true", err, started.Load())
	}
	if g.Scope().CancelCalled() {
		t.Error("group CancelCalled = true, want false")
	}
}
