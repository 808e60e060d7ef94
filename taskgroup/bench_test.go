package taskgroup_test

import (
	"context"
	"runtime/pprof"
	"sync"
	"testing"

	"golang.org/x/sync/errgroup"

	"github.com/tether-go/tether/taskgroup"
)

// batch is how many tasks BenchmarkSpawnWait starts before each Wait.
const batch = 1000

// BenchmarkSpawnWait measures the cost of one task: each op starts one, and
// every batch of them is waited for.
func BenchmarkSpawnWait(b *testing.B) {
	task := func(context.Context) error { return nil }
	b.Run("impl=tether", func(b *testing.B) {
		b.ReportAllocs()
		g, _ := taskgroup.New(context.Background())
		n := 0
		for b.Loop() {
			g.Go(task)
			if n++; n == batch {
				g.Wait()
				g, _ = taskgroup.New(context.Background())
				n = 0
			}
		}
		g.Wait()
	})
	b.Run("impl=errgroup", func(b *testing.B) {
		b.ReportAllocs()
		plain := func() error { return nil }
		g, _ := errgroup.WithContext(context.Background())
		n := 0
		for b.Loop() {
			g.Go(plain)
			if n++; n == batch {
				g.Wait()
				g, _ = errgroup.WithContext(context.Background())
				n = 0
			}
		}
		g.Wait()
	})
	b.Run("impl=waitgroup", func(b *testing.B) {
		b.ReportAllocs()
		plain := func() error { return nil }
		var wg sync.WaitGroup
		n := 0
		for b.Loop() {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_ = plain()
			}()
			if n++; n == batch {
				wg.Wait()
				n = 0
			}
		}
		wg.Wait()
	})
}

// BenchmarkGoNamed measures the cost of one named task, as
// BenchmarkSpawnWait does for an unnamed one, against errgroup's Go with
// the task's function run under the same runtime/pprof labels by hand.
// GoNamed does more: it records where the task was started (the label
// "started") and lists the task for [taskgroup.Tasks] while it runs.
func BenchmarkGoNamed(b *testing.B) {
	b.Run("impl=tether", func(b *testing.B) {
		b.ReportAllocs()
		task := func(context.Context) error { return nil }
		g, _ := taskgroup.New(context.Background(), taskgroup.Named("server"))
		n := 0
		for b.Loop() {
			g.GoNamed("handler", task)
			if n++; n == batch {
				g.Wait()
				g, _ = taskgroup.New(context.Background(), taskgroup.Named("server"))
				n = 0
			}
		}
		g.Wait()
	})
	b.Run("impl=errgroup", func(b *testing.B) {
		b.ReportAllocs()
		task := func(context.Context) error { return nil }
		g, ctx := errgroup.WithContext(context.Background())
		n := 0
		for b.Loop() {
			g.Go(func() (err error) {
				pprof.Do(ctx, pprof.Labels("group", "server", "task", "handler"), func(ctx context.Context) {
					err = task(ctx)
				})
				return err
			})
			if n++; n == batch {
				g.Wait()
				g, ctx = errgroup.WithContext(context.Background())
				n = 0
			}
		}
		g.Wait()
	})
}

// BenchmarkGroup10 measures a whole group's life: open it, run ten tasks,
// wait.
func BenchmarkGroup10(b *testing.B) {
	parent, stop := context.WithCancel(context.Background())
	defer stop()
	b.Run("impl=tether", func(b *testing.B) {
		b.ReportAllocs()
		task := func(context.Context) error { return nil }
		for b.Loop() {
			_ = taskgroup.Run(parent, func(ctx context.Context, g *taskgroup.Group) error {
				for range 10 {
					g.Go(task)
				}
				return nil
			})
		}
	})
	b.Run("impl=errgroup", func(b *testing.B) {
		b.ReportAllocs()
		task := func() error { return nil }
		for b.Loop() {
			g, _ := errgroup.WithContext(parent)
			for range 10 {
				g.Go(task)
			}
			_ = g.Wait()
		}
	})
}

// BenchmarkStart measures Start, a task that reports back once started,
// against the hand-written goroutine and channel that do the same.
func BenchmarkStart(b *testing.B) {
	b.Run("impl=tether", func(b *testing.B) {
		b.ReportAllocs()
		g, _ := taskgroup.New(context.Background())
		fn := func(ctx context.Context, started func(int)) error { started(1); return nil }
		n := 0
		for b.Loop() {
			_, _ = taskgroup.Start(context.Background(), g, fn)
			if n++; n == batch {
				g.Wait()
				g, _ = taskgroup.New(context.Background())
				n = 0
			}
		}
		g.Wait()
	})
	b.Run("impl=gochan", func(b *testing.B) {
		b.ReportAllocs()
		var wg sync.WaitGroup
		n := 0
		for b.Loop() {
			ready := make(chan int, 1)
			wg.Add(1)
			go func() {
				defer wg.Done()
				ready <- 1
			}()
			<-ready
			if n++; n == batch {
				wg.Wait()
				n = 0
			}
		}
		wg.Wait()
	})
}
