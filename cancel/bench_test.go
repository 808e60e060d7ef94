package cancel_test

import (
	"context"
	"testing"
	"time"

	"github.com/tether-go/tether/cancel"
)

// Each benchmark pairs tether's scope (impl=tether) with the plain context
// calls that do the same work (impl=context), so that
// benchstat -col /impl prints the ratio. The parent is cancellable, so that
// both register with it.

func BenchmarkScope(b *testing.B) {
	parent, stop := context.WithCancel(context.Background())
	defer stop()
	b.Run("impl=tether", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			s, _ := cancel.Open(parent)
			s.Close(nil)
		}
	})
	b.Run("impl=context", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, cancel := context.WithCancel(parent)
			cancel()
		}
	})
}

func BenchmarkScopeTimeout(b *testing.B) {
	parent, stop := context.WithCancel(context.Background())
	defer stop()
	b.Run("impl=tether", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			s, _ := cancel.Open(parent, cancel.WithTimeout(time.Minute))
			s.Close(nil)
		}
	})
	b.Run("impl=context", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, cancel := context.WithTimeout(parent, time.Minute)
			cancel()
		}
	})
}

func BenchmarkRun(b *testing.B) {
	parent, stop := context.WithCancel(context.Background())
	defer stop()
	fn := func(ctx context.Context) error { return nil }
	b.Run("impl=tether", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = cancel.Run(parent, fn)
		}
	})
	b.Run("impl=context", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			ctx, cancel := context.WithCancel(parent)
			_ = fn(ctx)
			cancel()
		}
	})
}

func BenchmarkCheckpoint(b *testing.B) {
	s, ctx := cancel.Open(context.Background())
	defer s.Close(nil)
	plain, stop := context.WithCancel(context.Background())
	defer stop()
	b.Run("impl=tether", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if cancel.Checkpoint(ctx) != nil {
				b.Fatal("cancelled")
			}
		}
	})
	b.Run("impl=context", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if plain.Err() != nil {
				b.Fatal("cancelled")
			}
		}
	})
}

// BenchmarkDerive measures deriving a context from a scope's context (and
// cancelling it) against deriving one from the plain context that does the
// same: with no deadline, it attaches directly, as to a plain context; with
// a deadline, through the scope context's AfterFunc (cancel/context.go).
func BenchmarkDerive(b *testing.B) {
	for _, bc := range []struct {
		name string
		opts []cancel.Option
	}{
		{"scope=plain", nil},
		{"scope=deadline", []cancel.Option{cancel.WithTimeout(time.Hour)}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			s, sctx := cancel.Open(context.Background(), bc.opts...)
			defer s.Close(nil)
			plain, stop := context.WithTimeout(context.Background(), time.Hour)
			defer stop()
			b.Run("impl=tether", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					_, cancel := context.WithCancel(sctx)
					cancel()
				}
			})
			b.Run("impl=context", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					_, cancel := context.WithCancel(plain)
					cancel()
				}
			})
		})
	}
}
