package memstream

import (
	"context"
	"iter"

	"github.com/tether-go/tether/cancel"
	"github.com/tether-go/tether/streams"
)

// Receiver is the receiving end of an object stream made by [New]: a
// handle that several goroutines may use at once, and that
// [Receiver.Clone] copies so that each consumer can close its own. The
// zero value is not usable; a closed Receiver is not reusable.
//
// Each value goes to exactly one Receive; blocked Receives are served in
// the order they started waiting. A Receive that does not block costs a
// mutex and a copy; one that blocks allocates nothing once the stream is
// warm.
type Receiver[T any] struct {
	st     *stream[T]
	closed bool // guarded by st.mu
}

var _ streams.ObjectReceiver[int] = (*Receiver[int])(nil)

// Receive returns the next value, waiting until there is one.
//
// Once every Sender is closed and the buffer is drained, Receive returns
// [streams.ErrEndOfStream] (io.EOF itself). If ctx is done before Receive
// starts, or while it waits, Receive returns the cancellation error (see
// [cancel.Checkpoint]) and takes nothing: the value it would have got
// goes to the next Receive. (A value handed to it just before it noticed
// ctx is returned instead: it is never lost.) Like AnyIO's, Receive checks ctx first, so a
// done ctx fails it even when a value is ready. When this handle is
// closed, before or while it waits (Close wakes it), Receive returns an
// error matching [streams.ErrClosed].
func (r *Receiver[T]) Receive(ctx context.Context) (T, error) {
	var zero T
	done := ctx.Done()
	if isDone(done) {
		return zero, cancel.Checkpoint(ctx)
	}
	st := r.st
	st.mu.Lock()
	v, w, err := r.receiveLocked()
	if err != streams.ErrWouldBlock {
		st.mu.Unlock()
		if w != nil {
			wake(w)
		}
		return v, err
	}
	w = st.getWaiter(done, r)
	st.recvq.push(w)
	st.mu.Unlock()
	return st.await(ctx, &st.recvq, w)
}

// TryReceive returns the next value if there is one ready: in the buffer,
// or held by a blocked Send. Otherwise it returns [streams.ErrWouldBlock]
// and takes nothing. It fails as [Receiver.Receive] does at the end of the
// stream or when the handle is closed.
func (r *Receiver[T]) TryReceive() (T, error) {
	st := r.st
	st.mu.Lock()
	v, w, err := r.receiveLocked()
	st.mu.Unlock()
	if w != nil {
		wake(w)
	}
	return v, err
}

// receiveLocked takes the next value without waiting, or returns
// [streams.ErrWouldBlock]. A non-nil waiter is a Send whose value was
// taken (moved into the buffer, or returned); the caller wakes it once it
// has released the mutex.
func (r *Receiver[T]) receiveLocked() (T, *waiter[T], error) {
	var zero T
	st := r.st
	if r.closed {
		return zero, nil, errReceiverClosed
	}
	if st.buf.len() > 0 {
		v := st.buf.pop()
		// The buffer has room now: the oldest blocked Send fills it.
		w := st.sendq.popLive()
		if w != nil {
			st.buf.push(w.item)
			w.finished = true
		}
		return v, w, nil
	}
	if w := st.sendq.popLive(); w != nil { // a rendezvous
		w.finished = true
		return w.item, w, nil
	}
	if st.senders == 0 {
		return zero, nil, streams.ErrEndOfStream
	}
	return zero, nil, streams.ErrWouldBlock
}

// All returns an iterator over the values received, for range loops. The
// loop ends at the end of the stream, when ctx is done, or when this
// handle is closed: at the first error of Receive, which the iterator
// cannot report. Check ctx.Err() after the loop to tell a cancellation
// from the end of the stream. Breaking out of the loop takes no value
// beyond the last one yielded.
func (r *Receiver[T]) All(ctx context.Context) iter.Seq[T] {
	return func(yield func(T) bool) {
		for {
			v, err := r.Receive(ctx)
			if err != nil || !yield(v) {
				return
			}
		}
	}
}

// Clone returns a new Receiver of the same stream. The stream breaks only
// when every Receiver, clones included, is closed. Cloning a closed
// Receiver is a mistake and panics.
func (r *Receiver[T]) Clone() *Receiver[T] {
	st := r.st
	st.mu.Lock()
	defer st.mu.Unlock()
	if r.closed {
		panic("memstream: Clone of a closed Receiver")
	}
	st.receivers++
	return &Receiver[T]{st: st}
}

// Close closes this handle. Receives blocked on it return an error
// matching [streams.ErrClosed] and take nothing. When it is the last open
// Receiver, Sends blocked on the stream return an error matching
// [streams.ErrBroken] (their values were not delivered), and the values
// left in the buffer, which nobody can receive any more, are dropped.
// Close is idempotent and always returns nil.
func (r *Receiver[T]) Close() error {
	st := r.st
	st.mu.Lock()
	defer st.mu.Unlock()
	if r.closed {
		return nil
	}
	r.closed = true
	st.receivers--
	st.recvq.failAll(r, errReceiverClosed)
	if st.receivers == 0 {
		st.sendq.failAll(nil, errNoReceivers)
		st.buf.reset()
	}
	return nil
}

// Stats returns a snapshot of the stream's state. It works on a closed
// handle too.
func (r *Receiver[T]) Stats() Stats { return r.st.stats() }
