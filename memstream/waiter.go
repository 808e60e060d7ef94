package memstream

import (
	"context"
	"errors"

	"github.com/tether-go/tether/cancel"
)

// A waiter is one blocked Send or Receive, queued on its stream.
//
// The protocol that makes hand-offs exact: a waiter is finished (its
// outcome decided) exactly once, under the stream's mutex, either by
// another call (which sets finished, item and err, removes it from its
// queue, and then puts one token in ready) or by the waiting call itself
// when its ctx is done (which removes it from its queue while it is still
// unfinished, and then no token ever comes). So a sender whose waiter was
// finished has delivered its item, and one that removed itself has not;
// there is no moment at which both could be true.
type waiter[T any] struct {
	ready chan struct{}   // capacity 1: the token of the call that finished the waiter
	done  <-chan struct{} // the waiting call's ctx.Done(); nil when it cannot be cancelled
	owner any             // the *Sender or *Receiver the call was made on

	finished bool  // the outcome below is decided
	item     T     // a sender's item, or what a receiver was given
	err      error // the failure, nil on success; errSkipped: see skipCancelled

	prev, next *waiter[T]
}

// errSkipped finishes a waiter whose ctx was already done when another
// call came to serve it; the waiting call turns it into its cancellation
// error.
var errSkipped = errors.New("memstream: waiter skipped")

// queue is an intrusive FIFO list of waiters. The zero queue is empty.
type queue[T any] struct {
	head, tail *waiter[T]
	n          int
}

func (q *queue[T]) push(w *waiter[T]) {
	w.prev, w.next = q.tail, nil
	if q.tail == nil {
		q.head = w
	} else {
		q.tail.next = w
	}
	q.tail = w
	q.n++
}

func (q *queue[T]) remove(w *waiter[T]) {
	if w.prev == nil {
		q.head = w.next
	} else {
		w.prev.next = w.next
	}
	if w.next == nil {
		q.tail = w.prev
	} else {
		w.next.prev = w.prev
	}
	w.prev, w.next = nil, nil
	q.n--
}

// popLive removes and returns the first waiter whose call is still
// waiting, or nil. Waiters met on the way whose ctx is already done are
// finished as skipped: they return their cancellation error, and the item
// goes to the next in line instead, as if they had left the queue first.
// The returned waiter is not finished yet: the caller completes it and
// then calls wake, after releasing the mutex.
func (q *queue[T]) popLive() *waiter[T] {
	for w := q.head; w != nil; w = q.head {
		q.remove(w)
		if !isDone(w.done) {
			return w
		}
		w.finished, w.err = true, errSkipped
		wake(w)
	}
	return nil
}

// failAll finishes with err every waiter in the queue (or, when owner is
// not nil, every waiter of that handle) and wakes them.
func (q *queue[T]) failAll(owner any, err error) {
	for w := q.head; w != nil; {
		next := w.next
		if owner == nil || w.owner == owner {
			q.remove(w)
			w.finished, w.err = true, err
			wake(w)
		}
		w = next
	}
}

// wake hands w its token. It never blocks: only the call that finished w
// sends one, and w's call takes it before w is reused.
func wake[T any](w *waiter[T]) { w.ready <- struct{}{} }

func isDone(done <-chan struct{}) bool {
	if done == nil {
		return false
	}
	select {
	case <-done:
		return true
	default:
		return false
	}
}

// awaitHook, when set by a test, runs when a call has queued its waiter
// and is about to wait: the window in which the call can be served and
// cancelled at once.
var awaitHook func()

// getWaiter returns a waiter from the stream's pool, or a new one.
func (st *stream[T]) getWaiter(done <-chan struct{}, owner any) *waiter[T] {
	w, _ := st.waiters.Get().(*waiter[T])
	if w == nil {
		w = &waiter[T]{ready: make(chan struct{}, 1)}
	}
	w.done, w.owner = done, owner
	return w
}

// putWaiter clears w, whose token (if any) was taken, and pools it.
func (st *stream[T]) putWaiter(w *waiter[T]) {
	var zero T
	w.done, w.owner, w.finished, w.item, w.err = nil, nil, false, zero, nil
	st.waiters.Put(w)
}

// await blocks until w, queued on q, is finished or its ctx is done, and
// returns its outcome. The caller has released the mutex. A ctx that is
// done first takes w off q, unfinished, and makes the cancellation error
// the outcome; a w that was finished first keeps its outcome even if ctx
// is done by now, because the other side of the hand-off already counted
// on it.
func (st *stream[T]) await(ctx context.Context, q *queue[T], w *waiter[T]) (T, error) {
	if awaitHook != nil {
		awaitHook()
	}
	if w.done == nil {
		<-w.ready
	} else {
		select {
		case <-w.ready:
		case <-w.done:
			st.mu.Lock()
			if !w.finished {
				q.remove(w)
				st.mu.Unlock()
				st.putWaiter(w)
				var zero T
				return zero, cancel.Checkpoint(ctx)
			}
			st.mu.Unlock()
			<-w.ready // the finisher sends it just after unlocking
		}
	}
	v, err := w.item, w.err
	st.putWaiter(w)
	if err == errSkipped {
		err = cancel.Checkpoint(ctx)
	}
	return v, err
}
