package taskgroup

import (
	"context"
	"errors"
	"reflect"
	"runtime/pprof"
	"sync"
	"sync/atomic"

	"github.com/tether-go/tether/cancel"
	"github.com/tether-go/tether/internal/cancelerr"
	"github.com/tether-go/tether/internal/panics"
)

// Group is a set of tasks (goroutines) that share a cancel scope and whose
// lifetime is bounded by [Group.Wait]: Trio's nursery, AnyIO's task group,
// with errgroup's shape. Make one with [Run] (preferred) or [New].
//
// The first task to fail cancels the group; Wait returns when every task
// has returned, with the errors that were not caused by the group's own
// cancellation (see [Group.Wait]). A panic in a task is recovered, cancels
// the group and is raised again by Wait. A task handed to the group (by Go,
// GoNamed, a TryGo that reports true, or [Start]) always runs, also in a
// cancelled group, where its context is done from the start: so it always
// owns what it was given, and can release it.
//
// The zero Group is usable, as errgroup's is: it is a group in
// context.Background (whose context its tasks receive), with no limit and
// no name; it must not be copied after first use. A Group is safe for
// concurrent use: tasks may start more tasks. It is not reusable: Go after
// Wait has returned panics. A task costs a goroutine and one small
// allocation, as errgroup's does; a group costs, beyond errgroup's, the
// cancel scope that its context is.
type Group struct {
	// Read by every Go and task, written once.
	ready          atomic.Bool // scope and ctx are set (by New, or on first use)
	waited         atomic.Bool // Wait has settled: the group takes no more tasks
	waiting        atomic.Bool // a Wait has looked at running: see running
	panicsAsErrors bool
	scope          *cancel.Scope
	ctx            context.Context
	sem            chan struct{} // one element per task holding a slot; nil: no limit

	mu     sync.Mutex
	idle   sync.Cond // with mu: broadcast when running comes to zero
	failed *failures // with mu: made by the first failure or panic
	name   string
	named  map[*namedTask]struct{}

	// running counts the tasks started and not yet finished, and is what
	// Wait waits on (a sync.WaitGroup would be a second counter, which
	// SetLimit's check needs anyway). Wait sets waiting before it looks at
	// running, so that the task that brings running to zero either sees
	// waiting and wakes Wait, or finished before Wait looked. Every task
	// writes it: it comes last, a cache line away from what Go reads.
	running atomic.Int64
}

// namedTask is a task started by GoNamed: its name, and where it was
// started ("file:line").
type namedTask struct{ name, started string }

// failures is what a group keeps of its tasks' failures and panics, in a
// struct of its own that the first one makes, so that a group whose tasks
// all succeed (the common case) does not carry it.
type failures struct {
	errs     []error     // in the order the tasks failed
	cause    int         // 1 + the index in errs of the failure that cancelled the group; 0: none
	panicked *PanicError // first panic, which Wait raises again
	waitErr  error       // what Wait returns, once waited is set
}

// failuresLocked returns g.failed, which it makes on first use; mu is held.
func (g *Group) failuresLocked() *failures {
	if g.failed == nil {
		g.failed = new(failures)
	}
	return g.failed
}

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

// Name returns the name that [Named] gave the group, or "" when it has
// none. A library that starts tasks in a caller's group can take a name
// as the caller's request for named tasks, which cost more than others
// (see [Group.GoNamed]): streams.Serve names its handlers then.
func (g *Group) Name() string { return g.name }

// New returns a group whose tasks run in a cancel scope inside ctx, and the
// scope's context, which is cancelled when the first task fails, when
// [Group.Cancel] is called, or when ctx is done. It is the errgroup-shaped
// form: code written for errgroup.WithContext moves over by changing the
// import and giving each task a ctx parameter. The caller must call
// [Group.Wait].
func New(ctx context.Context, opts ...Option) (*Group, context.Context) {
	g := &Group{}
	for _, o := range opts {
		o.apply(g)
	}
	g.open(ctx)
	return g, g.ctx
}

// open opens the group's scope inside ctx. New calls it before the group
// is shared; the zero Group calls it on first use, under mu.
func (g *Group) open(ctx context.Context) {
	g.scope, g.ctx = cancel.Open(ctx)
	g.idle.L = &g.mu
	g.ready.Store(true)
}

