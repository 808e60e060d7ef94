package streamtest_test

import (
	"context"
	"reflect"
	"sync"

	"github.com/tether-go/tether/cancel"
	"github.com/tether-go/tether/streams"
)

// objectFaults are the bugs that a test queue can be built with. The zero
// value is a correct queue.
type objectFaults struct {
	dropZero           bool // Receive skips zero values, taking them for "no item"
	deliverCancelled   bool // a cancelled Send leaves its value queued
	closeNoWake        bool // closing the receiver does not wake a blocked Receive
	sendAfterRecvClose bool // Send succeeds after the receiver closed
}

// unbounded is the capacity of a queue whose Send never waits.
const unbounded = -1

// newQueue returns a sender and the receiver it feeds, buffering capacity
// items (0: a rendezvous, where Send returns once the item was taken;
// unbounded: never waits), with the given faults: a small reference
// implementation of the object stream contract, mutex and slice.
func newQueue[T any](capacity int, f objectFaults) (*queueSender[T], *queueReceiver[T]) {
	q := &queue[T]{capacity: capacity, f: f, wake: make(chan struct{})}
	return &queueSender[T]{q}, &queueReceiver[T]{q}
}

type queue[T any] struct {
	mu         sync.Mutex
	capacity   int
	f          objectFaults
	items      []queued[T]
	nextID     uint64
	taken      uint64 // every item with a smaller id was received
	sendClosed bool
	recvClosed bool
	wake       chan struct{} // closed and replaced on every change
}

type queued[T any] struct {
	id uint64
	v  T
}

func (q *queue[T]) changed() {
	close(q.wake)
	q.wake = make(chan struct{})
}

func (q *queue[T]) wait(ctx context.Context) {
	w := q.wake
	q.mu.Unlock()
	select {
	case <-w:
	case <-ctx.Done():
	}
	q.mu.Lock()
}

func (q *queue[T]) remove(id uint64) {
	for i, it := range q.items {
		if it.id == id {
			q.items = append(q.items[:i], q.items[i+1:]...)
			q.changed()
			return
		}
	}
}

type queueSender[T any] struct{ q *queue[T] }

func (s *queueSender[T]) Send(ctx context.Context, v T) error {
	q := s.q
	q.mu.Lock()
	defer q.mu.Unlock()
	for {
		if q.sendClosed {
			return streams.ErrClosed
		}
		if q.recvClosed && !q.f.sendAfterRecvClose {
			return streams.ErrBroken
		}
		if q.capacity < 0 || len(q.items) < max(q.capacity, 1) {
			break
		}
		if err := cancel.Checkpoint(ctx); err != nil {
			if q.f.deliverCancelled {
				q.items = append(q.items, queued[T]{q.nextID, v})
				q.nextID++
				q.changed()
			}
			return err
		}
		q.wait(ctx)
	}
	id := q.nextID
	q.nextID++
	q.items = append(q.items, queued[T]{id, v})
	q.changed()
	if q.capacity != 0 {
		return nil
	}
	for {
		switch {
		case q.taken > id:
			return nil
		case q.sendClosed:
			q.remove(id)
			return streams.ErrClosed
		case q.recvClosed:
			q.remove(id)
			return streams.ErrBroken
		}
		if err := cancel.Checkpoint(ctx); err != nil {
			if !q.f.deliverCancelled {
				q.remove(id)
			}
			return err
		}
		q.wait(ctx)
	}
}

func (s *queueSender[T]) Close() error {
	s.q.mu.Lock()
	defer s.q.mu.Unlock()
	s.q.sendClosed = true
	s.q.changed()
	return nil
}

type queueReceiver[T any] struct{ q *queue[T] }

func (r *queueReceiver[T]) Receive(ctx context.Context) (T, error) {
	q := r.q
	q.mu.Lock()
	defer q.mu.Unlock()
	var zero T
	for {
		if q.recvClosed {
			return zero, streams.ErrClosed
		}
		if len(q.items) > 0 {
			it := q.items[0]
			q.items = q.items[1:]
			q.taken = it.id + 1
			q.changed()
			if q.f.dropZero && reflect.ValueOf(&it.v).Elem().IsZero() {
				continue
			}
			return it.v, nil
		}
		if q.sendClosed {
			return zero, streams.ErrEndOfStream
		}
		if err := cancel.Checkpoint(ctx); err != nil {
			return zero, err
		}
		q.wait(ctx)
	}
}

func (r *queueReceiver[T]) Close() error {
	r.q.mu.Lock()
	defer r.q.mu.Unlock()
	r.q.recvClosed = true
	r.q.items = nil
	if !r.q.f.closeNoWake {
		r.q.changed()
	}
	return nil
}
