package cancel

import (
	"context"
	"errors"
	"reflect"
	"sync"
	"sync/atomic"
	"time"
)

// Scope is a region of work that can be cancelled as a unit: Trio's and
// AnyIO's cancel scope. Its context, returned by [Open], is done when the
// scope is cancelled, when its deadline passes, or when an enclosing,
// unshielded scope (or any parent context) is done.
//
// A Scope is made by [Open] (the zero value is not usable), is safe for
// concurrent use, and is not reusable after [Scope.Close]. Opening and
// closing a scope costs about as much as context.WithCancel and its cancel
// (one allocation more, the 112-byte Scope), plus a timer when the scope
// has a deadline. Deriving contexts from the scope's context costs no
// goroutine; when a deadline ends the scope, they report
// context.DeadlineExceeded (see the package doc for the details).
type Scope struct {
	ctx      scopeCtx
	cancelFn context.CancelCauseFunc
	parent   context.Context // what the scope's context was derived from

	mu       sync.Mutex
	deadline time.Time   // zero: none of its own
	timer    *time.Timer // made once, then Reset and Stopped

	// What the context's AfterFunc keeps (context.go), once used; under mu.
	list *afterFuncs

	// flags are set under mu, once each, and read without it.
	flags atomic.Uint32

	shielded bool

	// Distinct causes, one per scope, so that Close can tell this scope's
	// cancellation from an enclosing one's. Their addresses are the
	// identity; they live inside the Scope to cost no allocation.
	cancelled cancelledError
	expired   deadlineError

	// Under mu.
	closed       bool // Close was called
	cancelCalled bool
	won          bool // the cancellation with cause reached the context first
	caught       bool
}

// The flags of a Scope.
const (
	// deadlineHit: the scope's own deadline, not an explicit Cancel or an
	// outer scope, cancelled it first.
	deadlineHit uint32 = 1 << iota
	// timed: the scope has had a deadline of its own; from then on,
	// derived contexts attach through AfterFunc (context.go).
	timed
)

func (s *Scope) has(f uint32) bool { return s.flags.Load()&f != 0 }

func (s *Scope) set(f uint32) { s.flags.Or(f) }

// Open opens a cancel scope inside ctx and returns it with its context. The
// caller must call [Scope.Close] when the work inside is done (usually
// deferred, or by using the function forms [Run], [MoveOnAfter] and
// [FailAfter]), or the scope's resources are held until ctx is done.
//
// A deadline or timeout that has already passed (zero or negative timeout)
// cancels the scope at once: the first blocking call inside fails.
func Open(ctx context.Context, opts ...Option) (*Scope, context.Context) {
	var cfg config
	for _, o := range opts {
		o.apply(&cfg)
	}
	parent := ctx
	if cfg.shield {
		parent = context.WithoutCancel(ctx)
	}
	inner, cancelFn := context.WithCancelCause(parent)
	s := &Scope{
		ctx:      scopeCtx{Context: inner},
		cancelFn: cancelFn,
		parent:   parent,
		shielded: cfg.shield,
	}
	s.ctx.s = s
	if cfg.hasDeadline {
		s.mu.Lock()
		s.setDeadlineLocked(cfg.deadline)
		s.unlockRun()
	}
	return s, &s.ctx
}

// Cancel cancels the scope: its context is done, and every blocking call
// inside fails with a cancellation error until the scope is closed. The
// cause (context.Cause) is an error unique to this scope. Calling Cancel
// again, or after the scope was otherwise cancelled, does nothing more.
func (s *Scope) Cancel() { s.CancelWithCause(nil) }

// CancelWithCause is like [Scope.Cancel], but makes err the cause reported
// by context.Cause for the scope's context (if this is the first
// cancellation to reach it). A nil err is the same as Cancel.
func (s *Scope) CancelWithCause(err error) {
	if err == nil {
		err = &s.cancelled
	}
	s.mu.Lock()
	s.cancelLocked(err)
	s.unlockRun()
}

