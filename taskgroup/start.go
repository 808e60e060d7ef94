package taskgroup

import (
	"context"
	"errors"
	"runtime/debug"
	"sync"

	"github.com/tether-go/tether/cancel"
)

// ErrNotStarted is returned by [Start] when the task returned nil without
// calling started.
var ErrNotStarted = errors.New("taskgroup: task returned without calling started")

// Start runs fn as a task of g and returns once fn has called started(v),
// with v: Trio's nursery.start. It makes "listen, then tell me the port"
// one call, with no window in which the caller could use a listener that
// does not exist yet.
//
// Until fn calls started, Start waits, and cancelling ctx cancels fn (not
// the group); if fn returns first, Start returns fn's error (or
// [ErrNotStarted] when that is nil), and the group is not failed by it; if
// fn panics first, Start panics with the [*PanicError] (or returns it under
// [PanicsAsErrors]). Once started is called, fn goes on as an ordinary task
// of g: only the group's cancellation reaches it, and its error fails the
// group. Start waits for a slot like [Group.Go] when g has a limit, and
// returns the group's cancellation error if the group is cancelled first.
// A task started in a cancelled group still runs, and meets the
// cancellation at its first blocking call.
//
// Start panics if fn is nil or if g's Wait has returned; started panics if
// it is called twice, or after fn returned without calling it.
func Start[T any](ctx context.Context, g *Group, fn func(ctx context.Context, started func(T)) error) (T, error) {
	if fn == nil {
		panic("taskgroup: Start called with a nil function")
	}
	g.checkOpen("Start")
	st := &startState[T]{done: make(chan struct{})}
	if !g.tryAcquire(ctx) {
		var zero T
		if err := cancel.Checkpoint(ctx); err != nil {
			return zero, err
		}
		return zero, cancel.Checkpoint(g.ctx)
	}
	g.add()
	go runStarting(g, ctx, st, fn)
	<-st.done
	if st.panic != nil {
		if g.panicsAsErrors {
			return st.value, st.panic
		}
		panic(st.panic)
	}
	return st.value, st.err
}

type startState[T any] struct {
	mu       sync.Mutex
	called   bool
	returned bool // fn has returned (or panicked) without calling started
	value    T
	err      error
	panic    *PanicError
	done     chan struct{}
	stop     func() bool // stops the caller's ctx from cancelling the task
}

func (st *startState[T]) started(v T) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.called {
		panic("taskgroup: started called twice")
	}
	if st.returned {
		panic("taskgroup: started called after the task returned")
	}
	st.called = true
	st.value = v
	if st.stop != nil {
		st.stop()
	}
	close(st.done)
}

// runStarting runs a task that was started with Start. Before started is
// called, its outcome belongs to the caller of Start; after, to the group.
func runStarting[T any](g *Group, callerCtx context.Context, st *startState[T], fn func(context.Context, func(T)) error) {
	ctx := g.ctx
	var scope *cancel.Scope
	if callerCtx.Done() != nil {
		scope, ctx = cancel.Open(g.ctx)
		// fn has not run yet, so started cannot race this assignment.
		st.stop = context.AfterFunc(callerCtx, func() {
			// started holds st.mu while it stops this function; if it
			// came too late, the task has started and is the group's
			// now, out of the caller's reach.
			st.mu.Lock()
			defer st.mu.Unlock()
			if !st.called {
				scope.CancelWithCause(context.Cause(callerCtx))
			}
		})
	}
	defer func() {
		r := recover()
		st.mu.Lock()
		if !st.called {
			st.returned = true
			if st.stop != nil {
				st.stop()
			}
			if r != nil {
				st.panic = &PanicError{Value: r, Stack: debug.Stack()}
				r = nil
			} else if st.err == nil {
				st.err = ErrNotStarted // runtime.Goexit, as t.FailNow does
			}
			close(st.done)
		}
		st.mu.Unlock()
		// Release the task's scope before the task counts as finished, so
		// that nothing of it outlives Wait.
		if scope != nil {
			scope.Close(nil)
		}
		g.finishRecovered(r)
	}()
	err := fn(ctx, st.started)
	st.mu.Lock()
	called := st.called
	if !called {
		if err == nil {
			err = ErrNotStarted
		}
		st.err = err
	}
	st.mu.Unlock()
	if called && err != nil {
		g.fail(err)
	}
}
