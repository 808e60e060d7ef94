package tether

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"slices"
	"syscall"

	"github.com/tether-go/tether/taskgroup"
)

// defaultSignals are the signals that Run turns into cancellation unless
// [Signals] says otherwise.
var defaultSignals = []os.Signal{os.Interrupt, syscall.SIGTERM}

// Option configures [Run] and [Main]. Make one with [Signals]. The zero
// Option does nothing. Options are values: one may be used by any number
// of calls.
type Option struct {
	apply func(*config)
}

type config struct {
	signals []os.Signal
}

// Signals makes Run watch sigs instead of SIGINT and SIGTERM: the first of
// them to arrive cancels the group, and a second one abandons it, as
// described at [Run]. Signals() with no signal makes Run watch none, so
// that only ctx and fn end the run (for a program that handles signals
// itself, or runs embedded). The last Signals given counts. Signals panics
// if a signal is nil.
//
// Signals that cannot be caught (SIGKILL, SIGSTOP) are accepted, as
// signal.Notify accepts them, and simply never arrive.
func Signals(sigs ...os.Signal) Option {
	for _, sig := range sigs {
		if sig == nil {
			panic("tether: Signals called with a nil signal")
		}
	}
	sigs = slices.Clone(sigs)
	return Option{apply: func(c *config) { c.signals = sigs }}
}

func newConfig(opts []Option) config {
	c := config{signals: defaultSignals}
	for _, o := range opts {
		if o.apply != nil {
			o.apply(&c)
		}
	}
	return c
}

// Test hooks, replaced in export_test.go: signal delivery, process exit, and
// a notice that the goroutine running Run's group has ended.
var (
	notifySignals     = signal.Notify
	stopSignals       = signal.Stop
	exit              = os.Exit
	testHookGroupDone func()
)

// ErrAbandoned is returned by [Run] when a second signal arrives while the
// group is still shutting down after the first: Run stopped waiting, and
// the tasks still running were abandoned. Test for it with errors.Is.
var ErrAbandoned = errors.New("tether: second signal during shutdown: tasks abandoned")

// SignalError is the cause with which [Run] cancels its group when the
// process receives SIGINT or SIGTERM (or a signal chosen with [Signals]):
// context.Cause of the group's context
// is a *SignalError, and the cancellation errors that the library's
// blocking calls return then carry it (reach it with errors.As).
//
// Like the causes of package cancel, a SignalError is a cancellation: it
// satisfies errors.Is(err, context.Canceled), so that a task that returns
// context.Cause(ctx) itself is not reported as a failure. It is a plain
// value: Run makes one per signal, and it is safe to share once made.
type SignalError struct {
	Signal os.Signal
}

// Error says which signal was received, e.g. "tether: received interrupt".
func (e *SignalError) Error() string { return "tether: received " + e.Signal.String() }

// Is reports whether target is context.Canceled.
func (e *SignalError) Is(target error) bool { return target == context.Canceled }

// abandonedError is what Run returns on the second signal. It is not a
// cancellation (it does not reach the SignalError), so that code which
// treats cancellation as a clean end does not take a forced exit for one.
type abandonedError struct {
	signal os.Signal
}

func (e *abandonedError) Error() string {
	return fmt.Sprintf("tether: received %v again during shutdown: tasks abandoned", e.signal)
}

func (e *abandonedError) Unwrap() error { return ErrAbandoned }

// outcome is how the goroutine that runs the group reports its end.
type outcome struct {
	err      error
	panicked bool // the group panicked (value) or called runtime.Goexit (nil value)
	value    any
}

