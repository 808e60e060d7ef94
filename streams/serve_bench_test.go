package streams_test

import (
	"context"
	"sync"
	"testing"

	"github.com/tether-go/tether/memstream"
	"github.com/tether-go/tether/streams"
)

// BenchmarkServe measures the cost per connection of Serve on the
// in-memory listener, against a bare accept loop that starts a goroutine
// per connection and closes the connection after the handler: dial,
// accept, run an empty handler, close.
func BenchmarkServe(b *testing.B) {
	ctx := context.Background()
	handler := func(context.Context, streams.ByteStream) error { return nil }
	dialAll := func(b *testing.B, l *memstream.Listener) {
		for b.Loop() {
			c, err := l.Dial(ctx)
			if err != nil {
				b.Fatal(err)
			}
			c.Close()
		}
	}

	b.Run("impl=tether", func(b *testing.B) {
		b.ReportAllocs()
		l := memstream.Listen()
		done := make(chan error, 1)
		go func() { done <- streams.Serve(ctx, l, handler, nil) }()
		dialAll(b, l)
		l.Close()
		if err := <-done; err != nil {
			b.Fatal(err)
		}
	})

	b.Run("impl=goroutine", func(b *testing.B) {
		b.ReportAllocs()
		l := memstream.Listen()
		done := make(chan struct{})
		go func() {
			defer close(done)
			var wg sync.WaitGroup
			defer wg.Wait()
			for {
				c, err := l.Accept(ctx)
				if err != nil {
					return
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					defer c.Close()
					_ = handler(ctx, c)
				}()
			}
		}()
		dialAll(b, l)
		l.Close()
		<-done
	})
}
