package taskgroup

import (
	"context"
	"errors"
	"runtime/debug"
	"runtime/pprof"
	"sync"
	"sync/atomic"

	"github.com/tether-go/tether/cancel"
)

// Group is a set of tasks (goroutines) that share a cancel scope and whose
// lifetime is bounded by [Group.Wait]: Trio's nursery, AnyIO's task group,
// with errgroup's shape. Make one with [Run] (preferred) or [New].
//
// The first task to fail cancels the group; Wait returns when every task
// has returned, with the errors that were not caused by the group's own
// cancellation (see [Group.Wait]). A panic in a task is recovered, cancels
// the group and is raised again by Wait.
//
// The zero Group is not usable. A Group is safe for concurrent use: tasks
// may start more tasks. It is not reusable: Go after Wait has returned
// panics. A task costs a goroutine and one small allocation, about as much
// as errgroup's.
type Group struct {
	scope *cancel.Scope
	ctx   context.Context
	wg    sync.WaitGroup
	sem   chan struct{}
	name  string

	panicsAsErrors bool
	waited         atomic.Bool
	running        atomic.Int64 // tasks started and not yet finished

	mu        sync.Mutex
	errs      []error     // in the order the tasks failed
	causeIdx  int         // index in errs of the error that cancelled the group, or -1
	panicked  *PanicError // first panic, when it is re-raised
	named     map[*namedTask]struct{}
	waitOnce  sync.Once
	waitErr   error
	waitPanic *PanicError
}

type namedTask struct{ name string }

// Option configures a group made by [Run] or [New].
type Option struct {
	apply func(*Group)
}

// PanicsAsErrors makes Wait and Run return a task's panic as a
// [*PanicError] among the group's errors, instead of raising it again.
func PanicsAsErrors() Option {
	return Option{apply: func(g *Group) { g.panicsAsErrors = true }}
}

// Named gives the group a name, which its named tasks carry in their
// runtime/pprof labels ("group"), so that a goroutine profile shows the
// tree of groups and tasks.
func Named(name string) Option {
	return Option{apply: func(g *Group) { g.name = name }}
}

// New returns a group whose tasks run in a cancel scope inside ctx, and the
// scope's context, which is cancelled when the first task fails, when
// [Group.Cancel] is called, or when ctx is done. It is the errgroup-shaped
// form: code written for errgroup.WithContext moves over by changing the
// import and giving each task a ctx parameter. The caller must call
// [Group.Wait].
func New(ctx context.Context, opts ...Option) (*Group, context.Context) {
	g := &Group{causeIdx: -1}
	for _, o := range opts {
		o.apply(g)
	}
	g.scope, g.ctx = cancel.Open(ctx)
	return g, g.ctx
}

// Run runs body with a new group, Trio's nursery: it returns only when body
// and every task started in the group have returned. body's error counts
// as a task's: it cancels the group and is returned. A panic in body is
// treated like a panic in a task. Run returns what [Group.Wait] returns.
func Run(ctx context.Context, body func(ctx context.Context, g *Group) error, opts ...Option) error {
	g, ctx := New(ctx, opts...)
	g.runBody(ctx, body)
	return g.Wait()
}

func (g *Group) runBody(ctx context.Context, body func(ctx context.Context, g *Group) error) {
	// body runs in the caller's goroutine, which calls Wait only after it,
	// so it needs no place in the wait group.
	defer func() { g.recovered(recover()) }()
	if err := body(ctx, g); err != nil {
		g.fail(err)
	}
}

// Go starts fn in a new goroutine as a task of the group, with the group's
// context (AnyIO's start_soon). When the group has a limit (see
// [Group.SetLimit]), Go waits for a free slot; if the group is cancelled
// first, Go returns without running fn.
//
// Go panics if fn is nil or if Wait has returned.
func (g *Group) Go(fn func(ctx context.Context) error) {
	if g.admit(fn) {
		go g.run(fn)
	}
}

