package memstream_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tether-go/tether/cancel"
	"github.com/tether-go/tether/memstream"
	"github.com/tether-go/tether/streams"
)

// AnyIO: test_cancel_receive and test_cancel_send: a cancelled call leaves
// the queue and took or gave nothing.
func TestCancelWhileBlocked(t *testing.T) {
	tests := []struct {
		name     string
		capacity int
		send     bool
	}{
		{name: "receive rendezvous", capacity: 0},
		{name: "receive buffered", capacity: 1},
		{name: "send rendezvous", capacity: 0, send: true},
		{name: "send buffer full", capacity: 1, send: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s, r := memstream.New[string](tt.capacity)
				defer s.Close()
				defer r.Close()
				for range tt.capacity {
					if tt.send {
						s.TrySend("buffered")
					}
				}
				cause := errors.New("caller gave up")
				ctx, cancelCtx := context.WithCancelCause(context.Background())
				var call <-chan error
				if tt.send {
					call = asyncErr(func() error { return s.Send(ctx, "cancelled") })
				} else {
					call = asyncErr(func() error { _, err := r.Receive(ctx); return err })
				}
				synctest.Wait()
				cancelCtx(cause)
				err := <-call
				if !cancel.IsCancelled(err) || !errors.Is(err, cause) {
					t.Fatalf("blocked call = %v, want a cancellation error with the cause", err)
				}
				st := s.Stats()
				if st.WaitingSend != 0 || st.WaitingReceive != 0 {
					t.Errorf("Stats() = %+v after cancellation, want no waiters", st)
				}
				if tt.send {
					for range tt.capacity {
						if v, err := r.TryReceive(); v != "buffered" || err != nil {
							t.Errorf("TryReceive() = %q, %v; want buffered, nil", v, err)
						}
					}
					if v, err := r.TryReceive(); !errors.Is(err, streams.ErrWouldBlock) {
						t.Errorf("TryReceive() = %q, %v; want ErrWouldBlock: the cancelled value must not be delivered", v, err)
					}
					return
				}
				if err := s.TrySend("next"); tt.capacity == 0 && !errors.Is(err, streams.ErrWouldBlock) {
					t.Errorf("TrySend = %v, want ErrWouldBlock: the cancelled receiver must have left", err)
				}
				if tt.capacity > 0 {
					if got := s.Stats().BufferUsed; got != 1 {
						t.Errorf("BufferUsed = %d, want 1: the value must not go to the cancelled receiver", got)
					}
				}
			})
		})
	}
}

// Send and Receive check ctx first, as AnyIO's do, even when they could
// complete at once. AnyIO: test_receive_when_cancelled,
// test_send_when_cancelled.
func TestDoneContextChecksFirst(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		bg := context.Background()
		done, cancelDone := context.WithCancel(bg)
		cancelDone()

		s, r := memstream.New[string](0)
		defer s.Close()
		defer r.Close()
		hello := asyncErr(func() error { return s.Send(bg, "hello") })
		synctest.Wait()
		world := asyncErr(func() error { return s.Send(bg, "world") })
		synctest.Wait()
		if _, err := r.Receive(done); !errors.Is(err, context.Canceled) {
			t.Errorf("Receive(done ctx) with a sender waiting = %v, want context.Canceled", err)
		}
		for _, want := range []string{"hello", "world"} {
			if v, err := r.Receive(bg); v != want || err != nil {
				t.Errorf("Receive() = %q, %v; want %q, nil", v, err, want)
			}
		}
		if err := <-hello; err != nil {
			t.Errorf("Send(hello) = %v", err)
		}
		if err := <-world; err != nil {
			t.Errorf("Send(world) = %v", err)
		}

		got := async(func() (string, error) { return r.Receive(bg) })
		synctest.Wait()
		if err := s.Send(done, "cancelled"); !errors.Is(err, context.Canceled) {
			t.Errorf("Send(done ctx) with a receiver waiting = %v, want context.Canceled", err)
		}
		if err := s.Send(bg, "world"); err != nil {
			t.Errorf("Send(world) = %v", err)
		}
		if res := <-got; res.v != "world" || res.err != nil {
			t.Errorf("receiver got %q, %v; want world, nil", res.v, res.err)
		}

		u, ur := memstream.New[int](memstream.Unbounded)
		defer u.Close()
		defer ur.Close()
		if err := u.Send(done, 1); !errors.Is(err, context.Canceled) {
			t.Errorf("Send(done ctx) to an unbounded stream = %v, want context.Canceled", err)
		}
		if n := u.Stats().BufferUsed; n != 0 {
			t.Errorf("BufferUsed = %d after a cancelled Send, want 0", n)
		}
	})
}

