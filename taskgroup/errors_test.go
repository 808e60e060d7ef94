package taskgroup_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tether-go/tether/cancel"
	"github.com/tether-go/tether/taskgroup"
)

// joined returns the errors that err joins, or nil if it joins none (a
// *cancel.Error unwraps to two errors, but is one).
func joined(err error) []error {
	if _, ok := err.(*cancel.Error); ok {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return nil
}

func TestFirstFailureCancelsGroup(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g, ctx := taskgroup.New(context.Background())
		sibling := make(chan error, 1)
		g.Go(func(ctx context.Context) error {
			err := cancel.Sleep(ctx, time.Hour)
			sibling <- err
			return err
		})
		g.Go(func(context.Context) error { time.Sleep(time.Second); return errBoom })
		if err := g.Wait(); err != errBoom {
			t.Errorf("Wait() = %v, want errBoom itself", err)
		}
		if got := context.Cause(ctx); got != errBoom {
			t.Errorf("context.Cause(ctx) = %v, want errBoom", got)
		}
		err := <-sibling
		if !cancel.IsCancelled(err) || !errors.Is(err, errBoom) {
			t.Errorf("sibling's Sleep = %v, want a cancellation with cause errBoom", err)
		}
	})
}

// Each task of the table returns its error after its delay (fake time), so
// that the order of failures is known.
func TestWaitErrors(t *testing.T) {
	timeoutTask := func(ctx context.Context) error {
		return cancel.FailAfter(ctx, time.Second, func(ctx context.Context) error { return cancel.Sleep(ctx, time.Hour) })
	}
	type task struct {
		after time.Duration
		fn    func(ctx context.Context) error
	}
	fail := func(after time.Duration, err error) task {
		return task{after, func(ctx context.Context) error { time.Sleep(after); return err }}
	}
	cancelled := func(ctx context.Context) error { return cancel.Sleep(ctx, time.Hour) }
	tests := []struct {
		name  string
		tasks []task
		want  []error // nil: Wait returns nil; one: itself; more: joined in this order
	}{
		{name: "none"},
		{name: "one failure, cancelled siblings", tasks: []task{fail(time.Second, errBoom), {fn: cancelled}, {fn: cancelled}},
			want: []error{errBoom}},
		{name: "wrapped cancellations left out", tasks: []task{fail(time.Second, errBoom), {fn: func(ctx context.Context) error {
			return fmt.Errorf("read: %w", cancel.Sleep(ctx, time.Hour))
		}}, {fn: func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }}}, want: []error{errBoom}},
		{name: "two failures, first first", tasks: []task{fail(2*time.Second, errOther), fail(time.Second, errBoom)},
			want: []error{errBoom, errOther}},
		{name: "failure while cancelled is kept", tasks: []task{fail(time.Second, errBoom), {fn: func(ctx context.Context) error {
			<-ctx.Done()
			return errOther // cleanup failed
		}}}, want: []error{errBoom, errOther}},
		{name: "cancellation as the first failure", tasks: []task{fail(time.Second, context.DeadlineExceeded), {fn: cancelled}},
			want: []error{context.DeadlineExceeded}},
		{name: "timeout cancels siblings", tasks: []task{{fn: timeoutTask}, {fn: cancelled}},
			want: []error{cancel.ErrTimeout}},
		{name: "a timeout while cancelled is a failure", tasks: []task{fail(time.Second, errBoom), {fn: func(ctx context.Context) error {
			<-ctx.Done()
			return cancel.FailAfter(context.Background(), time.Second, func(ctx context.Context) error { return cancel.Sleep(ctx, time.Hour) })
		}}}, want: []error{errBoom, cancel.ErrTimeout}},
		{name: "the same timeout again is the same failure", tasks: []task{{fn: timeoutTask}, {fn: func(ctx context.Context) error {
			<-ctx.Done()
			return cancel.FailAfter(context.Background(), time.Second, func(ctx context.Context) error { return cancel.Sleep(ctx, time.Hour) })
		}}}, want: []error{cancel.ErrTimeout}},
		{name: "the cause returned again is the same failure", tasks: []task{fail(time.Second, errBoom), {fn: func(ctx context.Context) error {
			<-ctx.Done()
			return context.Cause(ctx)
		}}, {fn: func(ctx context.Context) error {
			<-ctx.Done()
			return context.Cause(ctx)
		}}}, want: []error{errBoom}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				g, _ := taskgroup.New(context.Background())
				for _, task := range tt.tasks {
					g.Go(task.fn)
				}
				err := g.Wait()
				switch len(tt.want) {
				case 0:
					if err != nil {
						t.Errorf("Wait() = %v, want nil", err)
					}
				case 1:
					if err != tt.want[0] {
						t.Errorf("Wait() = %#v, want %v itself, unwrapped", err, tt.want[0])
					}
				default:
					got := joined(err)
					if len(got) != len(tt.want) {
						t.Fatalf("Wait() = %v, want %d errors joined", err, len(tt.want))
					}
					for i := range got {
						if got[i] != tt.want[i] {
							t.Errorf("error #%d = %v, want %v", i, got[i], tt.want[i])
						}
						if !errors.Is(err, tt.want[i]) {
							t.Errorf("errors.Is(Wait(), %v) = false, want true", tt.want[i])
						}
					}
				}
			})
		})
	}
}

