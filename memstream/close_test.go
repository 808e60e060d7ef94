package memstream_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/synctest"

	"github.com/tether-go/tether/memstream"
	"github.com/tether-go/tether/streams"
)

// AnyIO: test_receive_send_closed_send_stream.
func TestClosedSender(t *testing.T) {
	s, r := memstream.New[*int](memstream.Unbounded)
	defer r.Close()
	if err := s.Close(); err != nil {
		t.Fatalf("Close = %v, want nil", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close = %v, want nil", err)
	}
	if _, err := r.TryReceive(); err != io.EOF {
		t.Errorf("TryReceive = %v, want io.EOF itself", err)
	}
	if _, err := r.Receive(context.Background()); !errors.Is(err, streams.ErrEndOfStream) {
		t.Errorf("Receive = %v, want ErrEndOfStream", err)
	}
	if err := s.Send(context.Background(), nil); !errors.Is(err, streams.ErrClosed) {
		t.Errorf("Send on a closed Sender = %v, want ErrClosed", err)
	}
	if err := s.TrySend(nil); !errors.Is(err, streams.ErrClosed) {
		t.Errorf("TrySend on a closed Sender = %v, want ErrClosed", err)
	}
}

// AnyIO: test_receive_send_closed_receive_stream.
func TestClosedReceiver(t *testing.T) {
	s, r := memstream.New[*int](memstream.Unbounded)
	defer s.Close()
	r.Close()
	if err := r.Close(); err != nil {
		t.Errorf("second Close = %v, want nil", err)
	}
	if _, err := r.TryReceive(); !errors.Is(err, streams.ErrClosed) {
		t.Errorf("TryReceive on a closed Receiver = %v, want ErrClosed", err)
	}
	if _, err := r.Receive(context.Background()); !errors.Is(err, streams.ErrClosed) {
		t.Errorf("Receive on a closed Receiver = %v, want ErrClosed", err)
	}
	if err := s.Send(context.Background(), nil); !errors.Is(err, streams.ErrBroken) {
		t.Errorf("Send with no receiver = %v, want ErrBroken", err)
	}
	if err := s.TrySend(nil); !errors.Is(err, streams.ErrBroken) {
		t.Errorf("TrySend with no receiver = %v, want ErrBroken", err)
	}
}

// AnyIO: test_sync_close.
func TestBothClosed(t *testing.T) {
	s, r := memstream.New[int](1)
	s.Close()
	r.Close()
	if err := s.TrySend(1); !errors.Is(err, streams.ErrClosed) {
		t.Errorf("TrySend = %v, want ErrClosed", err)
	}
	if _, err := r.TryReceive(); !errors.Is(err, streams.ErrClosed) {
		t.Errorf("TryReceive = %v, want ErrClosed", err)
	}
	want := memstream.Stats{BufferSize: 1}
	if got := s.Stats(); got != want {
		t.Errorf("Stats() = %+v, want %+v", got, want)
	}
}

// AnyIO: test_clone.
func TestClone(t *testing.T) {
	s1, r1 := memstream.New[string](1)
	s2, r2 := s1.Clone(), r1.Clone()
	if st := s1.Stats(); st.OpenSenders != 2 || st.OpenReceivers != 2 {
		t.Errorf("Stats() = %+v, want 2 senders, 2 receivers", st)
	}
	s1.Close()
	r1.Close()
	if err := s2.TrySend("hello"); err != nil {
		t.Errorf("TrySend on the clone = %v, want nil", err)
	}
	if v, err := r2.TryReceive(); v != "hello" || err != nil {
		t.Errorf("TryReceive on the clone = %q, %v; want hello, nil", v, err)
	}
	s2.Close()
	if _, err := r2.TryReceive(); !errors.Is(err, streams.ErrEndOfStream) {
		t.Errorf("TryReceive after the last Sender closed = %v, want ErrEndOfStream", err)
	}
	r2.Close()
}

// AnyIO: test_clone_closed. Cloning a closed handle is a mistake.
func TestCloneClosedPanics(t *testing.T) {
	s, r := memstream.New[int](1)
	s.Close()
	r.Close()
	tests := []struct {
		name  string
		clone func()
	}{
		{name: "sender", clone: func() { s.Clone() }},
		{name: "receiver", clone: func() { r.Clone() }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if r := recover(); !strings.HasPrefix(fmt.Sprint(r), "memstream: ") {
					t.Errorf("Clone of a closed handle panicked with %v, want a \"memstream: \" panic", r)
				}
			}()
			tt.clone()
		})
	}
}

