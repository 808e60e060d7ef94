package taskgroup_test

// The tests of golang.org/x/sync/errgroup, ported to taskgroup's API.

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tether-go/tether/taskgroup"
)

func TestFirstError(t *testing.T) {
	err1 := errors.New("taskgroup_test: 1")
	err2 := errors.New("taskgroup_test: 2")
	tests := []struct {
		name string
		errs []error
		want error
	}{
		{name: "none"},
		{name: "nil", errs: []error{nil}},
		{name: "one", errs: []error{err1}, want: err1},
		{name: "one and nil", errs: []error{err1, nil}, want: err1},
		{name: "nil and one", errs: []error{nil, err1, nil}, want: err1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, _ := taskgroup.New(context.Background())
			for _, err := range tt.errs {
				g.Go(func(context.Context) error { return err })
			}
			if got := g.Wait(); got != tt.want {
				t.Errorf("Wait() = %v, want %v", got, tt.want)
			}
		})
	}
	// Unlike errgroup, a second failure is not dropped: both come back,
	// first failure first.
	t.Run("two", func(t *testing.T) {
		g, _ := taskgroup.New(context.Background())
		g.Go(func(context.Context) error { return err1 })
		if got := g.Wait(); got != err1 {
			t.Fatalf("Wait() = %v, want %v", got, err1)
		}
		g, _ = taskgroup.New(context.Background())
		first := make(chan struct{})
		g.Go(func(context.Context) error { defer close(first); return err1 })
		g.Go(func(context.Context) error { <-first; return err2 })
		err := g.Wait()
		joined, ok := err.(interface{ Unwrap() []error })
		if !ok {
			t.Fatalf("Wait() = %v, want two errors joined", err)
		}
		if got := joined.Unwrap(); len(got) != 2 || got[0] != err1 || got[1] != err2 {
			t.Errorf("Wait().Unwrap() = %v, want [%v %v]", got, err1, err2)
		}
	})
}

// errgroup's TestZeroGroup, less its Go after Wait (which panics here):
// the zero Group collects its tasks' errors.
func TestZeroGroupErrors(t *testing.T) {
	err1 := errors.New("taskgroup_test: 1")
	err2 := errors.New("taskgroup_test: 2")
	tests := []struct {
		name string
		errs []error
	}{
		{name: "none"},
		{name: "nil", errs: []error{nil}},
		{name: "one", errs: []error{err1}},
		{name: "one and nil", errs: []error{err1, nil}},
		{name: "two and nil", errs: []error{err1, nil, err2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var g taskgroup.Group
			var want []error
			for _, err := range tt.errs {
				g.Go(func(context.Context) error { return err })
				if err != nil {
					want = append(want, err)
				}
			}
			err := g.Wait()
			if len(want) == 0 && err != nil {
				t.Errorf("Wait() = %v, want nil", err)
			}
			for _, w := range want {
				if !errors.Is(err, w) {
					t.Errorf("Wait() = %v, want it to hold %v", err, w)
				}
			}
		})
	}
}

func TestWithContext(t *testing.T) {
	errDoom := errors.New("group_test: doomed")
	tests := []struct {
		name string
		errs []error
		want error
	}{
		{name: "none"},
		{name: "nil", errs: []error{nil}},
		{name: "doom", errs: []error{errDoom}, want: errDoom},
		{name: "doom and nil", errs: []error{errDoom, nil}, want: errDoom},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, ctx := taskgroup.New(context.Background())
			for _, err := range tt.errs {
				g.Go(func(context.Context) error { return err })
			}
			if got := g.Wait(); got != tt.want {
				t.Errorf("Wait() = %v, want %v", got, tt.want)
			}
			select {
			case <-ctx.Done():
			default:
				t.Error("ctx.Done() not closed after Wait")
			}
		})
	}
}

func TestTryGo(t *testing.T) {
	const n = 42
	ch := make(chan struct{})
	fn := func(context.Context) error {
		ch <- struct{}{}
		return nil
	}
	drain := func(k int) {
		go func() {
			for range k {
				<-ch
			}
		}()
	}

	g, _ := taskgroup.New(context.Background())
	g.SetLimit(n)
	for i := range n {
		if !g.TryGo(fn) {
			t.Fatalf("TryGo #%d = false, want true", i)
		}
	}
	if g.TryGo(fn) {
		t.Fatal("TryGo over the limit = true, want false")
	}
	drain(n)
	if err := g.Wait(); err != nil {
		t.Fatalf("Wait() = %v", err)
	}

	// A group is not reusable after Wait (errgroup's is): take a new one.
	g, _ = taskgroup.New(context.Background())
	g.SetLimit(1)
	if !g.TryGo(fn) {
		t.Fatal("TryGo with limit 1 = false, want true")
	}
	if g.TryGo(fn) {
		t.Fatal("second TryGo with limit 1 = true, want false")
	}
	drain(1)
	g.Wait()

	g, _ = taskgroup.New(context.Background())
	g.SetLimit(0)
	for range 1 << 10 {
		if g.TryGo(fn) {
			t.Fatal("TryGo with limit 0 = true, want false")
		}
	}
	g.Wait()
}

func TestGoLimit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const limit = 10
		g, _ := taskgroup.New(context.Background())
		g.SetLimit(limit)
		var active, peak atomic.Int32
		for range 1 << 10 {
			g.Go(func(context.Context) error {
				n := active.Add(1)
				if n > limit {
					return fmt.Errorf("saw %d active goroutines; want ≤ %d", n, limit)
				}
				for {
					p := peak.Load()
					if n <= p || peak.CompareAndSwap(p, n) {
						break
					}
				}
				time.Sleep(time.Microsecond) // fake time: lets the others pile up
				active.Add(-1)
				return nil
			})
		}
		if err := g.Wait(); err != nil {
			t.Fatal(err)
		}
		if p := peak.Load(); p != limit {
			t.Errorf("peak of running tasks = %d, want %d", p, limit)
		}
	})
}

func TestCancelCause(t *testing.T) {
	errDoom := errors.New("group_test: doomed")
	tests := []struct {
		name string
		errs []error
		want error
	}{
		{name: "none"},
		{name: "nil", errs: []error{nil}},
		{name: "doom", errs: []error{errDoom}, want: errDoom},
		{name: "doom and nil", errs: []error{errDoom, nil}, want: errDoom},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, ctx := taskgroup.New(context.Background())
			for _, err := range tt.errs {
				g.TryGo(func(context.Context) error { return err })
			}
			if got := g.Wait(); got != tt.want {
				t.Errorf("Wait() = %v, want %v", got, tt.want)
			}
			cause := context.Cause(ctx)
			if tt.want != nil && cause != tt.want {
				t.Errorf("context.Cause(ctx) = %v, want %v", cause, tt.want)
			}
			if tt.want == nil && !errors.Is(cause, context.Canceled) {
				t.Errorf("context.Cause(ctx) = %v, want a context.Canceled", cause)
			}
		})
	}
}