// AnyIO: test_cancel_during_receive. A value handed to a blocked Receive
// is its, even if its ctx is done before it wakes up: it is not lost; and a
// Send whose value was taken returns nil even if its ctx is done by then.
// The hook stops the call after it queued and before it waits, so that it
// then finds both its ctx done and its hand-off made; which of the two it
// sees first is random, so the test runs many times.
func TestCancelAfterHandOff(t *testing.T) {
	for range 50 {
		synctest.Test(t, func(t *testing.T) {
			queued, resume := make(chan struct{}), make(chan struct{})
			defer memstream.SetAwaitHook(func() {
				queued <- struct{}{}
				<-resume
			})()
			s, r := memstream.New[string](0)
			defer s.Close()
			defer r.Close()

			ctx, cancelCtx := context.WithCancel(context.Background())
			got := async(func() (string, error) { return r.Receive(ctx) })
			<-queued
			if err := s.TrySend("hello"); err != nil {
				t.Fatalf("TrySend = %v, want nil", err)
			}
			cancelCtx()
			resume <- struct{}{}
			if res := <-got; res.v != "hello" || res.err != nil {
				t.Fatalf("Receive = %q, %v; want hello, nil", res.v, res.err)
			}

			ctx, cancelCtx = context.WithCancel(context.Background())
			sent := asyncErr(func() error { return s.Send(ctx, "taken") })
			<-queued
			if v, err := r.TryReceive(); v != "taken" || err != nil {
				t.Fatalf("TryReceive = %q, %v; want taken, nil", v, err)
			}
			cancelCtx()
			resume <- struct{}{}
			if err := <-sent; err != nil {
				t.Fatalf("Send whose value was taken = %v, want nil", err)
			}
		})
	}
}

// AnyIO: test_cancel_during_receive_buffered and
// test_send_to_natively_cancelled_receiver. A receiver whose ctx is done
// does not get the value even if it has not woken up yet.
func TestCancelledReceiverSkipped(t *testing.T) {
	for _, capacity := range []int{0, 1} {
		t.Run(fmt.Sprint("capacity ", capacity), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s, r := memstream.New[string](capacity)
				defer s.Close()
				defer r.Close()
				ctx, cancelCtx := context.WithCancel(context.Background())
				got := async(func() (string, error) { return r.Receive(ctx) })
				synctest.Wait()
				cancelCtx()
				err := s.TrySend("item")
				if capacity == 0 {
					if !errors.Is(err, streams.ErrWouldBlock) {
						t.Errorf("TrySend = %v, want ErrWouldBlock", err)
					}
				} else if err != nil {
					t.Errorf("TrySend = %v, want nil", err)
				}
				if res := <-got; !errors.Is(res.err, context.Canceled) {
					t.Errorf("cancelled Receive = %q, %v; want context.Canceled", res.v, res.err)
				}
				if capacity > 0 {
					if v, err := r.TryReceive(); v != "item" || err != nil {
						t.Errorf("TryReceive = %q, %v; want item, nil", v, err)
					}
				}
			})
		})
	}
}

func TestCancelledSenderSkipped(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, r := memstream.New[string](0)
		defer s.Close()
		defer r.Close()
		ctx, cancelCtx := context.WithCancel(context.Background())
		first := asyncErr(func() error { return s.Send(ctx, "cancelled") })
		synctest.Wait()
		second := asyncErr(func() error { return s.Send(context.Background(), "kept") })
		synctest.Wait()
		cancelCtx()
		if v, err := r.TryReceive(); v != "kept" || err != nil {
			t.Errorf("TryReceive = %q, %v; want kept, nil", v, err)
		}
		if err := <-first; !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled Send = %v, want context.Canceled", err)
		}
		if err := <-second; err != nil {
			t.Errorf("second Send = %v, want nil", err)
		}
	})
}

func TestDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, r := memstream.New[int](0)
		defer s.Close()
		defer r.Close()
		start := time.Now()
		err := cancel.FailAfter(context.Background(), time.Second, func(ctx context.Context) error {
			return s.Send(ctx, 1)
		})
		if !errors.Is(err, cancel.ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Send under FailAfter = %v, want ErrTimeout", err)
		}
		if d := time.Since(start); d != time.Second {
			t.Errorf("Send waited %v, want 1s", d)
		}
		timedOut, err := cancel.MoveOnAfter(context.Background(), time.Second, func(ctx context.Context) error {
			_, err := r.Receive(ctx)
			return err
		})
		if !timedOut || err != nil {
			t.Errorf("Receive under MoveOnAfter: timedOut %v, err %v; want true, nil", timedOut, err)
		}
		if st := s.Stats(); st.WaitingSend != 0 || st.WaitingReceive != 0 {
			t.Errorf("Stats() = %+v, want no waiters", st)
		}
	})
}