// init makes a zero Group ready on its first use. Every method that needs
// the scope calls it; after the first use it is one atomic load.
func (g *Group) init() {
	if !g.ready.Load() {
		g.initSlow()
	}
}

func (g *Group) initSlow() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.ready.Load() {
		g.open(context.Background())
	}
}

// Run runs body with a new group, Trio's nursery: it returns only when body
// and every task started in the group have returned. body's error counts
// as a task's: it cancels the group and is returned. A panic in body is
// treated like a panic in a task. Run returns what [Group.Wait] returns.
//
// If body ends the goroutine with runtime.Goexit (as t.FailNow, t.Fatal
// and t.SkipNow do in a test), Run cancels the group and waits for its
// tasks before the goroutine unwinds further, so that no task outlives
// it; Run does not return then, and the tasks' errors are dropped, but a
// task's panic is raised (the Goexit does not go on).
func Run(ctx context.Context, body func(ctx context.Context, g *Group) error, opts ...Option) error {
	g, ctx := New(ctx, opts...)
	g.runBody(ctx, body)
	return g.Wait()
}

// errGoexit is the cause with which Run cancels the group when its body
// called runtime.Goexit.
var errGoexit = errors.New("taskgroup: Run's body called runtime.Goexit (t.FailNow, t.Fatal or t.SkipNow?)")

func (g *Group) runBody(ctx context.Context, body func(ctx context.Context, g *Group) error) {
	// body runs in the caller's goroutine, which calls Wait only after it,
	// so it needs no place in the running count.
	returned := false
	defer func() {
		if returned {
			return
		}
		if r := recover(); r != nil {
			g.recovered(panics.New(r))
			return
		}
		// Neither returned nor panicked: runtime.Goexit. Run will not get
		// to Wait, so wait here, while the Goexit runs deferred calls.
		g.scope.CancelWithCause(errGoexit)
		g.Wait()
	}()
	err := body(ctx, g)
	returned = true
	if err != nil {
		g.fail(err)
	}
}

// Go starts fn in a new goroutine as a task of the group, with the group's
// context (AnyIO's start_soon). fn always runs: in a cancelled group too,
// where it meets the cancellation at its first blocking call.
//
// When the group has a limit (see [Group.SetLimit]) and is at it, Go waits
// for a free slot while the group is not cancelled. Once the group is
// cancelled, the limit no longer holds tasks back: Go starts fn at once,
// without a slot. A cancelled group only winds down, and waiting could
// keep a task that starts tasks, or a caller that handed fn a resource to
// release, waiting for good.
//
// Go panics if fn is nil or if Wait has returned.
func (g *Group) Go(fn func(ctx context.Context) error) {
	g.checkGo(fn)
	if g.sem != nil && g.acquire(nil) {
		g.running.Add(1)
		go g.runInSlot(fn)
		return
	}
	g.running.Add(1)
	go g.run(fn)
}

// GoNamed is like [Group.Go] and names the task: the task's goroutine
// carries the runtime/pprof labels "group" (the name given by [Named]),
// "task" (name) and "started", where GoNamed was called from, as
// "/path/to/file.go:LINE"; and [Tasks] lists its name while it runs. A
// goroutine profile, or a leak report of package tethertest, then says
// which task a goroutine is and where it was started.
//
// Finding the caller costs about a tenth of a microsecond, a lookup in a
// cache of the call sites already seen; the first call from a site also
// resolves its file and line.
func (g *Group) GoNamed(name string, fn func(ctx context.Context) error) {
	g.checkGo(fn)
	t := &namedTask{name: name, started: callSite()}
	slot := g.sem != nil && g.acquire(nil)
	g.running.Add(1)
	go g.runNamed(t, fn, slot)
}

// TryGo starts fn as a task, as [Group.Go] does, unless the group has a
// limit, is at it, and is not cancelled; it reports whether it started
// fn. It never blocks. When it reports false, fn was not run and the
// caller keeps what it meant to hand over.
func (g *Group) TryGo(fn func(ctx context.Context) error) bool {
	g.checkGo(fn)
	if g.sem != nil {
		select {
		case g.sem <- struct{}{}:
			g.running.Add(1)
			go g.runInSlot(fn)
			return true
		default:
			if g.ctx.Err() == nil {
				return false
			}
		}
	}
	g.running.Add(1)
	go g.run(fn)
	return true
}