func TestOwnCancelThenCancellationErrorsIsNil(t *testing.T) {
	g, _ := taskgroup.New(context.Background())
	for range 5 {
		g.Go(func(ctx context.Context) error { <-ctx.Done(); return cancel.Checkpoint(ctx) })
	}
	g.Go(func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() })
	g.Cancel()
	if err := g.Wait(); err != nil {
		t.Errorf("Wait() = %v, want nil", err)
	}
}

func TestOutsideCancellationComesBackOnce(t *testing.T) {
	tests := []struct {
		name   string
		cancel func(outer *cancel.Scope)
	}{
		{name: "Cancel", cancel: func(outer *cancel.Scope) { outer.Cancel() }},
		{name: "CancelWithCause", cancel: func(outer *cancel.Scope) { outer.CancelWithCause(errOther) }},
		{name: "deadline", cancel: func(outer *cancel.Scope) { outer.SetDeadline(time.Now()) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				outer, octx := cancel.Open(context.Background())
				g, _ := taskgroup.New(octx)
				for range 5 {
					g.Go(func(ctx context.Context) error { return cancel.Sleep(ctx, time.Hour) })
				}
				g.Go(func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() })
				synctest.Wait()
				tt.cancel(outer)
				err := g.Wait()
				if !cancel.IsCancelled(err) || joined(err) != nil {
					t.Fatalf("Wait() = %v, want one cancellation error, not joined", err)
				}
				if g.Scope().CancelCalled() {
					t.Error("group Scope().CancelCalled() = true, want false: the cancellation came from outside")
				}
				if got := outer.Close(err); got != nil {
					t.Errorf("outer.Close(Wait()) = %v, want nil: the outer scope catches its own", got)
				}
			})
		})
	}
}

func TestOutsideCancellationAndFailure(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		outer, octx := cancel.Open(context.Background())
		g, _ := taskgroup.New(octx)
		g.Go(func(ctx context.Context) error { return cancel.Sleep(ctx, time.Hour) })
		g.Go(func(ctx context.Context) error { <-ctx.Done(); time.Sleep(time.Second); return errBoom })
		synctest.Wait()
		outer.Cancel()
		err := g.Wait()
		got := joined(err)
		if len(got) != 2 || !cancel.IsCancelled(got[0]) || got[1] != errBoom {
			t.Fatalf("Wait() = %v, want [outer cancellation, errBoom]", err)
		}
		outer.Close(nil)
	})
}

// An error whose type cannot be compared with == must still be known as
// the group's cause.
func TestUncomparableFailure(t *testing.T) {
	cause := sliceError{"a", "b"}
	g, _ := taskgroup.New(context.Background())
	g.Go(func(ctx context.Context) error { <-ctx.Done(); return cancel.Checkpoint(ctx) })
	g.Go(func(context.Context) error { return cause })
	err := g.Wait()
	var se sliceError
	if !errors.As(err, &se) || joined(err) != nil {
		t.Errorf("Wait() = %v, want the sliceError alone", err)
	}
}

type sliceError []string

func (e sliceError) Error() string { return fmt.Sprint([]string(e)) }

func TestBodyErrorCountsAsTask(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var childErr error
		err := taskgroup.Run(context.Background(), func(ctx context.Context, g *taskgroup.Group) error {
			g.Go(func(ctx context.Context) error {
				childErr = cancel.Sleep(ctx, time.Hour)
				return childErr
			})
			time.Sleep(time.Second)
			return errBoom
		})
		if err != errBoom {
			t.Errorf("Run = %v, want errBoom", err)
		}
		if !errors.Is(childErr, errBoom) {
			t.Errorf("child's Sleep = %v, want cancelled with cause errBoom", childErr)
		}
	})
}

// Tasks that return context.Cause(ctx) after a cancellation from outside
// with a cause of its own report that cause once.
func TestOutsideCauseReturnedByTasksComesBackOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		outer, octx := cancel.Open(context.Background())
		g, _ := taskgroup.New(octx)
		for range 3 {
			g.Go(func(ctx context.Context) error { <-ctx.Done(); return context.Cause(ctx) })
		}
		synctest.Wait()
		outer.CancelWithCause(errOther)
		if err := g.Wait(); err != errOther {
			t.Errorf("Wait() = %v, want errOther once", err)
		}
		outer.Close(nil)
	})
}

// A Cancel that lands between fail's check and its cancellation wins: the
// failing task's error is not the group's cause, and a cancellation error
// from the task is then the group's own, left out.
func TestCancelDuringFirstFailure(t *testing.T) {
	restore := taskgroup.SetHookBeforeFailCancel(func(g *taskgroup.Group) { g.Cancel() })
	defer restore()
	g, ctx := taskgroup.New(context.Background())
	g.Go(func(context.Context) error { return context.Canceled })
	if err := g.Wait(); err != nil {
		t.Errorf("Wait() = %v, want nil: Cancel came first, and the task's cancellation is the group's own", err)
	}
	if cause := context.Cause(ctx); cause == context.Canceled {
		t.Errorf("context.Cause(ctx) = %v, want Cancel's cause, not the task's error", cause)
	}
}
