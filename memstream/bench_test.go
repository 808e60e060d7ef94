package memstream_test

import (
	"context"
	"errors"
	"io"
	"net"
	"testing"

	"github.com/tether-go/tether/memstream"
)

// benchTransfer sends b.N values from one goroutine to another through a
// stream of the given capacity. Both sides use a ctx that can be
// cancelled, as real code does.
func benchTransfer(b *testing.B, capacity int) {
	ctx, cancelCtx := context.WithCancel(context.Background())
	defer cancelCtx()
	s, r := memstream.New[int](capacity)
	defer r.Close()
	b.ReportAllocs()
	b.ResetTimer()
	go func() {
		defer s.Close()
		for i := range b.N {
			if err := s.Send(ctx, i); err != nil {
				panic(err)
			}
		}
	}()
	for range b.N {
		if _, err := r.Receive(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// chanTransfer is benchTransfer's plain-Go peer: a channel, with a select
// on ctx.Done() on both sides.
func chanTransfer(b *testing.B, capacity int) {
	ctx, cancelCtx := context.WithCancel(context.Background())
	defer cancelCtx()
	c := make(chan int, capacity)
	b.ReportAllocs()
	b.ResetTimer()
	go func() {
		for i := range b.N {
			select {
			case c <- i:
			case <-ctx.Done():
				panic(ctx.Err())
			}
		}
	}()
	for range b.N {
		select {
		case <-c:
		case <-ctx.Done():
			b.Fatal(ctx.Err())
		}
	}
}

// BenchmarkBuffered: one producer, one consumer, capacity 128.
func BenchmarkBuffered(b *testing.B) {
	b.Run("impl=tether", func(b *testing.B) { benchTransfer(b, 128) })
	b.Run("impl=chan", func(b *testing.B) { chanTransfer(b, 128) })
}

// BenchmarkRendezvous: one producer, one consumer, capacity 0.
func BenchmarkRendezvous(b *testing.B) {
	b.Run("impl=tether", func(b *testing.B) { benchTransfer(b, 0) })
	b.Run("impl=chan", func(b *testing.B) { chanTransfer(b, 0) })
}

// BenchmarkTrySendReceive: one goroutine sends a value and takes it back,
// never blocking.
func BenchmarkTrySendReceive(b *testing.B) {
	b.Run("impl=tether", func(b *testing.B) {
		s, r := memstream.New[int](1)
		defer s.Close()
		defer r.Close()
		b.ReportAllocs()
		for i := range b.N {
			if err := s.TrySend(i); err != nil {
				b.Fatal(err)
			}
			if _, err := r.TryReceive(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("impl=chan", func(b *testing.B) {
		c := make(chan int, 1)
		b.ReportAllocs()
		for i := range b.N {
			select {
			case c <- i:
			default:
				b.Fatal("would block")
			}
			select {
			case <-c:
			default:
				b.Fatal("would block")
			}
		}
	})
}

// BenchmarkPipe: 64 KiB sends through a pipe, received into a 64 KiB
// buffer.
func BenchmarkPipe(b *testing.B) {
	const size = 64 << 10
	b.Run("impl=tether", func(b *testing.B) {
		ctx, cancelCtx := context.WithCancel(context.Background())
		defer cancelCtx()
		x, y := memstream.Pipe()
		defer y.Close()
		b.SetBytes(size)
		b.ReportAllocs()
		msg, buf := make([]byte, size), make([]byte, size)
		b.ResetTimer()
		go func() {
			defer x.Close()
			for range b.N {
				if err := x.Send(ctx, msg); err != nil {
					panic(err)
				}
			}
		}()
		for {
			_, err := y.Receive(ctx, buf)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("impl=netpipe", func(b *testing.B) {
		x, y := net.Pipe()
		defer y.Close()
		b.SetBytes(size)
		b.ReportAllocs()
		msg, buf := make([]byte, size), make([]byte, size)
		b.ResetTimer()
		go func() {
			defer x.Close()
			for range b.N {
				if _, err := x.Write(msg); err != nil {
					panic(err)
				}
			}
		}()
		for {
			_, err := y.Read(buf)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
		}
	})
}
