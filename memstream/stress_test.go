package memstream_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/tether-go/tether/cancel"
	"github.com/tether-go/tether/memstream"
	"github.com/tether-go/tether/streams"
)

type item struct{ sender, seq int }

// randomCtx returns a ctx that is, at random, fine, already cancelled, or
// cancelled by another goroutine at about the time it is used; wg counts
// those goroutines.
func randomCtx(rng *rand.Rand, wg *sync.WaitGroup) (context.Context, context.CancelFunc) {
	ctx, cancelCtx := context.WithCancel(context.Background())
	switch rng.IntN(10) {
	case 0:
		cancelCtx()
	case 1, 2:
		wg.Go(cancelCtx)
	}
	return ctx, cancelCtx
}

// TestStress runs senders and receivers at once, cancelling their calls at
// random, and checks that every value whose Send returned nil was received
// exactly once, that no other value was, and that each receiver saw each
// sender's values in order.
func TestStress(t *testing.T) {
	const (
		senders   = 4
		receivers = 3
		perSender = 1000
	)
	tests := []struct {
		name     string
		capacity int
	}{
		{name: "rendezvous", capacity: 0},
		{name: "one", capacity: 1},
		{name: "eight", capacity: 8},
		{name: "unbounded", capacity: memstream.Unbounded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s0, r0 := memstream.New[item](tt.capacity)
			var cancellers sync.WaitGroup
			defer cancellers.Wait()

			sent := make([][]bool, senders) // sent[i][seq]: Send returned nil
			var wg sync.WaitGroup
			for i := range senders {
				s := s0.Clone()
				sent[i] = make([]bool, perSender)
				wg.Go(func() {
					defer s.Close()
					rng := rand.New(rand.NewPCG(uint64(i), 1))
					for seq := range perSender {
						ctx, cancelCtx := randomCtx(rng, &cancellers)
						err := s.Send(ctx, item{i, seq})
						cancelCtx()
						switch {
						case err == nil:
							sent[i][seq] = true
						case !cancel.IsCancelled(err):
							t.Errorf("Send = %v, want nil or a cancellation error", err)
						}
					}
				})
			}
			s0.Close()

			got := make([][]item, receivers)
			for j := range receivers {
				r := r0.Clone()
				wg.Go(func() {
					defer r.Close()
					rng := rand.New(rand.NewPCG(uint64(j), 2))
					for {
						ctx, cancelCtx := randomCtx(rng, &cancellers)
						v, err := r.Receive(ctx)
						cancelCtx()
						switch {
						case err == nil:
							got[j] = append(got[j], v)
						case errors.Is(err, streams.ErrEndOfStream):
							return
						case !cancel.IsCancelled(err):
							t.Errorf("Receive = %v, want a value, a cancellation or the end", err)
							return
						}
					}
				})
			}
			r0.Close()
			wg.Wait()

			seen := make(map[item]int)
			for j, vs := range got {
				last := make([]int, senders)
				for i := range last {
					last[i] = -1
				}
				for _, v := range vs {
					seen[v]++
					if v.seq <= last[v.sender] {
						t.Errorf("receiver %d got %+v after seq %d of the same sender", j, v, last[v.sender])
					}
					last[v.sender] = v.seq
				}
			}
			nSent := 0
			for i := range senders {
				for seq, ok := range sent[i] {
					v := item{i, seq}
					switch n := seen[v]; {
					case ok && n != 1:
						t.Errorf("%+v: sent, received %d times, want once", v, n)
					case !ok && n != 0:
						t.Errorf("%+v: Send failed, received %d times, want never", v, n)
					}
					if ok {
						nSent++
					}
				}
			}
			if nSent == 0 || nSent == senders*perSender {
				t.Errorf("%d of %d Sends succeeded: the test cancelled none or all", nSent, senders*perSender)
			}
			if st := s0.Stats(); st != (memstream.Stats{BufferSize: tt.capacity}) {
				t.Errorf("Stats() at the end = %+v, want an empty stream with no open handles", st)
			}
			t.Logf("%d of %d values sent", nSent, senders*perSender)
		})
	}
}
