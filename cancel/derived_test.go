package cancel_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tether-go/tether/cancel"
)

type derivedKey struct{}

// derivations are the ways code inside a scope derives a context of its
// own, as net/http, gRPC and any library do.
//
// async marks the one way that the context package attaches with a
// goroutine to a scope that a deadline may end: through a context that
// wraps the scope's with values only (see cancel/context.go).
var derivations = []struct {
	name   string
	async  bool
	derive func(ctx context.Context) (context.Context, func())
}{
	{"WithCancel", false, func(ctx context.Context) (context.Context, func()) { return context.WithCancel(ctx) }},
	{"WithCancelCause", false, func(ctx context.Context) (context.Context, func()) {
		c, cancel := context.WithCancelCause(ctx)
		return c, func() { cancel(nil) }
	}},
	{"WithTimeout", false, func(ctx context.Context) (context.Context, func()) { return context.WithTimeout(ctx, time.Hour) }},
	{"WithValue", false, func(ctx context.Context) (context.Context, func()) {
		return context.WithValue(ctx, derivedKey{}, 1), func() {}
	}},
	{"WithCancel of WithValue", true, func(ctx context.Context) (context.Context, func()) {
		return context.WithCancel(context.WithValue(ctx, derivedKey{}, 1))
	}},
	{"WithCancel of WithCancel", false, func(ctx context.Context) (context.Context, func()) {
		c1, cancel1 := context.WithCancel(ctx)
		c2, cancel2 := context.WithCancel(c1)
		return c2, func() { cancel2(); cancel1() }
	}},
}

// endings are the ways a deadline ends a scope: each returns the scope
// whose context the work derives from, after setting things up, and how
// long after the start the deadline falls.
var endings = []struct {
	name string
	open func(t *testing.T, ctx context.Context) (context.Context, time.Duration, func())
}{
	{"own deadline", func(t *testing.T, ctx context.Context) (context.Context, time.Duration, func()) {
		s, sctx := cancel.Open(ctx, cancel.WithTimeout(time.Second))
		return sctx, time.Second, func() { s.Close(nil) }
	}},
	{"deadline set later", func(t *testing.T, ctx context.Context) (context.Context, time.Duration, func()) {
		s, sctx := cancel.Open(ctx)
		s.SetDeadline(time.Now().Add(2 * time.Second))
		return sctx, 2 * time.Second, func() { s.Close(nil) }
	}},
	{"deadline moved later", func(t *testing.T, ctx context.Context) (context.Context, time.Duration, func()) {
		s, sctx := cancel.Open(ctx, cancel.WithTimeout(time.Second))
		s.SetDeadline(time.Now().Add(3 * time.Second))
		return sctx, 3 * time.Second, func() { s.Close(nil) }
	}},
	{"deadline moved earlier", func(t *testing.T, ctx context.Context) (context.Context, time.Duration, func()) {
		s, sctx := cancel.Open(ctx, cancel.WithTimeout(time.Hour))
		s.SetDeadline(time.Now().Add(time.Second))
		return sctx, time.Second, func() { s.Close(nil) }
	}},
	{"outer scope's deadline", func(t *testing.T, ctx context.Context) (context.Context, time.Duration, func()) {
		outer, octx := cancel.Open(ctx, cancel.WithTimeout(time.Second))
		inner, ictx := cancel.Open(octx)
		return ictx, time.Second, func() { inner.Close(nil); outer.Close(nil) }
	}},
	{"outer scope's deadline, inner has a later one", func(t *testing.T, ctx context.Context) (context.Context, time.Duration, func()) {
		outer, octx := cancel.Open(ctx, cancel.WithTimeout(time.Second))
		inner, ictx := cancel.Open(octx, cancel.WithTimeout(time.Minute))
		return ictx, time.Second, func() { inner.Close(nil); outer.Close(nil) }
	}},
	{"outer scope's deadline through values", func(t *testing.T, ctx context.Context) (context.Context, time.Duration, func()) {
		outer, octx := cancel.Open(ctx, cancel.WithTimeout(time.Second))
		inner, ictx := cancel.Open(context.WithValue(octx, derivedKey{}, 2))
		return ictx, time.Second, func() { inner.Close(nil); outer.Close(nil) }
	}},
	{"three scopes deep", func(t *testing.T, ctx context.Context) (context.Context, time.Duration, func()) {
		a, actx := cancel.Open(ctx, cancel.WithTimeout(time.Second))
		b, bctx := cancel.Open(actx)
		c, cctx := cancel.Open(bctx)
		return cctx, time.Second, func() { c.Close(nil); b.Close(nil); a.Close(nil) }
	}},
	{"outer deadline set after inner opened", func(t *testing.T, ctx context.Context) (context.Context, time.Duration, func()) {
		outer, octx := cancel.Open(ctx)
		inner, ictx := cancel.Open(octx)
		outer.SetDeadline(time.Now().Add(time.Second))
		return ictx, time.Second, func() { inner.Close(nil); outer.Close(nil) }
	}},
	{"shielded scope's own deadline", func(t *testing.T, ctx context.Context) (context.Context, time.Duration, func()) {
		outer, octx := cancel.Open(ctx, cancel.WithTimeout(time.Hour))
		s, sctx := cancel.Open(octx, cancel.Shielded(), cancel.WithTimeout(time.Second))
		return sctx, time.Second, func() { s.Close(nil); outer.Close(nil) }
	}},
	{"inside a cancellable plain context", func(t *testing.T, ctx context.Context) (context.Context, time.Duration, func()) {
		pctx, stop := context.WithCancel(ctx)
		s, sctx := cancel.Open(pctx, cancel.WithTimeout(time.Second))
		return sctx, time.Second, func() { s.Close(nil); stop() }
	}},
}

