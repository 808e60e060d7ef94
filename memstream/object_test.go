package memstream_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"testing/synctest"

	"github.com/tether-go/tether/memstream"
	"github.com/tether-go/tether/streams"
)

func TestNewCapacity(t *testing.T) {
	tests := []struct {
		name      string
		capacity  int
		wantPanic bool
	}{
		{name: "rendezvous", capacity: 0},
		{name: "one", capacity: 1},
		{name: "unbounded", capacity: memstream.Unbounded},
		{name: "minus two", capacity: -2, wantPanic: true},
		{name: "very negative", capacity: -1 << 40, wantPanic: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				r := recover()
				switch {
				case tt.wantPanic && r == nil:
					t.Fatalf("New(%d) did not panic", tt.capacity)
				case tt.wantPanic && !strings.HasPrefix(fmt.Sprint(r), "memstream: "):
					t.Fatalf("New(%d) panicked with %q, want a \"memstream: \" message", tt.capacity, r)
				case !tt.wantPanic && r != nil:
					t.Fatalf("New(%d) panicked: %v", tt.capacity, r)
				}
			}()
			s, r := memstream.New[int](tt.capacity)
			if got := s.Stats().BufferSize; got != tt.capacity {
				t.Errorf("BufferSize = %d, want %d", got, tt.capacity)
			}
			s.Close()
			r.Close()
		})
	}
}

// AnyIO: test_receive_then_send.
func TestReceiveThenSend(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		s, r := memstream.New[string](0)
		defer s.Close()
		defer r.Close()
		got := async(func() ([]string, error) {
			a, err := r.Receive(ctx)
			if err != nil {
				return nil, err
			}
			b, err := r.Receive(ctx)
			return []string{a, b}, err
		})
		synctest.Wait()
		for _, v := range []string{"hello", "tether"} {
			if err := s.Send(ctx, v); err != nil {
				t.Fatalf("Send(%q) = %v, want nil", v, err)
			}
		}
		res := <-got
		if res.err != nil || strings.Join(res.v, ",") != "hello,tether" {
			t.Errorf("received %q, %v; want [hello tether], nil", res.v, res.err)
		}
	})
}

// AnyIO: test_receive_then_send_nowait; blocked receivers are served in
// the order they started waiting.
func TestReceiveThenTrySend(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		s, r := memstream.New[string](0)
		defer s.Close()
		defer r.Close()
		first := async(func() (string, error) { return r.Receive(ctx) })
		synctest.Wait()
		second := async(func() (string, error) { return r.Receive(ctx) })
		synctest.Wait()
		for _, v := range []string{"hello", "tether"} {
			if err := s.TrySend(v); err != nil {
				t.Fatalf("TrySend(%q) = %v, want nil", v, err)
			}
		}
		if res := <-first; res.v != "hello" || res.err != nil {
			t.Errorf("first receiver got %q, %v; want hello, nil", res.v, res.err)
		}
		if res := <-second; res.v != "tether" || res.err != nil {
			t.Errorf("second receiver got %q, %v; want tether, nil", res.v, res.err)
		}
	})
}

// AnyIO: test_send_then_receive_nowait.
func TestSendThenTryReceive(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, r := memstream.New[string](0)
		defer s.Close()
		defer r.Close()
		sent := asyncErr(func() error { return s.Send(context.Background(), "hello") })
		synctest.Wait()
		if v, err := r.TryReceive(); v != "hello" || err != nil {
			t.Errorf("TryReceive() = %q, %v; want hello, nil", v, err)
		}
		if err := <-sent; err != nil {
			t.Errorf("Send = %v, want nil", err)
		}
	})
}

// AnyIO: test_send_is_unblocked_after_receive_nowait.
func TestSendUnblockedAfterTryReceive(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, r := memstream.New[string](1)
		defer s.Close()
		defer r.Close()
		if err := s.TrySend("hello"); err != nil {
			t.Fatalf("TrySend = %v, want nil", err)
		}
		sent := asyncErr(func() error { return s.Send(context.Background(), "tether") })
		synctest.Wait()
		if !pending(sent) {
			t.Fatal("Send into a full buffer returned without waiting")
		}
		if v, err := r.TryReceive(); v != "hello" || err != nil {
			t.Errorf("TryReceive() = %q, %v; want hello, nil", v, err)
		}
		if err := <-sent; err != nil {
			t.Errorf("Send = %v, want nil", err)
		}
		if v, err := r.TryReceive(); v != "tether" || err != nil {
			t.Errorf("TryReceive() = %q, %v; want tether, nil", v, err)
		}
	})
}