func (s *Scope) cancelLocked(cause error) {
	if s.cancelCalled || s.closed {
		return
	}
	s.cancelCalled = true
	s.stopTimerLocked()
	s.cancelFn(cause)
	// Decide now whether this cancellation was the first to reach the
	// context. If the parent is still not done after cancelFn, nothing
	// could have cancelled the context before it. Otherwise compare causes;
	// an error that is not comparable then counts as having lost, the safe
	// side (an enclosing scope's cancellation is never caught by mistake).
	s.won = s.parent.Err() == nil || sameError(context.Cause(s.ctx.Context), cause)
}

// Deadline returns the scope's own deadline, or the zero time when it has
// none. Deadlines of enclosing scopes are not included; the scope's context
// reports the earliest that applies.
func (s *Scope) Deadline() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.deadline
}

// SetDeadline sets the scope's own deadline, earlier or later than before,
// while the scope is open; the zero time removes it. A deadline that has
// passed cancels the scope at once. Once the scope has been cancelled,
// moving the deadline no longer un-cancels it.
//
// Contexts derived from the scope's context once it has a deadline report
// context.DeadlineExceeded when the deadline ends the scope; those derived
// before its first deadline was set report context.Canceled, with the
// deadline as their cause (context.Cause). Give the deadline when opening
// the scope ([WithDeadline], [WithTimeout]) where derived contexts matter.
//
// A context derived with context.WithDeadline (or WithTimeout) for a time
// later than the scope's deadline then in force gets no timer of its own:
// the context package counts on the parent to end it first. Moving the
// deadline later than that time leaves such a context to end with the
// scope, not at its own time. Open a nested scope instead, whose deadline
// is always its own, or derive the context after moving the deadline.
func (s *Scope) SetDeadline(t time.Time) {
	s.mu.Lock()
	s.setDeadlineLocked(t)
	s.unlockRun()
}

func (s *Scope) setDeadlineLocked(t time.Time) {
	s.deadline = t
	if !t.IsZero() {
		s.set(timed)
	}
	if s.cancelCalled || s.closed {
		return
	}
	s.stopTimerLocked()
	if t.IsZero() {
		return
	}
	d := time.Until(t)
	if d <= 0 {
		s.expireLocked()
		return
	}
	s.armLocked(d)
}

// armLocked makes the scope's one timer fire in d. There is only ever one
// timer, so that neither a moved deadline nor a late onTimer can leave a
// second one behind that Close would not stop.
func (s *Scope) armLocked(d time.Duration) {
	if s.timer == nil {
		s.timer = time.AfterFunc(d, s.onTimer)
		return
	}
	s.timer.Reset(d)
}

func (s *Scope) stopTimerLocked() {
	if s.timer != nil {
		s.timer.Stop()
	}
}

// onTimer runs when the timer set for the deadline fires. A firing that
// Stop or Reset came too late to prevent finds the deadline moved (or gone)
// and the timer already re-armed for it; arming it again for the same
// deadline is harmless, and covers a timer that fired early by the wall
// clock (a deadline given without a monotonic reading).
func (s *Scope) onTimer() {
	s.mu.Lock()
	switch {
	case s.deadline.IsZero() || s.cancelCalled || s.closed:
	case time.Until(s.deadline) > 0:
		s.armLocked(time.Until(s.deadline))
	default:
		s.expireLocked()
	}
	s.unlockRun()
}

func (s *Scope) expireLocked() {
	if s.cancelCalled {
		return
	}
	s.cancelLocked(&s.expired)
	// Only a deadline that won the race to cancel the context counts as a
	// timeout: an explicit Cancel or an outer scope that got there first
	// must never look like one.
	if s.won {
		s.set(deadlineHit)
	}
}

// CancelCalled reports whether the scope was cancelled, by [Scope.Cancel],
// [Scope.CancelWithCause] or its own deadline. Cancellation that came from
// an enclosing scope does not count.
func (s *Scope) CancelCalled() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cancelCalled
}

