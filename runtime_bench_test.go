package tether_test

import (
	"context"
	"os"
	"os/signal"
	"syscall"
	"testing"

	"golang.org/x/sync/errgroup"

	"github.com/tether-go/tether"
	"github.com/tether-go/tether/taskgroup"
)

// BenchmarkRun measures a whole Run with one task: signal registration,
// the group and its goroutine. The peer is what people write by hand:
// signal.NotifyContext around an errgroup.
func BenchmarkRun(b *testing.B) {
	task := func(context.Context) error { return nil }
	b.Run("impl=tether", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			err := tether.Run(context.Background(), func(ctx context.Context, g *taskgroup.Group) error {
				g.Go(task)
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("impl=notifycontext", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			g, _ := errgroup.WithContext(ctx)
			g.Go(func() error { return task(ctx) })
			err := g.Wait()
			stop()
			if err != nil {
				b.Fatal(err)
			}
		}
	})
}
