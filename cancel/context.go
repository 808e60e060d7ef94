package cancel

import (
	"context"
	"time"
)

// This file is the scope's context: how contexts derived from it see a
// deadline as context.DeadlineExceeded, with no goroutine per derived
// context.
//
// The scope's context wraps q, a standard cancel context
// (context.WithCancelCause of the parent). A context derived with the
// standard functions attaches itself to its parent in one of three ways
// (context.propagateCancel): directly to the nearest *cancelCtx, found by
// asking Value for the context package's own key, when that one's Done
// channel is the parent's; else through the parent's AfterFunc method;
// else with a goroutine. Attached directly, a child copies the error that
// q was cancelled with, and the scope can cancel q only with Canceled (its
// cancel function): a deadline would reach derived contexts as Canceled.
// Through AfterFunc, the child copies what the scope's own Err reports,
// DeadlineExceeded when a deadline ended the scope, and Cause.
//
// So a scope that a deadline may end (its own or an enclosing scope's)
// answers Value for that key with nothing (or, once done, with a cancelled
// stand-in that carries the cause): its children come to AfterFunc, which
// keeps them in a list (an entry, no goroutine) and cancels them when q is
// done. A scope that no deadline can end answers with q itself, so that its
// children attach directly, as they did to a plain context, which is the
// cheapest. Should a deadline come later (SetDeadline on a scope opened
// without one), the children derived from then on come to AfterFunc; those
// derived before it see the deadline as Canceled, with the deadline as
// their cause.
//
// The list is run by the scope right after it cancels q itself (Cancel,
// its deadline, Close); when q is cancelled from above, the scope learns
// it by a watch on its parent: an entry in the enclosing scope's list when
// the parent is a scope's context (or wraps one with values only), the
// standard context.AfterFunc otherwise. The first is synchronous; the
// second runs on a goroutine of its own the moment the parent is cancelled
// (context.AfterFunc's way), so derived contexts learn of a cancellation
// from a plain context one goroutine step after the scope's context does.
// There is no synchronous way: package context calls nothing but its own
// types synchronously when a context of its own is cancelled.
//
// A context that wraps the scope's context with values only
// (context.WithValue) has no AfterFunc method; a context derived from it
// takes the third way, a goroutine, when the scope has a deadline. That is
// the price of a correct error there; without a deadline, it attaches
// directly.
type scopeCtx struct {
	context.Context // q
	s               *Scope
}

// scopeKey is the Value key under which a scope's context answers with its
// *Scope, so that a nested scope finds the enclosing one through values.
var scopeKey byte

func (c *scopeCtx) Deadline() (time.Time, bool) {
	c.s.mu.Lock()
	own := c.s.deadline
	c.s.mu.Unlock()
	var outer time.Time
	var ok bool
	if !c.s.shielded {
		outer, ok = c.Context.Deadline()
	}
	switch {
	case own.IsZero():
		return outer, ok
	case ok && outer.Before(own):
		return outer, true
	default:
		return own, true
	}
}

func (c *scopeCtx) Err() error {
	err := c.Context.Err()
	if err == nil {
		return nil
	}
	return c.s.doneErr(err)
}

// doneErr is the scope context's Err once q is done. The scope's own
// deadline cancels q through the cancel function, which records Canceled:
// report it as a deadline. Other deadlines reach q as DeadlineExceeded
// already, or, from an enclosing scope that got its deadline after q
// attached to it, with that scope's deadline as the cause.
func (s *Scope) doneErr(err error) error {
	if err == context.Canceled {
		if _, ok := context.Cause(s.ctx.Context).(*deadlineError); ok {
			return context.DeadlineExceeded
		}
	}
	return err
}

func (c *scopeCtx) Value(key any) any {
	if key == &scopeKey {
		return c.s
	}
	v := c.Context.Value(key)
	if v == nil || v != any(c.Context) {
		return v
	}
	// key is the context package's key for its cancel contexts: q
	// answered with itself.
	s := c.s
	switch {
	case !s.mayExpire():
		return v
	case c.Context.Err() == nil:
		return nil
	default:
		return s.causeCarrier()
	}
}

// mayExpire reports whether a deadline may end the scope: its own, or an
// enclosing scope's that reaches it (not across a shield). Each scope's
// answer turns true for good when it first gets a deadline.
func (s *Scope) mayExpire() bool {
	for s != nil {
		if s.has(timed) {
			return true
		}
		if s.shielded {
			return false
		}
		s, _ = s.parent.Value(&scopeKey).(*Scope)
	}
	return false
}