// AnyIO: test_send_nowait_then_receive_nowait; also TrySend and
// TryReceive report ErrWouldBlock instead of waiting.
func TestTrySendTryReceive(t *testing.T) {
	s, r := memstream.New[string](2)
	defer s.Close()
	defer r.Close()
	if _, err := r.TryReceive(); !errors.Is(err, streams.ErrWouldBlock) {
		t.Errorf("TryReceive on an empty stream = %v, want ErrWouldBlock", err)
	}
	for _, v := range []string{"hello", "tether"} {
		if err := s.TrySend(v); err != nil {
			t.Fatalf("TrySend(%q) = %v, want nil", v, err)
		}
	}
	if err := s.TrySend("full"); !errors.Is(err, streams.ErrWouldBlock) {
		t.Errorf("TrySend into a full buffer = %v, want ErrWouldBlock", err)
	}
	for _, want := range []string{"hello", "tether"} {
		if v, err := r.TryReceive(); v != want || err != nil {
			t.Errorf("TryReceive() = %q, %v; want %q, nil", v, err, want)
		}
	}
	if _, err := r.TryReceive(); !errors.Is(err, streams.ErrWouldBlock) {
		t.Errorf("TryReceive after draining = %v, want ErrWouldBlock", err)
	}
}

// AnyIO: test_iterate.
func TestAll(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		s, r := memstream.New[string](0)
		defer r.Close()
		got := async(func() ([]string, error) {
			var out []string
			for v := range r.All(ctx) {
				out = append(out, v)
			}
			return out, nil
		})
		for _, v := range []string{"hello", "tether"} {
			if err := s.Send(ctx, v); err != nil {
				t.Fatalf("Send(%q) = %v, want nil", v, err)
			}
		}
		s.Close()
		if res := <-got; strings.Join(res.v, ",") != "hello,tether" {
			t.Errorf("All yielded %q, want [hello tether]", res.v)
		}
	})
}

func TestAllStops(t *testing.T) {
	t.Run("break takes nothing more", func(t *testing.T) {
		s, r := memstream.New[int](memstream.Unbounded)
		defer s.Close()
		defer r.Close()
		for i := range 3 {
			s.TrySend(i)
		}
		for v := range r.All(context.Background()) {
			if v != 0 {
				t.Fatalf("first value = %d, want 0", v)
			}
			break
		}
		if got := r.Stats().BufferUsed; got != 2 {
			t.Errorf("BufferUsed after break = %d, want 2", got)
		}
	})
	t.Run("ctx cancelled", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			s, r := memstream.New[int](0)
			defer s.Close()
			defer r.Close()
			ctx, cancelCtx := context.WithCancel(context.Background())
			n := async(func() (int, error) {
				n := 0
				for range r.All(ctx) {
					n++
				}
				return n, ctx.Err()
			})
			s.Send(context.Background(), 1)
			synctest.Wait()
			cancelCtx()
			res := <-n
			if res.v != 1 || !errors.Is(res.err, context.Canceled) {
				t.Errorf("All yielded %d values then ctx.Err() = %v; want 1, context.Canceled", res.v, res.err)
			}
		})
	})
}

// Values and waiters are both first in, first out.
func TestFIFO(t *testing.T) {
	tests := []struct {
		name     string
		capacity int
	}{
		{name: "rendezvous", capacity: 0},
		{name: "buffered", capacity: 3},
		{name: "unbounded", capacity: memstream.Unbounded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ctx := context.Background()
				s, r := memstream.New[int](tt.capacity)
				defer s.Close()
				defer r.Close()
				// Senders that block, one after the other.
				var sent []<-chan error
				for i := range 6 {
					sent = append(sent, asyncErr(func() error { return s.Send(ctx, i) }))
					synctest.Wait()
				}
				for want := range 6 {
					if v, err := r.Receive(ctx); v != want || err != nil {
						t.Errorf("Receive = %d, %v; want %d, nil", v, err, want)
					}
				}
				for i, c := range sent {
					if err := <-c; err != nil {
						t.Errorf("Send(%d) = %v", i, err)
					}
				}
				// Receivers that block, one after the other.
				var got []<-chan result[int]
				for range 4 {
					got = append(got, async(func() (int, error) { return r.Receive(ctx) }))
					synctest.Wait()
				}
				for i := range 4 {
					if err := s.Send(ctx, 10+i); err != nil {
						t.Errorf("Send = %v", err)
					}
				}
				for i, c := range got {
					if res := <-c; res.v != 10+i || res.err != nil {
						t.Errorf("receiver %d got %d, %v; want %d, nil", i, res.v, res.err, 10+i)
					}
				}
			})
		})
	}
}

