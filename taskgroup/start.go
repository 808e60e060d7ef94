package taskgroup

import (
	"context"
	"errors"
	"sync"

	"github.com/tether-go/tether/cancel"
	"github.com/tether-go/tether/internal/panics"
)

// ErrNotStarted is returned by [Start] when the task returned nil without
// calling started, while nothing had cancelled it.
var ErrNotStarted = errors.New("taskgroup: task returned without calling started")

// Start runs fn as a task of g and returns once fn has called started(v),
// with v: Trio's nursery.start. It makes "listen, then tell me the port"
// one call, with no window in which the caller could use a listener that
// does not exist yet.
//
// Until fn calls started, the task is Start's, not yet the group's:
//
//   - fn's context is done when ctx is done (the caller gave up) or when
//     the group is cancelled;
//   - if fn returns an error, Start returns it, and the group is not failed
//     by it; if fn returns nil, Start returns ctx's cancellation error if
//     ctx is done, else the group's if the group is cancelled, else
//     [ErrNotStarted];
//   - if fn panics, Start panics with the [*PanicError] (or returns it
//     under [PanicsAsErrors]), and the group is not cancelled by it.
//
// A call of started decides, under the lock that fn's return also takes,
// what the task is. If ctx is not done, the task becomes an ordinary task
// of g: Start returns v and nil, the caller's ctx no longer reaches fn
// (only the group's cancellation does), and fn's error or panic is the
// group's. If ctx is already done, the start was cancelled: started
// returns without delivering v, fn's context is cancelled, the task stays
// Start's (the group never sees its error), and Start returns, once fn has
// returned, what it would have before started. So a start cancelled by its
// caller never reaches the group, and fn keeps owning whatever v refers
// to. A cancelled group is no reason to refuse: started in a cancelled
// group hands the task over, and it meets the group's cancellation.
//
// fn always runs, as [Group.Go]'s does. When g has a limit, Start waits
// for a slot while neither ctx nor the group is done; once either is, fn
// runs at once, without a slot, and meets the cancellation.
//
// Start does not return the moment ctx is done: it returns when fn has
// called started or returned, and a fn whose context is done is expected
// to return promptly; so nothing of a failed start outlives the call. It
// costs a goroutine and three small allocations, about what a goroutine
// and a channel written by hand cost, plus a context and a
// context.AfterFunc when ctx can be cancelled and is not g's own.
//
// Start panics if fn is nil or if g's Wait has returned; started panics if
// it is called twice, or after fn returned (from another goroutine).
func Start[T any](ctx context.Context, g *Group, fn func(ctx context.Context, started func(T)) error) (T, error) {
	if fn == nil {
		panic("taskgroup: Start called with a nil function")
	}
	g.checkOpen("Start")
	st := &starting[T]{g: g, caller: ctx, fn: fn}
	st.slot = g.sem != nil && g.acquire(ctx.Done())
	st.ready.Add(1)
	g.running.Add(1)
	go st.run()
	st.ready.Wait()
	if st.panic != nil {
		if g.panicsAsErrors {
			return st.value, st.panic
		}
		panic(st.panic)
	}
	return st.value, st.err
}

// starting is the state of one Start: a task until it is handed to the
// group, or ends.
type starting[T any] struct {
	g      *Group
	caller context.Context
	fn     func(context.Context, func(T)) error
	slot   bool           // the task holds a slot of g's limit
	ready  sync.WaitGroup // done when Start may return

	// Set before fn runs, when the caller's ctx can be cancelled: the
	// task's own context, and the watcher on ctx that cancels it.
	cancelTask context.CancelCauseFunc
	stop       func() bool

	mu       sync.Mutex
	called   bool // started was called
	handed   bool // ... and the task became the group's
	returned bool // fn has returned, panicked or called runtime.Goexit
	value    T
	err      error
	panic    *PanicError
}

// run is the task's goroutine.
func (st *starting[T]) run() {
	g := st.g
	ctx := g.ctx
	// With a caller's ctx that can be cancelled, the task runs in a
	// context of its own, which the caller's cancellation cancels until
	// the task is handed over. Not needed when the caller's ctx is the
	// group's own (a Start in Run's body), whose cancellation is the
	// group's anyway.
	if st.caller.Done() != nil && st.caller != g.ctx {
		ctx, st.cancelTask = context.WithCancelCause(g.ctx)
		st.stop = context.AfterFunc(st.caller, st.callerDone)
		if st.caller.Err() != nil {
			// Done already (while Start waited for a slot, say): fn
			// must find its context done from the start, not once the
			// watcher's goroutine gets to run.
			st.cancelTask(context.Cause(st.caller))
		}
	}
	var err error // fn's, once it returned
	defer func() { st.end(err, recover()) }()
	err = st.fn(ctx, st.started)
}

// callerDone runs when the caller's ctx is done: before the task is
// handed over, it cancels the task.
func (st *starting[T]) callerDone() {
	st.mu.Lock()
	defer st.mu.Unlock()
	if !st.handed {
		st.cancelTask(context.Cause(st.caller))
	}
}

// started is what fn calls when it is ready.
func (st *starting[T]) started(v T) {
	st.mu.Lock()
	defer st.mu.Unlock()
	switch {
	case st.returned:
		panic("taskgroup: started called after the task returned")
	case st.called:
		panic("taskgroup: started called twice")
	}
	st.called = true
	if st.caller.Err() != nil {
		// The caller gave up first: the task stays Start's. The watcher
		// may not have run yet; cancel the task now, so that it ends.
		if st.cancelTask != nil {
			st.cancelTask(context.Cause(st.caller))
		}
		return
	}
	st.handed = true
	st.value = v
	if st.stop != nil {
		st.stop() // a watcher already running finds handed set
	}
	st.ready.Done()
}

// end ends the task, deferred in run: err is fn's error (nil if fn did
// not return: a panic, or runtime.Goexit), r what fn panicked with.
func (st *starting[T]) end(err error, r any) {
	var pe *PanicError
	if r != nil {
		pe = panics.New(r) // here, where the stack still holds the panic
	}
	st.mu.Lock()
	st.returned = true
	handed := st.handed
	if !handed {
		switch {
		case pe != nil:
			st.panic = pe
		case err != nil:
			st.err = err
		default: // nil, or runtime.Goexit
			st.err = st.notStarted()
		}
		if st.stop != nil {
			st.stop()
		}
	}
	st.mu.Unlock()
	if st.cancelTask != nil {
		st.cancelTask(nil) // release the task's context
	}
	if !handed {
		st.ready.Done()
	} else if pe != nil {
		st.g.recovered(pe)
	} else if err != nil {
		st.g.fail(err)
	}
	st.g.release(st.slot)
}

// notStarted is Start's error for a task that ended without error and
// without calling started in time.
func (st *starting[T]) notStarted() error {
	if err := cancel.Checkpoint(st.caller); err != nil {
		return err
	}
	if err := cancel.Checkpoint(st.g.ctx); err != nil {
		return err
	}
	return ErrNotStarted
}