// CancelledCaught reports whether [Scope.Close] caught a cancellation error
// caused by this scope. A scope cancelled while nothing inside it was
// blocked, whose work returned nil, has CancelCalled but not
// CancelledCaught, as in Trio.
func (s *Scope) CancelledCaught() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.caught
}

// Shielded reports whether the scope was opened with [Shielded].
func (s *Scope) Shielded() bool { return s.shielded }

// Close ends the scope: it stops its timer, releases its context (which is
// done afterwards), and returns err — except that a cancellation error
// caused by this scope's own cancellation is caught: Close returns nil and
// [Scope.CancelledCaught] reports true. A cancellation that came from an
// enclosing scope, or a timeout error from an inner [FailAfter], is never
// caught; it passes through, so that the scope it belongs to can catch it.
// Nor is a cancellation whose cause names another scope (a
// [Checkpoint] error from that scope's context). Errors joined by
// errors.Join (a task group's) are taken apart: the cancellations this scope
// caused are dropped, the other errors returned. A plain context.Canceled
// says nothing about where it came from, and is caught when this scope was
// cancelled first.
//
// Close may be called more than once; each call applies the same rule to
// its err.
func (s *Scope) Close(err error) error {
	s.mu.Lock()
	var unwatch func() bool
	if !s.closed {
		s.closed = true
		s.stopTimerLocked()
		s.cancelFn(errClosed)
		if s.list != nil {
			unwatch, s.list.unwatch = s.list.unwatch, nil
		}
	}
	if err != nil && s.cancelCalled && s.won {
		var caught bool
		err, caught = s.catchLocked(err)
		s.caught = s.caught || caught
	}
	s.unlockRun()
	if unwatch != nil {
		unwatch()
	}
	return err
}

// catchLocked returns err less the cancellation errors that this scope
// caused, and whether there were any. An error made by errors.Join (what a
// task group returns) is taken apart, as Trio splits an exception group:
// its own cancellations are dropped and the other errors returned, joined
// again if there are several.
func (s *Scope) catchLocked(err error) (rest error, caught bool) {
	if reflect.TypeOf(err) == joinType {
		errs := err.(interface{ Unwrap() []error }).Unwrap()
		var kept []error
		for _, e := range errs {
			r, c := s.catchLocked(e)
			caught = caught || c
			if r != nil {
				kept = append(kept, r)
			}
		}
		switch {
		case !caught:
			return err, false
		case len(kept) == 0:
			return nil, true
		case len(kept) == 1:
			return kept[0], true
		default:
			return errors.Join(kept...), true
		}
	}
	if !isCancellation(err) || !s.ownsLocked(err) {
		return err, false
	}
	return nil, true
}

// joinType is the type of the errors that errors.Join returns.
var joinType = reflect.TypeOf(errors.Join(errors.New("")))

// ownsLocked reports whether err, a cancellation error, may be this scope's.
// A plain context.Canceled says nothing about where it came from and is
// taken to be; but an error whose cause names another scope (a Checkpoint
// error from another scope's context) belongs to that scope and must reach
// it.
func (s *Scope) ownsLocked(err error) bool {
	// The scope's cancellation won (see Close), so the context's cause is
	// the one the scope cancelled with: no field need keep it.
	if errors.Is(err, context.Cause(s.ctx.Context)) {
		return true
	}
	var c *cancelledError
	if errors.As(err, &c) && c != &s.cancelled {
		return false
	}
	var d *deadlineError
	if errors.As(err, &d) && d != &s.expired {
		return false
	}
	return true
}

// sameError compares two errors for identity without panicking on error
// types that are not comparable.
func sameError(a, b error) bool {
	if a == nil || b == nil {
		return a == b
	}
	ta := reflect.TypeOf(a)
	if ta != reflect.TypeOf(b) || !ta.Comparable() {
		return false
	}
	return a == b
}