// SetLimit limits the number of tasks running at once to n; a negative n
// removes the limit, and zero lets no task start while the group is not
// cancelled. The limit holds back [Group.Go], [Group.GoNamed],
// [Group.TryGo] and [Start] while the group is not cancelled (see Go).
// Like errgroup's, it must not be called while tasks are running, or it
// panics.
func (g *Group) SetLimit(n int) {
	// Not len(g.sem), as errgroup checks: tasks started while there was
	// no limit hold no slot, but they are running.
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

// checkOpen panics if the group's Wait has returned, and readies a zero
// Group.
func (g *Group) checkOpen(what string) {
	if g.waited.Load() {
		panic("taskgroup: " + what + " called after Wait returned; start tasks before Wait, or from a running task")
	}
	g.init()
}

// acquire takes a slot when the group has a limit, waiting for one while
// neither the group's context nor done (Start's caller's) is done. It
// reports whether it took one: a task that holds no slot gives none back.
func (g *Group) acquire(done <-chan struct{}) bool {
	select {
	case g.sem <- struct{}{}:
		return true
	default:
	}
	select {
	case g.sem <- struct{}{}:
		return true
	case <-g.ctx.Done():
		return false
	case <-done:
		return false
	}
}

// run and runInSlot are the goroutines of Go's tasks, which hold no slot
// and one slot: two functions rather than a flag, so that starting one
// costs what errgroup's does.
func (g *Group) run(fn func(ctx context.Context) error) {
	defer g.finish(false)
	if err := fn(g.ctx); err != nil {
		g.fail(err)
	}
}

func (g *Group) runInSlot(fn func(ctx context.Context) error) {
	defer g.finish(true)
	if err := fn(g.ctx); err != nil {
		g.fail(err)
	}
}

func (g *Group) runNamed(t *namedTask, fn func(ctx context.Context) error, slot bool) {
	g.mu.Lock()
	if g.named == nil {
		g.named = make(map[*namedTask]struct{})
	}
	g.named[t] = struct{}{}
	g.mu.Unlock()
	// The task leaves the list before it is finished (deferred calls run
	// last in, first out), so that Tasks never lists it once Wait returned.
	defer g.finish(slot)
	defer func() {
		g.mu.Lock()
		delete(g.named, t)
		g.mu.Unlock()
	}()
	// The keys in sorted order: pprof.Labels then need not sort a copy.
	pprof.Do(g.ctx, pprof.Labels("group", g.name, "started", t.started, "task", t.name), func(ctx context.Context) {
		if err := fn(ctx); err != nil {
			g.fail(err)
		}
	})
}

// finish ends a task: it recovers a panic, turning it into a failure of
// the group, gives back the task's slot if it holds one, and counts the
// task out. It must be the deferred call itself, so that it sees the panic
// of the task's goroutine, with its stack.
func (g *Group) finish(slot bool) {
	if r := recover(); r != nil {
		g.recovered(panics.New(r))
	}
	g.release(slot)
}

// release gives back a finished task's slot, if it holds one, and counts
// the task out; the last one out wakes Wait.
func (g *Group) release(slot bool) {
	if slot {
		<-g.sem
	}
	if g.running.Add(-1) == 0 && g.waiting.Load() {
		g.mu.Lock()
		g.idle.Broadcast()
		g.mu.Unlock()
	}
}

// recovered makes a task's panic a failure of the group.
func (g *Group) recovered(pe *PanicError) {
	if g.panicsAsErrors {
		g.fail(pe)
		return
	}
	g.mu.Lock()
	if f := g.failuresLocked(); f.panicked == nil {
		f.panicked = pe
	}
	g.mu.Unlock()
	g.scope.CancelWithCause(pe)
}

// fail records a task's error; the first failure cancels the group with
// the error as the cause. A failure that comes when the group is already
// cancelled (by Cancel, its deadline, a panic, or from outside) cancels
// nothing and is not the group's cause.
func (g *Group) fail(err error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	f := g.failuresLocked()
	f.errs = append(f.errs, err)
	if len(f.errs) > 1 || f.panicked != nil || g.ctx.Err() != nil {
		return
	}
	// A Cancel (or the deadline, or ctx) may land between the check above
	// and this call, which then does nothing: err is the cause only if it
	// is the cause that the context reports.
	if testHookBeforeFailCancel != nil {
		testHookBeforeFailCancel(g)
	}
	g.scope.CancelWithCause(err)
	if sameError(context.Cause(g.ctx), err) {
		f.cause = len(f.errs)
	}
}

// testHookBeforeFailCancel, when set by a test, runs in fail between its
// check that the group is not cancelled and its cancellation.
var testHookBeforeFailCancel func(g *Group)

// sameError reports whether a and b are the same error value, without
// panicking on error types that cannot be compared (which are then never
// the same).
func sameError(a, b error) bool {
	if a == nil || b == nil {
		return false
	}
	t := reflect.TypeOf(a)
	return t == reflect.TypeOf(b) && t.Comparable() && a == b
}

// Cancel cancels every task of the group: the group's context is done. The
// tasks' cancellation errors that follow are not reported by Wait. Calling
// Cancel again does nothing more.
func (g *Group) Cancel() {
	g.init()
	g.scope.Cancel()
}

// Scope returns the group's cancel scope, for its deadline (SetDeadline) or
// to ask whether it was cancelled.
func (g *Group) Scope() *cancel.Scope {
	g.init()
	return g.scope
}

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
// An error identical (==) to the one that cancelled the group is that
// failure, reported once: a task that returns context.Cause(ctx) after a
// sibling failed does not report the sibling's error a second time (nor
// does a second task that fails with the same sentinel error).
//
// If a task panicked (and the group was not made with [PanicsAsErrors]),
// Wait panics with a [*PanicError] that carries the value and the stack of
// the goroutine that panicked, after every task has returned.
//
// Wait may be called more than once and from several goroutines; each call
// returns (or panics with) the same result. After Wait has returned, the
// group takes no more tasks.
func (g *Group) Wait() error {
	g.init()
	g.mu.Lock()
	g.waiting.Store(true) // before looking at running: see release
	for g.running.Load() != 0 {
		g.idle.Wait()
	}
	if !g.waited.Load() {
		g.settle()
	}
	var err error
	var pe *PanicError
	if f := g.failed; f != nil {
		err, pe = f.waitErr, f.panicked
	}
	g.mu.Unlock()
	if pe != nil {
		panic(pe)
	}
	return err
}

// settle works out what Wait returns, once every task has returned; mu is
// held.
func (g *Group) settle() {
	g.waited.Store(true)
	f := g.failed
	if f == nil || len(f.errs) == 0 {
		g.scope.Close(nil)
		return
	}
	var cause error // the failure that cancelled the group
	if f.cause > 0 {
		cause = f.errs[f.cause-1]
	}
	// What cancelled the group from outside, or by Cancel or its deadline.
	outside := context.Cause(g.ctx)
	var kept []error
	outsideSeen, outsideCauseSeen := false, false
	for i, err := range f.errs {
		switch {
		case i+1 == f.cause:
			// The failure that cancelled the group is always reported. If
			// it was itself a cancellation, it stands for any that came
			// from outside.
			kept = append(kept, err)
			outsideSeen = outsideSeen || cancelerr.Only(err)
			continue
		case cause != nil && sameError(err, cause):
			continue // the same failure, returned again (context.Cause)
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
		case !cancelerr.Only(rest):
			if cause == nil && sameError(rest, outside) {
				// The cause of a cancellation from outside, returned by
				// the tasks (context.Cause): reported once.
				if outsideCauseSeen {
					continue
				}
				outsideCauseSeen = true
			}
			kept = append(kept, rest)
		case !outsideSeen:
			// A cancellation from outside the group: reported once.
			kept = append(kept, rest)
			outsideSeen = true
		}
	}
	g.scope.Close(nil)
	switch len(kept) {
	case 0:
	case 1:
		f.waitErr = kept[0]
	default:
		f.waitErr = errors.Join(kept...)
	}
}
