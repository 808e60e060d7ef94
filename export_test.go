package tether

import (
	"os"
	"os/signal"
	"slices"
	"sync"
	"testing"
)

// FakeSignals stands in for the process's signals while a test runs: Run
// registers with it instead of os/signal, and the test delivers signals
// with Send. Tests that use it must not run in parallel.
type FakeSignals struct {
	mu      sync.Mutex
	c       chan<- os.Signal
	watched []os.Signal
	early   []os.Signal
}

// UseFakeSignals makes Run use a FakeSignals until the test ends.
func UseFakeSignals(t testing.TB) *FakeSignals {
	f := &FakeSignals{}
	notifySignals, stopSignals = f.notify, f.stop
	t.Cleanup(func() { notifySignals, stopSignals = signal.Notify, signal.Stop })
	return f
}

func (f *FakeSignals) notify(c chan<- os.Signal, sigs ...os.Signal) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.c, f.watched = c, slices.Clone(sigs)
	for _, sig := range f.early {
		select {
		case c <- sig:
		default: // dropped, as the runtime drops what does not fit
		}
	}
	f.early = nil
}

// SendOnNotify makes the next registration receive sig at once, as if the
// signal arrived between signal.Notify and Run's first look at its channel.
func (f *FakeSignals) SendOnNotify(sig os.Signal) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.early = append(f.early, sig)
}

func (f *FakeSignals) stop(c chan<- os.Signal) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.c == c {
		f.c, f.watched = nil, nil
	}
}

// Send delivers sig as the runtime does: without blocking, dropping it if
// the channel is full. It reports whether a channel took it.
func (f *FakeSignals) Send(sig os.Signal) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.c == nil || !slices.Contains(f.watched, sig) {
		return false
	}
	select {
	case f.c <- sig:
		return true
	default:
		return false
	}
}

// Watched returns the signals a registered channel watches, or nil when
// none is registered (before Run, or after Run stopped watching).
func (f *FakeSignals) Watched() []os.Signal {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.watched)
}

// OnGroupDone makes fn run when the goroutine that runs Run's group ends,
// until the test ends: how a test knows that abandoned tasks are gone.
func OnGroupDone(t testing.TB, fn func()) {
	testHookGroupDone = fn
	t.Cleanup(func() { testHookGroupDone = nil })
}

// FakeExit makes Main record its exit status instead of exiting, until the
// test ends. The returned function reports the status, or -1 if Main did
// not exit.
func FakeExit(t testing.TB) (status func() int) {
	code := -1
	exit = func(c int) { code = c }
	t.Cleanup(func() { exit = os.Exit })
	return func() int { return code }
}