// AnyIO: test_close_send_while_receiving and
// test_close_receive_while_sending (sending the zero value: AnyIO #731).
func TestCloseWakesOtherSide(t *testing.T) {
	t.Run("last sender", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			s, r := memstream.New[int](1)
			defer r.Close()
			got := async(func() (int, error) { return r.Receive(context.Background()) })
			synctest.Wait()
			s.Close()
			if res := <-got; res.err != io.EOF {
				t.Errorf("blocked Receive = %v, %v; want io.EOF", res.v, res.err)
			}
		})
	})
	t.Run("last receiver", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			s, r := memstream.New[*int](0)
			defer s.Close()
			sent := asyncErr(func() error { return s.Send(context.Background(), nil) })
			synctest.Wait()
			r.Close()
			if err := <-sent; !errors.Is(err, streams.ErrBroken) {
				t.Errorf("blocked Send = %v, want ErrBroken", err)
			}
		})
	})
	t.Run("not the last sender", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			s, r := memstream.New[int](1)
			s2 := s.Clone()
			defer s2.Close()
			defer r.Close()
			got := async(func() (int, error) { return r.Receive(context.Background()) })
			synctest.Wait()
			s.Close()
			synctest.Wait()
			if !pending(got) {
				t.Fatal("Receive returned when a Sender was still open")
			}
			s2.TrySend(7)
			if res := <-got; res.v != 7 || res.err != nil {
				t.Errorf("Receive = %v, %v; want 7, nil", res.v, res.err)
			}
		})
	})
}

// Close wakes the calls blocked on the handle closed, and only those.
func TestCloseWakesOwnCalls(t *testing.T) {
	t.Run("sender", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			ctx := context.Background()
			s1, r := memstream.New[string](0)
			s2 := s1.Clone()
			defer s2.Close()
			defer r.Close()
			first := asyncErr(func() error { return s1.Send(ctx, "one") })
			synctest.Wait()
			second := asyncErr(func() error { return s2.Send(ctx, "two") })
			synctest.Wait()
			s1.Close()
			if err := <-first; !errors.Is(err, streams.ErrClosed) {
				t.Errorf("Send blocked on the closed handle = %v, want ErrClosed", err)
			}
			if v, err := r.Receive(ctx); v != "two" || err != nil {
				t.Errorf("Receive = %q, %v; want two, nil: the closed handle's value must not be delivered", v, err)
			}
			if err := <-second; err != nil {
				t.Errorf("Send on the open clone = %v, want nil", err)
			}
		})
	})
	t.Run("receiver", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			ctx := context.Background()
			s, r1 := memstream.New[string](0)
			r2 := r1.Clone()
			defer s.Close()
			defer r2.Close()
			first := async(func() (string, error) { return r1.Receive(ctx) })
			synctest.Wait()
			second := async(func() (string, error) { return r2.Receive(ctx) })
			synctest.Wait()
			r1.Close()
			if res := <-first; !errors.Is(res.err, streams.ErrClosed) {
				t.Errorf("Receive blocked on the closed handle = %q, %v; want ErrClosed", res.v, res.err)
			}
			if err := s.Send(ctx, "two"); err != nil {
				t.Errorf("Send = %v, want nil", err)
			}
			if res := <-second; res.v != "two" || res.err != nil {
				t.Errorf("Receive on the open clone = %q, %v; want two, nil", res.v, res.err)
			}
		})
	})
}

// AnyIO: test_receive_after_send_closed.
func TestBufferOutlivesSenders(t *testing.T) {
	ctx := context.Background()
	s, r := memstream.New[string](2)
	defer r.Close()
	s.Send(ctx, "hello")
	s.Send(ctx, "tether")
	s.Close()
	for _, want := range []string{"hello", "tether"} {
		if v, err := r.Receive(ctx); v != want || err != nil {
			t.Errorf("Receive = %q, %v; want %q, nil", v, err, want)
		}
	}
	if _, err := r.Receive(ctx); err != io.EOF {
		t.Errorf("Receive after draining = %v, want io.EOF", err)
	}
}

// The values left when the last Receiver closes are dropped.
func TestLastReceiverDropsBuffer(t *testing.T) {
	s, r := memstream.New[string](memstream.Unbounded)
	defer s.Close()
	s.TrySend("lost")
	r.Close()
	if got := s.Stats().BufferUsed; got != 0 {
		t.Errorf("BufferUsed = %d after the last Receiver closed, want 0", got)
	}
}

// AnyIO: test_close_receive_after_send.
func TestCloseEachAfterUse(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		s, r := memstream.New[string](0)
		sent := asyncErr(func() error {
			defer s.Close()
			return s.Send(ctx, "test")
		})
		got := async(func() (string, error) {
			defer r.Close()
			return r.Receive(ctx)
		})
		if err := <-sent; err != nil {
			t.Errorf("Send = %v, want nil", err)
		}
		if res := <-got; res.v != "test" || res.err != nil {
			t.Errorf("Receive = %q, %v; want test, nil", res.v, res.err)
		}
	})
}
