package memstream

import (
	"context"

	"github.com/tether-go/tether/cancel"
	"github.com/tether-go/tether/streams"
)

// Sender is the sending end of an object stream made by [New]: a handle
// that several goroutines may use at once, and that [Sender.Clone] copies
// so that each producer can close its own. The zero value is not usable; a
// closed Sender is not reusable.
//
// Values are received in the order their Sends took effect; blocked Sends
// are served in the order they started waiting. A Send that does not
// block costs a mutex and a copy of v; one that blocks allocates nothing
// once the stream is warm.
type Sender[T any] struct {
	st     *stream[T]
	closed bool // guarded by st.mu
}

var _ streams.ObjectSender[int] = (*Sender[int])(nil)

// Send sends v, waiting while the buffer is full (for a rendezvous, until a
// Receive takes v). The zero value of T is sent like any other.
//
// Send returns nil once v is in the buffer or was handed to a Receive; v
// is then received exactly once, unless every Receiver is closed first.
// If ctx is done before Send starts, or while it waits, Send returns the
// cancellation error (see [cancel.Checkpoint]) and v was not sent: no
// Receive ever gets it. (Whether v was taken is decided at once, under a
// lock: if a Receive took it just before Send noticed ctx, Send returns
// nil.) Like AnyIO's, Send checks ctx first, so a done ctx fails it even
// when it would not have had to wait.
//
// Send returns an error matching [streams.ErrBroken] when every Receiver
// is closed, before or while it waits, and one matching [streams.ErrClosed]
// when this handle is closed, before or while it waits (Close wakes it).
func (s *Sender[T]) Send(ctx context.Context, v T) error {
	done := ctx.Done()
	if isDone(done) {
		return cancel.Checkpoint(ctx)
	}
	st := s.st
	st.mu.Lock()
	w, err := s.sendLocked(v)
	if err != streams.ErrWouldBlock {
		st.mu.Unlock()
		if w != nil {
			wake(w)
		}
		return err
	}
	w = st.getWaiter(done, s)
	w.item = v
	st.sendq.push(w)
	st.mu.Unlock()
	_, err = st.await(ctx, &st.sendq, w)
	return err
}

// TrySend sends v if it can do so without waiting: when the buffer has
// room or a Receive is waiting for a value. Otherwise it returns
// [streams.ErrWouldBlock] and v was not sent. It fails as [Sender.Send]
// does when the stream is broken or the handle closed.
func (s *Sender[T]) TrySend(v T) error {
	st := s.st
	st.mu.Lock()
	w, err := s.sendLocked(v)
	st.mu.Unlock()
	if w != nil {
		wake(w)
	}
	return err
}

// sendLocked sends v without waiting, or returns [streams.ErrWouldBlock].
// A non-nil waiter is a Receive that got v; the caller wakes it once it
// has released the mutex.
func (s *Sender[T]) sendLocked(v T) (*waiter[T], error) {
	st := s.st
	switch {
	case s.closed:
		return nil, errSenderClosed
	case st.receivers == 0:
		return nil, errNoReceivers
	}
	if w := st.recvq.popLive(); w != nil {
		w.item, w.finished = v, true
		return w, nil
	}
	if !st.hasRoom() {
		return nil, streams.ErrWouldBlock
	}
	st.buf.push(v)
	return nil, nil
}

// Clone returns a new Sender of the same stream. The stream ends only when
// every Sender, clones included, is closed. Cloning a closed Sender is a
// mistake and panics.
func (s *Sender[T]) Clone() *Sender[T] {
	st := s.st
	st.mu.Lock()
	defer st.mu.Unlock()
	if s.closed {
		panic("memstream: Clone of a closed Sender")
	}
	st.senders++
	return &Sender[T]{st: st}
}

// Close closes this handle. Sends blocked on it return an error matching
// [streams.ErrClosed], and their values were not sent. When it is the
// last open Sender, Receives blocked on the stream return
// [streams.ErrEndOfStream]; values already buffered stay receivable.
// Close is idempotent and always returns nil.
func (s *Sender[T]) Close() error {
	st := s.st
	st.mu.Lock()
	defer st.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	st.senders--
	st.sendq.failAll(s, errSenderClosed)
	if st.senders == 0 {
		st.recvq.failAll(nil, streams.ErrEndOfStream)
	}
	return nil
}

// Stats returns a snapshot of the stream's state. It works on a closed
// handle too.
func (s *Sender[T]) Stats() Stats { return s.st.stats() }