// TestDerivedSeeDeadline checks that every context derived from a scope's
// context, in every way, reports context.DeadlineExceeded when a scope's
// deadline ended it, keeps the deadline as its cause, and is not done a
// moment before.
func TestDerivedSeeDeadline(t *testing.T) {
	for _, end := range endings {
		for _, d := range derivations {
			t.Run(end.name+"/"+d.name, func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					start := time.Now()
					sctx, after, closeAll := end.open(t, context.Background())
					defer closeAll()
					child, stop := d.derive(sctx)
					defer stop()

					time.Sleep(after - time.Nanosecond)
					synctest.Wait()
					if err := child.Err(); err != nil {
						t.Fatalf("derived ctx Err() = %v at %v, want nil before the deadline", err, time.Since(start))
					}
					<-child.Done()
					if got := time.Since(start); got != after {
						t.Errorf("derived ctx done after %v, want %v", got, after)
					}
					if err := child.Err(); err != context.DeadlineExceeded {
						t.Errorf("derived ctx Err() = %v, want context.DeadlineExceeded", err)
					}
					if err := sctx.Err(); err != context.DeadlineExceeded {
						t.Errorf("scope ctx Err() = %v, want context.DeadlineExceeded", err)
					}
					cause := context.Cause(child)
					if !errors.Is(cause, context.DeadlineExceeded) {
						t.Errorf("context.Cause(derived) = %v, want a deadline", cause)
					}
					if cause == context.DeadlineExceeded {
						t.Errorf("context.Cause(derived) = %v, want the scope's own cause", cause)
					}
					if got := context.Cause(sctx); got != cause {
						t.Errorf("context.Cause(scope ctx) = %v, want %v, the derived ctx's", got, cause)
					}
					if err := cancel.Checkpoint(child); !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
						t.Errorf("Checkpoint(derived) = %v, want DeadlineExceeded and not Canceled", err)
					}
				})
			})
		}
	}
}

// cancellations are the ways a scope ends other than a deadline: each
// must still reach derived contexts as context.Canceled, at once.
var cancellations = []struct {
	name   string
	plain  bool // the cancellation comes from a plain context above the scopes
	cancel func(s, outer *cancel.Scope, stopParent func())
}{
	{"Cancel", false, func(s, outer *cancel.Scope, stopParent func()) { s.Cancel() }},
	{"CancelWithCause", false, func(s, outer *cancel.Scope, stopParent func()) { s.CancelWithCause(errBoom) }},
	{"Close", false, func(s, outer *cancel.Scope, stopParent func()) { s.Close(nil) }},
	{"outer Cancel", false, func(s, outer *cancel.Scope, stopParent func()) { outer.Cancel() }},
	{"outer Close", false, func(s, outer *cancel.Scope, stopParent func()) { outer.Close(nil) }},
	{"plain parent cancelled", true, func(s, outer *cancel.Scope, stopParent func()) { stopParent() }},
}