// causeCarrier returns a cancelled standard context whose cause is q's,
// for context.Cause to read from a scope with a deadline once it is done.
// Its Done channel is not q's, so no child attaches to it.
func (s *Scope) causeCarrier() any {
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.listLocked()
	if l.carrier == nil {
		ctx, cancel := context.WithCancelCause(context.Background())
		cancel(context.Cause(s.ctx.Context))
		l.carrier = ctx
	}
	return l.carrier
}

// AfterFunc arranges for f to run once the scope's context is done: at
// once, on the goroutine that cancelled the scope or an enclosing one; on
// its own goroutine when the context is done already. The context package
// uses it to attach derived contexts (see above); context.AfterFunc with
// the scope's context uses it too, and still runs its function on a
// goroutine of its own. stop reports whether it kept f from running.
func (c *scopeCtx) AfterFunc(f func()) (stop func() bool) {
	s := c.s
	s.mu.Lock()
	l := s.listLocked()
	if l.fired || c.Context.Err() != nil {
		s.mu.Unlock()
		// The caller may hold a lock that f takes (context.propagateCancel
		// holds the child's), so f must not run on this goroutine.
		go f()
		return stopped
	}
	e := &entry{f: f}
	l.push(e)
	watched := l.watched
	l.watched = true
	s.mu.Unlock()
	if !watched {
		s.watch()
	}
	return func() bool { return s.remove(e) }
}

func stopped() bool { return false }

func (c *scopeCtx) String() string { return "cancel.Scope context" }

// afterFuncs is what the scope keeps for AfterFunc, made the first time it
// is needed, so that a scope whose context has no such use stays small.
type afterFuncs struct {
	first, last *entry          // the functions, in the order they came
	fired       bool            // the functions have run; none will be added
	watched     bool            // the parent is watched (see watch)
	unwatch     func() bool     // stops that watch
	carrier     context.Context // see causeCarrier
}

// entry is a function registered with AfterFunc, in the scope's list.
type entry struct {
	f          func()
	prev, next *entry
}

func (s *Scope) listLocked() *afterFuncs {
	if s.list == nil {
		s.list = new(afterFuncs)
	}
	return s.list
}

func (l *afterFuncs) push(e *entry) {
	e.prev = l.last
	if l.last == nil {
		l.first = e
	} else {
		l.last.next = e
	}
	l.last = e
}

// remove takes e out of the list, and reports whether it was still there.
func (s *Scope) remove(e *entry) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.list
	if l.fired || e.f == nil {
		return false
	}
	if e.prev == nil {
		l.first = e.next
	} else {
		e.prev.next = e.next
	}
	if e.next == nil {
		l.last = e.prev
	} else {
		e.next.prev = e.prev
	}
	e.f, e.prev, e.next = nil, nil, nil
	return true
}

// unlockRun unlocks s.mu and, when the scope's context is done, runs every
// function registered with AfterFunc, in the order they came, on this
// goroutine and without the lock (they read the context's Err and Cause).
func (s *Scope) unlockRun() {
	var e *entry
	if l := s.list; l != nil && l.first != nil && !l.fired && s.ctx.Context.Err() != nil {
		e = l.first
		l.first, l.last = nil, nil
		l.fired = true
	}
	s.mu.Unlock()
	for e != nil {
		next := e.next
		e.f()
		e = next
	}
}

// watch arranges for the list to run when q is cancelled from above. It is
// called once, when the list gets its first entry.
func (s *Scope) watch() {
	p := s.parent
	done := p.Done()
	if done == nil {
		return // shielded, or a parent that is never cancelled
	}
	var stop func() bool
	if outer, ok := p.Value(&scopeKey).(*Scope); ok && done == outer.ctx.Done() {
		// Nothing between the enclosing scope and this one can be
		// cancelled on its own: its list cancels q, then runs this.
		stop = outer.ctx.AfterFunc(s.parentDone)
	} else {
		stop = context.AfterFunc(p, s.parentDone)
	}
	s.mu.Lock()
	isClosed := s.closed
	if !isClosed {
		s.list.unwatch = stop
	}
	s.mu.Unlock()
	if isClosed {
		stop()
	}
}

// parentDone runs the list after a cancellation from above. Cancelling q
// is part of the same cancellation but may not have finished yet (the
// context package closes a parent's Done channel before it cancels the
// children), so it waits for q first: the functions read q's error.
func (s *Scope) parentDone() {
	<-s.ctx.Context.Done()
	s.mu.Lock()
	s.unlockRun()
}