// Run runs fn in a task group, as [taskgroup.Run] does, whose context is
// also cancelled when the process receives SIGINT or SIGTERM (or the
// signals chosen with [Signals]): the first such signal cancels the group
// with a [*SignalError] as the cause. The
// cancellation errors that this causes are the group's own, so a clean
// shutdown after a signal returns nil; otherwise Run returns what
// taskgroup.Run returns (fn's and the tasks' errors, or a cancellation of
// ctx from outside), and a panic in fn or a task is raised again in Run's
// goroutine, as a [*taskgroup.PanicError].
//
// Run watches for the signals (signal.Notify) before it calls fn and stops
// (signal.Stop) before it returns, so fn may report that it is ready to be
// interrupted. While Run watches, the signals no longer kill the process.
//
// A second signal while the group is shutting down stops the wait: Run
// returns at once an error for which errors.Is(err, [ErrAbandoned]) holds,
// and the tasks that are still running are abandoned, left running with a
// cancelled context and nobody to wait for them. That breaks the rule that
// no task outlives its group, and is only fine because the process is
// about to exit: [Main] exits at once. A Run that returns normally leaves
// no goroutine behind.
//
// Run costs a goroutine, which runs the group, and a signal registration.
// Several Runs may run at once; each sees every signal.
func Run(ctx context.Context, fn func(ctx context.Context, g *taskgroup.Group) error, opts ...Option) error {
	if ctx == nil {
		panic("tether: Run called with a nil context")
	}
	if fn == nil {
		panic("tether: Run called with a nil function")
	}
	cfg := newConfig(opts)
	// Room for two signals, so that a quick double Ctrl-C is not dropped
	// (signal delivery never blocks, it drops what does not fit).
	sigs := make(chan os.Signal, 2)
	if len(cfg.signals) > 0 { // Notify with no signal would relay them all
		notifySignals(sigs, cfg.signals...)
		defer stopSignals(sigs)
	}

	groups := make(chan *taskgroup.Group)
	done := make(chan outcome, 1) // buffered: no one reads it once abandoned
	go runGroup(ctx, fn, groups, done, testHookGroupDone)

	// taskgroup.Run calls its body at once, so the group is known before
	// any signal is handled; signals that arrive sooner wait in sigs.
	var g *taskgroup.Group
	select {
	case g = <-groups:
	case o := <-done:
		return o.result()
	}
	var first os.Signal
	for {
		select {
		case o := <-done:
			return o.result()
		case sig := <-sigs:
			if first == nil {
				first = sig
				g.Scope().CancelWithCause(&SignalError{Signal: sig})
				continue
			}
			// A group that has just finished wins over the second signal.
			select {
			case o := <-done:
				return o.result()
			default:
				return &abandonedError{signal: sig}
			}
		}
	}
}

// runGroup runs fn's group and reports its end on done, even when it ends
// by a panic or runtime.Goexit; then it calls hook, if any. (The hook is
// read in Run, not here: after done, Run may have returned and a test may
// have set the next hook.)
func runGroup(ctx context.Context, fn func(context.Context, *taskgroup.Group) error, groups chan<- *taskgroup.Group, done chan<- outcome, hook func()) {
	o := outcome{panicked: true}
	defer func() {
		if o.panicked {
			o.value = recover()
		}
		done <- o
		if hook != nil {
			hook()
		}
	}()
	o.err = taskgroup.Run(ctx, func(ctx context.Context, g *taskgroup.Group) error {
		groups <- g
		return fn(ctx, g)
	})
	o.panicked = false
}

// result returns the group's error, or raises its panic (or Goexit) again
// in the caller's goroutine.
func (o outcome) result() error {
	switch {
	case !o.panicked:
		return o.err
	case o.value == nil:
		// A nil value is runtime.Goexit: panic(nil) recovers as a
		// *runtime.PanicNilError. Exit the caller likewise (t.FailNow
		// called inside fn, say).
		runtime.Goexit()
		return nil
	default:
		panic(o.value)
	}
}

// Main runs fn with [Run], context.Background() and opts, for a main
// function:
//
//	func main() {
//		tether.Main(func(ctx context.Context, g *taskgroup.Group) error {
//			...
//		})
//	}
//
// When Run returns nil, Main returns, and so main can return: exit status
// 0, also after a clean shutdown on a signal. When Run returns an error,
// Main logs it with slog.Error and exits with status 1. When a second
// signal abandoned the tasks ([ErrAbandoned]), it logs that and exits at
// once with the shell's status for the signal: 130 for SIGINT, 143 for
// SIGTERM (128 plus the signal's number). Main does not return then, and
// deferred calls do not run. A panic in fn or a task is not recovered: it
// ends the process as a panic in main would, with the task's stack.
func Main(fn func(ctx context.Context, g *taskgroup.Group) error, opts ...Option) {
	err := Run(context.Background(), fn, opts...)
	if err == nil {
		return
	}
	code := exitCode(err)
	slog.Error("tether: exiting", "status", code, "err", err)
	exit(code)
}

// exitCode returns the exit status for a Run that returned err != nil.
func exitCode(err error) int {
	var ae *abandonedError
	if errors.As(err, &ae) {
		if s, ok := ae.signal.(syscall.Signal); ok {
			return 128 + int(s)
		}
	}
	return 1
}