// TestDerivedSeeCancel checks that a scope cancelled before its deadline
// (or an enclosing scope cancelled) still reports context.Canceled in
// derived contexts, and that a cancellation by a scope reaches them before
// the call that cancelled returns.
func TestDerivedSeeCancel(t *testing.T) {
	for _, c := range cancellations {
		for _, d := range derivations {
			for _, timed := range []bool{false, true} {
				name := c.name + "/" + d.name + "/plain scope"
				if timed {
					name = c.name + "/" + d.name + "/scope with a deadline"
				}
				t.Run(name, func(t *testing.T) {
					synctest.Test(t, func(t *testing.T) {
						pctx, stopParent := context.WithCancel(context.Background())
						defer stopParent()
						outer, octx := cancel.Open(pctx)
						defer outer.Close(nil)
						var opts []cancel.Option
						if timed {
							opts = append(opts, cancel.WithTimeout(time.Minute))
						}
						s, sctx := cancel.Open(octx, opts...)
						defer s.Close(nil)
						child, stop := d.derive(sctx)
						defer stop()

						time.Sleep(time.Second) // a moment before the deadline
						c.cancel(s, outer, stopParent)
						if timed && (c.plain || d.async) {
							<-child.Done() // may take a goroutine's step
						}
						if err := child.Err(); err != context.Canceled {
							t.Errorf("derived ctx Err() = %v right after the cancellation, want context.Canceled", err)
						}
						if err := sctx.Err(); err != context.Canceled {
							t.Errorf("scope ctx Err() = %v, want context.Canceled", err)
						}
						if got, want := context.Cause(child), context.Cause(sctx); got != want {
							t.Errorf("context.Cause(derived) = %v, want the scope ctx's %v", got, want)
						}
						if c.name == "CancelWithCause" && context.Cause(child) != errBoom {
							t.Errorf("context.Cause(derived) = %v, want errBoom", context.Cause(child))
						}
					})
				})
			}
		}
	}
}

// TestDerivedNoGoroutine checks that deriving contexts from a scope's
// context, with or without a deadline, starts no goroutine, and that
// cancelling them all starts none that stays.
func TestDerivedNoGoroutine(t *testing.T) {
	tests := []struct {
		name   string
		opts   []cancel.Option
		derive func(ctx context.Context) (context.Context, context.CancelFunc)
	}{
		{"plain scope, WithCancel", nil, context.WithCancel},
		{"plain scope, WithCancel of WithValue", nil, func(ctx context.Context) (context.Context, context.CancelFunc) {
			return context.WithCancel(context.WithValue(ctx, derivedKey{}, 1))
		}},
		{"scope with a deadline, WithCancel", []cancel.Option{cancel.WithTimeout(time.Second)}, context.WithCancel},
		{"scope with a deadline, WithTimeout", []cancel.Option{cancel.WithTimeout(time.Second)}, func(ctx context.Context) (context.Context, context.CancelFunc) {
			return context.WithTimeout(ctx, time.Hour)
		}},
		{"scope with a deadline, AfterFunc", []cancel.Option{cancel.WithTimeout(time.Second)}, func(ctx context.Context) (context.Context, context.CancelFunc) {
			stop := context.AfterFunc(ctx, func() {})
			return ctx, func() { stop() }
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				parent, stopParent := context.WithCancel(context.Background())
				defer stopParent()
				s, sctx := cancel.Open(parent, tt.opts...)
				var children []context.Context
				var stops []context.CancelFunc
				for range 100 {
					c, stop := tt.derive(sctx)
					children = append(children, c)
					stops = append(stops, stop)
				}
				if got := contextGoroutines(); got != 0 {
					t.Errorf("%d goroutines of package context or cancel after deriving 100 contexts, want 0", got)
				}
				// Half are cancelled by their own cancel, half with the scope.
				for _, stop := range stops[:50] {
					stop()
				}
				s.Close(nil)
				for _, c := range children {
					<-c.Done()
				}
				synctest.Wait()
				if got := contextGoroutines(); got != 0 {
					t.Errorf("%d goroutines of package context or cancel after the scope closed, want 0", got)
				}
				for _, stop := range stops[50:] {
					stop()
				}
			})
		})
	}
}