// GoNamed is like [Group.Go] and names the task: the task's goroutine
// carries runtime/pprof labels "group" and "task", and [Tasks] lists its
// name while it runs.
func (g *Group) GoNamed(name string, fn func(ctx context.Context) error) {
	if g.admit(fn) {
		go g.runNamed(name, fn)
	}
}

// admit readies a task of Go or GoNamed to start: it checks fn, waits for
// a slot when the group has a limit, and counts the task. It reports false,
// and counts nothing, when the group was cancelled before a slot was free.
func (g *Group) admit(fn func(ctx context.Context) error) bool {
	g.checkGo(fn)
	if !g.tryAcquire(context.Background()) {
		return false
	}
	g.add()
	return true
}

// TryGo starts fn as a task only if the group's limit allows one more task
// now, and reports whether it did. It never blocks.
func (g *Group) TryGo(fn func(ctx context.Context) error) bool {
	g.checkGo(fn)
	if g.sem != nil {
		select {
		case g.sem <- struct{}{}:
		default:
			return false
		}
	}
	g.add()
	go g.run(fn)
	return true
}

// SetLimit limits the number of tasks running at once to n; a negative n
// removes the limit, and zero lets no task start. Like errgroup's, it must
// not be called while tasks are running, or it panics.
func (g *Group) SetLimit(n int) {
	// Not len(g.sem), as errgroup checks: tasks started while there was no
	// limit hold no slot, and would release one of the new semaphore's.
	if g.running.Load() != 0 {
		panic("taskgroup: SetLimit called while tasks are running")
	}
	if n < 0 {
		g.sem = nil
		return
	}
	g.sem = make(chan struct{}, n)
}

func (g *Group) checkGo(fn func(ctx context.Context) error) {
	if fn == nil {
		panic("taskgroup: Go called with a nil function")
	}
	g.checkOpen("Go")
}

func (g *Group) checkOpen(what string) {
	if g.waited.Load() {
		panic("taskgroup: " + what + " called after Wait returned; start tasks before Wait, or from a running task")
	}
}

// add counts a task that is about to start.
func (g *Group) add() {
	g.running.Add(1)
	g.wg.Add(1)
}

func (g *Group) run(fn func(ctx context.Context) error) {
	defer g.finish()
	if err := fn(g.ctx); err != nil {
		g.fail(err)
	}
}

func (g *Group) runNamed(name string, fn func(ctx context.Context) error) {
	t := &namedTask{name: name}
	g.mu.Lock()
	if g.named == nil {
		g.named = make(map[*namedTask]struct{})
	}
	g.named[t] = struct{}{}
	g.mu.Unlock()
	// The task leaves the list before it is finished (deferred calls run
	// last in, first out), so that Tasks never lists it once Wait returned.
	defer g.finish()
	defer func() {
		g.mu.Lock()
		delete(g.named, t)
		g.mu.Unlock()
	}()
	pprof.Do(g.ctx, pprof.Labels("group", g.name, "task", name), func(ctx context.Context) {
		if err := fn(ctx); err != nil {
			g.fail(err)
		}
	})
}

// finish ends a task: it recovers a panic, turning it into a failure of
// the group, and releases the task's slot. It must be called deferred, so
// that it sees the panic of the task's own goroutine, with its stack.
func (g *Group) finish() {
	g.finishRecovered(recover())
}

func (g *Group) finishRecovered(r any) {
	g.recovered(r)
	if g.sem != nil {
		<-g.sem
	}
	g.running.Add(-1)
	g.wg.Done()
}

// recovered makes a recovered panic value, if any, a failure of the group.
func (g *Group) recovered(r any) {
	if r != nil {
		pe := &PanicError{Value: r, Stack: debug.Stack()}
		if g.panicsAsErrors {
			g.fail(pe)
		} else {
			g.mu.Lock()
			if g.panicked == nil {
				g.panicked = pe
			}
			g.mu.Unlock()
			g.scope.CancelWithCause(pe)
		}
	}
}