// The zero value is a value like any other (AnyIO #731).
func TestZeroValue(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		s, r := memstream.New[error](0)
		defer s.Close()
		defer r.Close()
		got := async(func() (error, error) { return r.Receive(ctx) })
		synctest.Wait()
		if err := s.Send(ctx, nil); err != nil {
			t.Fatalf("Send(nil) = %v, want nil", err)
		}
		if res := <-got; res.v != nil || res.err != nil {
			t.Errorf("Receive = %v, %v; want nil, nil", res.v, res.err)
		}
		if _, err := r.TryReceive(); !errors.Is(err, streams.ErrWouldBlock) {
			t.Errorf("TryReceive = %v, want ErrWouldBlock: one zero value sent, one received", err)
		}
	})
}

func TestUnboundedNeverBlocks(t *testing.T) {
	s, r := memstream.New[int](memstream.Unbounded)
	defer s.Close()
	defer r.Close()
	const n = 10000
	for i := range n {
		if err := s.TrySend(i); err != nil {
			t.Fatalf("TrySend(%d) = %v, want nil", i, err)
		}
	}
	if got := s.Stats(); got.BufferUsed != n || got.BufferSize != memstream.Unbounded {
		t.Errorf("Stats() = %+v, want BufferUsed %d, BufferSize Unbounded", got, n)
	}
	for i := range n {
		if v, err := r.TryReceive(); v != i || err != nil {
			t.Fatalf("TryReceive = %d, %v; want %d, nil", v, err, i)
		}
	}
}

// AnyIO: test_statistics.
func TestStats(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		s, r := memstream.New[struct{}](1)
		defer s.Close()
		defer r.Close()
		want := memstream.Stats{BufferSize: 1, OpenSenders: 1, OpenReceivers: 1}
		check := func(step string, used, waitSend, waitRecv int) {
			t.Helper()
			want.BufferUsed, want.WaitingSend, want.WaitingReceive = used, waitSend, waitRecv
			for _, got := range []memstream.Stats{s.Stats(), r.Stats()} {
				if got != want {
					t.Errorf("%s: Stats() = %+v, want %+v", step, got, want)
				}
			}
		}
		check("new", 0, 0, 0)

		s.TrySend(struct{}{})
		check("one buffered", 1, 0, 0)
		sent := asyncErr(func() error { return s.Send(ctx, struct{}{}) })
		synctest.Wait()
		check("one sender waiting", 1, 1, 0)
		r.TryReceive()
		check("waiting value moved into the buffer", 1, 0, 0)
		<-sent
		r.TryReceive()
		check("drained", 0, 0, 0)

		got := async(func() (struct{}, error) { return r.Receive(ctx) })
		synctest.Wait()
		check("one receiver waiting", 0, 0, 1)
		s.TrySend(struct{}{})
		check("receiver served", 0, 0, 0)
		<-got

		s.TrySend(struct{}{})
		var senders []<-chan error
		for range 3 {
			senders = append(senders, asyncErr(func() error { return s.Send(ctx, struct{}{}) }))
		}
		synctest.Wait()
		check("three senders waiting", 1, 3, 0)
		for i := 2; i >= 0; i-- {
			r.TryReceive()
			check(fmt.Sprintf("%d senders left", i), 1, i, 0)
		}
		r.TryReceive()
		check("drained again", 0, 0, 0)
		for _, c := range senders {
			if err := <-c; err != nil {
				t.Errorf("Send = %v", err)
			}
		}
	})
}

func TestZeroAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector makes sync.Pool drop values")
	}
	tests := []struct {
		name     string
		capacity int
	}{
		{name: "rendezvous", capacity: 0},
		{name: "buffered", capacity: 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancelCtx := context.WithCancel(context.Background())
			defer cancelCtx()
			s, r := memstream.New[int](tt.capacity)
			defer r.Close()
			start, done := make(chan struct{}), make(chan struct{})
			go func() {
				defer close(done)
				for range start {
					for i := range 100 {
						s.Send(ctx, i)
					}
				}
			}()
			allocs := testing.AllocsPerRun(50, func() {
				start <- struct{}{}
				for range 100 {
					r.Receive(ctx)
				}
			})
			close(start)
			<-done
			s.Close()
			// Each run sends 100 values; a few pooled waiters lost to a GC
			// are allowed, one allocation per value is not.
			if allocs >= 1 {
				t.Errorf("%v allocations per 100 values, want fewer than 1", allocs)
			}
		})
	}
}
