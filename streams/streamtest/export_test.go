package streamtest

import (
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/tether-go/tether/streams"
)

// Report is what one check reported when run by [RunByteCheck] or
// [RunObjectCheck].
type Report struct {
	Failed, Skipped bool
	Messages        []string
}

// recorder is a testing.TB that records what a check reports instead of
// failing the test, so that the suite's own tests can run a check on a
// broken stream and assert that it failed. It embeds the real subtest for
// everything it does not override (Name, Cleanup, TempDir, ...). Its
// FailNow and SkipNow end the calling goroutine with runtime.Goexit, as
// testing.T's do, so the check must run in a goroutine of its own; the
// checks call them only from that goroutine.
type recorder struct {
	testing.TB
	mu      sync.Mutex
	failed  bool
	skipped bool
	msgs    []string
}

func (r *recorder) record(failed, skipped bool, msg string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failed = r.failed || failed
	r.skipped = r.skipped || skipped
	if msg != "" {
		r.msgs = append(r.msgs, msg)
	}
}

func (r *recorder) Helper()                    {}
func (r *recorder) Log(args ...any)            { r.record(false, false, fmt.Sprint(args...)) }
func (r *recorder) Logf(f string, args ...any) { r.record(false, false, fmt.Sprintf(f, args...)) }
func (r *recorder) Error(args ...any)          { r.record(true, false, fmt.Sprint(args...)) }
func (r *recorder) Errorf(f string, args ...any) {
	r.record(true, false, fmt.Sprintf(f, args...))
}
func (r *recorder) Fail()    { r.record(true, false, "") }
func (r *recorder) FailNow() { r.Fail(); runtime.Goexit() }
func (r *recorder) Fatal(args ...any) {
	r.Error(args...)
	runtime.Goexit()
}
func (r *recorder) Fatalf(f string, args ...any) {
	r.Errorf(f, args...)
	runtime.Goexit()
}
func (r *recorder) SkipNow() { r.record(false, true, ""); runtime.Goexit() }
func (r *recorder) Skip(args ...any) {
	r.record(false, true, fmt.Sprint(args...))
	runtime.Goexit()
}
func (r *recorder) Skipf(f string, args ...any) {
	r.record(false, true, fmt.Sprintf(f, args...))
	runtime.Goexit()
}

func (r *recorder) Failed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.failed
}

func (r *recorder) Skipped() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.skipped
}

func (r *recorder) report() Report {
	r.mu.Lock()
	defer r.mu.Unlock()
	return Report{Failed: r.failed, Skipped: r.skipped, Messages: append([]string(nil), r.msgs...)}
}

// recorded runs fn with a recorder in a goroutine of its own and returns
// what it reported.
func recorded(t *testing.T, fn func(tb testing.TB)) Report {
	rec := &recorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(rec)
	}()
	<-done
	return rec.report()
}

// ByteCheckNames returns the names of the byte stream checks, in order.
func ByteCheckNames() []string {
	names := make([]string, len(byteChecks))
	for i, c := range byteChecks {
		names[i] = c.name
	}
	return names
}

// ObjectCheckNames returns the names of the object stream checks, in order.
func ObjectCheckNames() []string {
	checks := objectChecks[int]()
	names := make([]string, len(checks))
	for i, c := range checks {
		names[i] = c.name
	}
	return names
}

// RunByteCheck runs the byte stream check called name on a pair made by
// makePair, with the given time limit, and returns what it reported
// instead of failing t.
func RunByteCheck(t *testing.T, name string, timeout time.Duration, makePair MakeBytePair) Report {
	for _, c := range byteChecks {
		if c.name == name {
			return recorded(t, func(tb testing.TB) { runByteCheck(t, tb, timeout, makePair, c.run) })
		}
	}
	t.Fatalf("no byte stream check called %q", name)
	return Report{}
}

// RunObjectCheck is RunByteCheck for the object stream checks.
func RunObjectCheck[T any](t *testing.T, name string, timeout time.Duration,
	makePair func(t *testing.T) (streams.ObjectSender[T], streams.ObjectReceiver[T]),
) Report {
	for i, c := range objectChecks[T]() {
		if c.name == name {
			return recorded(t, func(tb testing.TB) { runObjectCheck(t, tb, timeout, makePair, int64(i+1), c.run) })
		}
	}
	t.Fatalf("no object stream check called %q", name)
	return Report{}
}

// ValueGenError returns the error TestObjectStream fails with for T, or
// nil when testing/quick can make values of T.
func ValueGenError[T any]() error {
	_, err := newValueGen[T](0)
	return err
}

// GenValues returns n values of T as TestObjectStream makes them.
func GenValues[T any](n int) []T {
	g, err := newValueGen[T](1)
	if err != nil {
		panic(err)
	}
	return g.values(n)
}