// contextGoroutines counts the goroutines that package context or package
// cancel started and that are still there. (runtime.NumGoroutine would also
// count what other tests leave winding down.)
func contextGoroutines() int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	count := 0
	for line := range strings.Lines(string(buf)) {
		if strings.HasPrefix(line, "created by context.") || strings.HasPrefix(line, "created by github.com/tether-go/tether/cancel.") {
			count++
		}
	}
	return count
}

// TestHTTPClientInsideFailAfter is the case the rule exists for: an
// http.Client request inside FailAfter to a server that never answers must
// fail as a timeout, not as "context canceled".
func TestHTTPClientInsideFailAfter(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer srv.Close()
	defer close(release)
	client := srv.Client()

	var reqErr error
	err := cancel.FailAfter(context.Background(), 50*time.Millisecond, func(ctx context.Context) error {
		ctx = context.WithValue(ctx, derivedKey{}, "traced") // as httptrace does
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
			return errors.New("the request succeeded")
		}
		reqErr = err
		return err
	})
	if !errors.Is(reqErr, context.DeadlineExceeded) || strings.Contains(reqErr.Error(), "context canceled") {
		t.Errorf("http.Client.Do inside FailAfter = %v, want context.DeadlineExceeded and no \"context canceled\"", reqErr)
	}
	if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, cancel.ErrTimeout) || strings.Contains(err.Error(), "context canceled") {
		t.Errorf("FailAfter = %v, want ErrTimeout and context.DeadlineExceeded, not \"context canceled\"", err)
	}
	var timeout interface{ Timeout() bool }
	if !errors.As(err, &timeout) || !timeout.Timeout() {
		t.Errorf("FailAfter = %v: no Timeout() == true through errors.As, want one", err)
	}
}

// TestAfterFuncListEmpties checks that what attaches to a scope's context
// through AfterFunc leaves its list when it ends: derived contexts
// cancelled on their own, nested scopes closed, the watches of nested
// scopes on the enclosing one.
func TestAfterFuncListEmpties(t *testing.T) {
	tests := []struct {
		name  string
		outer []cancel.Option
		inner []cancel.Option
	}{
		{"timed outer, plain inner", []cancel.Option{cancel.WithTimeout(time.Hour)}, nil},
		{"timed outer, timed inner", []cancel.Option{cancel.WithTimeout(time.Hour)}, []cancel.Option{cancel.WithTimeout(time.Minute)}},
		{"plain outer, timed inner", nil, []cancel.Option{cancel.WithTimeout(time.Minute)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				parent, stopParent := context.WithCancel(context.Background())
				defer stopParent()
				outer, octx := cancel.Open(parent, tt.outer...)
				defer outer.Close(nil)
				for range 20 {
					inner, ictx := cancel.Open(octx, tt.inner...)
					for range 5 {
						_, stop := context.WithCancel(ictx)
						stop()
					}
					_, keep := context.WithCancel(ictx) // ended by Close
					if n := cancel.AfterFuncs(inner); tt.inner != nil && n != 1 {
						t.Fatalf("inner scope has %d functions registered with one derived context alive, want 1", n)
					}
					inner.Close(nil)
					keep()
				}
				if n := cancel.AfterFuncs(outer); n != 0 {
					t.Errorf("outer scope has %d functions registered after every inner scope closed, want 0", n)
				}
				if err := octx.Err(); err != nil {
					t.Errorf("outer ctx Err() = %v, want nil", err)
				}
			})
		})
	}
}

// TestDeriveRacesDeadline derives contexts while the scope's deadline ends
// it, from another goroutine: each must end, as DeadlineExceeded with the
// scope's cause, whether it attached before, during or after.
func TestDeriveRacesDeadline(t *testing.T) {
	for range 200 {
		s, sctx := cancel.Open(context.Background(), cancel.WithTimeout(time.Hour))
		children := make(chan context.Context, 20)
		var stops []context.CancelFunc // read after children is closed
		go func() {
			defer close(children)
			for i := range 20 {
				var c context.Context
				var stop context.CancelFunc
				switch i % 3 {
				case 0:
					c, stop = context.WithCancel(sctx)
				case 1:
					c, stop = context.WithTimeout(sctx, time.Hour)
				default:
					c, stop = context.WithValue(sctx, derivedKey{}, i), func() {}
				}
				stops = append(stops, stop)
				children <- c
			}
		}()
		s.SetDeadline(time.Now()) // passed: ends the scope at once
		cause := context.Cause(sctx)
		for c := range children {
			<-c.Done()
			if err := c.Err(); err != context.DeadlineExceeded {
				t.Fatalf("derived ctx Err() = %v, want context.DeadlineExceeded", err)
			}
			if got := context.Cause(c); got != cause {
				t.Fatalf("context.Cause(derived) = %v, want %v", got, cause)
			}
		}
		for _, stop := range stops {
			stop()
		}
		s.Close(nil)
	}
}