// tryAcquire waits for a slot when the group has a limit. It gives up,
// reporting false, when the group is cancelled, or ctx is done, first.
func (g *Group) tryAcquire(ctx context.Context) bool {
	if g.sem == nil {
		return true
	}
	select {
	case g.sem <- struct{}{}:
		return true
	case <-g.ctx.Done():
		return false
	case <-ctx.Done():
		return false
	}
}

// fail records a task's error; the first failure cancels the group with
// the error as the cause. A failure that comes when the group's context is
// already done (a cancellation from outside, most likely) cancels nothing:
// the group's scope must not count it as its own cancellation.
func (g *Group) fail(err error) {
	g.mu.Lock()
	first := len(g.errs) == 0 && g.panicked == nil
	g.errs = append(g.errs, err)
	if first && g.ctx.Err() == nil && !g.scope.CancelCalled() {
		g.scope.CancelWithCause(err)
		g.causeIdx = len(g.errs) - 1
	}
	g.mu.Unlock()
}

// Cancel cancels every task of the group: the group's context is done. The
// tasks' cancellation errors that follow are not reported by Wait. Calling
// Cancel again does nothing more.
func (g *Group) Cancel() { g.scope.Cancel() }

// Scope returns the group's cancel scope, for its deadline (SetDeadline) or
// to ask whether it was cancelled.
func (g *Group) Scope() *cancel.Scope { return g.scope }

// Wait waits until every task of the group has returned, then releases the
// group's context and returns:
//
//   - nil when no task failed, or when every failure was a cancellation
//     caused by the group's own cancellation ([Group.Cancel], its scope's
//     deadline, or the first failure), which are left out, also from the
//     errors that a nested group joined;
//   - the one remaining error itself, unwrapped;
//   - several errors joined (Unwrap() []error), first failure first, so that
//     errors.Is and errors.As reach each;
//   - a cancellation from outside the group (ctx was done) once, not once
//     per task.
//
// If a task panicked (and the group was not made with [PanicsAsErrors]),
// Wait panics with a [*PanicError] that carries the value and the stack of
// the goroutine that panicked, after every task has returned.
//
// Wait may be called more than once and from several goroutines; each call
// returns (or panics with) the same result. After Wait has returned, the
// group takes no more tasks.
func (g *Group) Wait() error {
	g.wg.Wait()
	g.waitOnce.Do(g.settle)
	if g.waitPanic != nil {
		panic(g.waitPanic)
	}
	return g.waitErr
}

func (g *Group) settle() {
	g.waited.Store(true)
	g.mu.Lock()
	errs, causeIdx, pe := g.errs, g.causeIdx, g.panicked
	g.mu.Unlock()

	var kept []error
	outsideSeen := false
	for i, err := range errs {
		if i == causeIdx {
			// The failure that cancelled the group is always reported. If
			// it was itself a cancellation, it stands for any that came
			// from outside.
			kept = append(kept, err)
			outsideSeen = outsideSeen || isCancellation(err)
			continue
		}
		if _, ok := err.(*PanicError); ok {
			kept = append(kept, err) // even a panic with a cancellation value
			continue
		}
		// The group's scope drops what its own cancellation caused, also
		// from inside the errors joined by a nested group.
		rest := g.scope.Close(err)
		switch {
		case rest == nil:
		case !isCancellation(rest):
			kept = append(kept, rest)
		case !outsideSeen:
			// A cancellation from outside the group: reported once.
			kept = append(kept, rest)
			outsideSeen = true
		}
	}
	g.scope.Close(nil)
	g.waitPanic = pe
	switch len(kept) {
	case 0:
	case 1:
		g.waitErr = kept[0]
	default:
		g.waitErr = errors.Join(kept...)
	}
}
