package streamtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tether-go/tether/cancel"
	"github.com/tether-go/tether/streams"
)

// checkTimeout bounds each check. It is a safety net against a stream that
// hangs, never a means of synchronisation: a correct stream finishes every
// check in a small fraction of it.
const checkTimeout = 10 * time.Second

// env is what a check works with: where it reports, the context that bounds
// it, and the goroutines it started, which the harness waits for.
type env struct {
	t   testing.TB
	ctx context.Context // done when the check times out or has returned
	wg  sync.WaitGroup
}

// run runs check under a time limit, then cancels its context, closes
// closers (concurrently: a stream's Close may wait for its peer) and waits
// for every goroutine the check started. It reports a check that did not
// finish in time, and closes closers at that point too, to unblock a stream
// that ignores its context. run must be called from the goroutine that owns
// t; when check calls t.FailNow, its deferred clean-up still runs.
func run(t testing.TB, timeout time.Duration, closers []io.Closer, check func(e *env)) {
	t.Helper()
	ctx, stop := context.WithTimeout(context.Background(), timeout)
	e := &env{t: t, ctx: ctx}
	watchdogDone := make(chan struct{})
	stopWatchdog := context.AfterFunc(ctx, func() {
		defer close(watchdogDone)
		t.Errorf("streamtest: check did not finish within its time limit of %v (a call ignored its context?); closing the streams", timeout)
		closeAll(closers)
	})
	defer func() {
		stopped := stopWatchdog()
		stop()
		closeAll(closers)
		e.wg.Wait()
		if !stopped {
			<-watchdogDone
		}
	}()
	check(e)
}

// closeAll closes every closer at once and waits for all of them.
func closeAll(closers []io.Closer) {
	var wg sync.WaitGroup
	for _, c := range closers {
		wg.Go(func() { c.Close() })
	}
	wg.Wait()
}

// goTrack runs f in a goroutine that the harness waits for before the check
// ends. f must report with e.t.Errorf, never Fatal.
func (e *env) goTrack(f func()) { e.wg.Go(f) }

// async runs f in a tracked goroutine and returns a channel that receives
// its result; the channel is buffered, so f never blocks on it.
func async[R any](e *env, f func() R) <-chan R {
	c := make(chan R, 1)
	e.goTrack(func() { c <- f() })
	return c
}

// await waits for a result from c, or fails the check when the check's
// time is up. It must be called from the check's goroutine.
func await[R any](e *env, c <-chan R, what string) R {
	e.t.Helper()
	select {
	case r := <-c:
		return r
	case <-e.ctx.Done():
		e.t.Fatalf("%s did not return before the check's time limit", what)
		panic("unreachable")
	}
}

// settle yields the processor a few times, so that a goroutine just started
// can run up to the call where it blocks. It is a hint, not a guarantee: a
// check that uses it is correct whether or not the goroutine got there.
func settle() {
	for range 32 {
		runtime.Gosched()
	}
}

// newRand returns a deterministic source for one goroutine of one check.
func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x5eed)) }

// errIs reports whether errors.Is(err, target) holds for one of targets.
func errIs(err error, targets ...error) bool {
	for _, target := range targets {
		if errors.Is(err, target) {
			return true
		}
	}
	return false
}

// wantErr reports a failure unless errors.Is(err, target) holds for one of
// targets, and says which it is.
func (e *env) wantErr(op string, err error, targets ...error) bool {
	e.t.Helper()
	if errIs(err, targets...) {
		return true
	}
	e.t.Errorf("%s: got error %v, want %s", op, err, describe(targets))
	return false
}

// wantCancelled reports a failure unless err is a cancellation error that
// keeps cause reachable: cancel.IsCancelled, errors.Is(err,
// context.Canceled) and errors.Is(err, cause) must all hold.
func (e *env) wantCancelled(op string, err error, cause error) bool {
	e.t.Helper()
	switch {
	case err == nil:
		e.t.Errorf("%s: got nil error, want a cancellation error", op)
	case !cancel.IsCancelled(err):
		e.t.Errorf("%s: got error %v, want a cancellation error (cancel.IsCancelled)", op, err)
	case !errors.Is(err, context.Canceled):
		e.t.Errorf("%s: got error %v, for which errors.Is(err, context.Canceled) is false", op, err)
	case cause != nil && !errors.Is(err, cause):
		e.t.Errorf("%s: got error %v, which does not keep the cause %q reachable with errors.Is", op, err, cause)
	default:
		return true
	}
	return false
}

func describe(targets []error) string {
	names := make([]string, len(targets))
	for i, t := range targets {
		names[i] = errName(t)
	}
	return strings.Join(names, " or ")
}

// errName names the sentinels of package streams in messages.
func errName(err error) string {
	switch err {
	case streams.ErrEndOfStream:
		return "streams.ErrEndOfStream"
	case streams.ErrClosed:
		return "streams.ErrClosed"
	case streams.ErrBroken:
		return "streams.ErrBroken"
	case streams.ErrBusy:
		return "streams.ErrBusy"
	}
	return fmt.Sprintf("%q", err)
}

// cancelCause returns the cause a check cancels its contexts with, so that
// it can tell its own cancellation from any other.
func cancelCause(check string) error {
	return fmt.Errorf("streamtest: %s cancelled the call on purpose", check)
}