// TestFailAfterIsTimeout checks that FailAfter's error passes the checks
// written for net.Error and os.IsTimeout, as context.DeadlineExceeded does.
func TestFailAfterIsTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		err := cancel.FailAfter(context.Background(), time.Second, func(ctx context.Context) error {
			return cancel.Sleep(ctx, time.Hour)
		})
		if !errors.Is(err, cancel.ErrTimeout) {
			t.Fatalf("FailAfter = %v, want ErrTimeout", err)
		}
		var te interface{ Timeout() bool }
		if !errors.As(err, &te) || !te.Timeout() {
			t.Errorf("errors.As(%v, Timeout() bool) finds none reporting true, want one", err)
		}
		if !os.IsTimeout(err) {
			t.Errorf("os.IsTimeout(%v) = false, want true", err)
		}
		if wrapped := fmt.Errorf("fetch: %w", err); !errors.As(wrapped, &te) || !te.Timeout() {
			t.Errorf("a wrapped ErrTimeout has no Timeout() == true, want one")
		}
	})
}

// TestDerivedStress races every operation on nested scopes with deadlines
// against deriving contexts from them, and checks that each derived
// context ends, with an error that matches its scope's, and that nothing
// deadlocks or panics (a function run before its scope's context is done
// would make package context panic: "missing cancel error").
func TestDerivedStress(t *testing.T) {
	ops := []func(outer, inner *cancel.Scope, stopParent func()){
		func(outer, inner *cancel.Scope, stopParent func()) { inner.Cancel() },
		func(outer, inner *cancel.Scope, stopParent func()) { outer.Cancel() },
		func(outer, inner *cancel.Scope, stopParent func()) { inner.SetDeadline(time.Now()) },
		func(outer, inner *cancel.Scope, stopParent func()) { outer.SetDeadline(time.Now()) },
		func(outer, inner *cancel.Scope, stopParent func()) { inner.Close(nil) },
		func(outer, inner *cancel.Scope, stopParent func()) { stopParent() },
	}
	for i := range 300 {
		parent, stopParent := context.WithCancel(context.Background())
		outer, octx := cancel.Open(parent, cancel.WithTimeout(time.Hour))
		inner, ictx := cancel.Open(context.WithValue(octx, derivedKey{}, i), cancel.WithTimeout(time.Hour))
		type derived struct{ ctx, from context.Context }
		children := make(chan derived, 30)
		var stops []context.CancelFunc // read after children is closed
		go func() {
			defer close(children)
			for j := range 30 {
				var d derived
				var stop context.CancelFunc
				switch j % 3 {
				case 0:
					d.from = ictx
					d.ctx, stop = context.WithCancel(ictx)
				case 1:
					d.from = octx
					d.ctx, stop = context.WithTimeout(octx, time.Hour)
				default: // cancelled by a function registered with AfterFunc
					d.ctx, stop = context.WithCancel(context.Background())
					context.AfterFunc(ictx, stop)
				}
				stops = append(stops, stop)
				children <- d
			}
		}()
		ops[i%len(ops)](outer, inner, stopParent)
		ops[(i/len(ops))%len(ops)](outer, inner, stopParent)
		inner.Close(nil)
		outer.Close(nil)
		for d := range children {
			<-d.ctx.Done()
			want := context.Canceled
			if d.from != nil {
				want = d.from.Err()
			}
			if err := d.ctx.Err(); err != want {
				t.Fatalf("derived ctx Err() = %v, want %v, its parent's", err, want)
			}
		}
		if err := ictx.Err(); err == nil {
			t.Fatal("inner ctx not done after Close")
		}
		for _, stop := range stops {
			stop()
		}
		stopParent()
	}
}
