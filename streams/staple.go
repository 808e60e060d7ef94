package streams

import (
	"context"
	"errors"
	"io"
	"sync/atomic"
)

// Stapled is a [ByteSender] and a [ByteReceiver] used as one [ByteStream]:
// AnyIO's StapledByteStream. Make it with [Staple]; the zero value is not
// usable.
//
// It is safe for concurrent use as far as its two sides are: a Send and a
// Receive may run at once. It is not reusable after Close. It costs one
// atomic load per call on top of the wrapped calls.
type Stapled struct {
	// Sender receives Send and SendEOF.
	Sender ByteSender
	// Receiver receives Receive.
	Receiver ByteReceiver

	closed atomic.Bool
}

var _ ByteStream = (*Stapled)(nil)

// Staple returns send and recv as one [ByteStream] (a [*Stapled]): Send
// and SendEOF go to send, Receive to recv. Close closes send, then recv,
// each if it implements io.Closer. Staple panics if either is nil.
func Staple(send ByteSender, recv ByteReceiver) ByteStream {
	if send == nil || recv == nil {
		panic("streams: Staple with a nil sender or receiver")
	}
	return &Stapled{Sender: send, Receiver: recv}
}

// Receive receives from the receive side, with its contract: on
// cancellation it returns a cancellation error and consumes nothing. After
// Close it returns [ErrClosed].
func (s *Stapled) Receive(ctx context.Context, p []byte) (int, error) {
	if s.closed.Load() {
		return 0, ErrClosed
	}
	return s.Receiver.Receive(ctx, p)
}

// Send sends p on the send side, with its contract for cancellation (how
// much of p was sent then is the send side's to say). After Close it
// returns [ErrClosed].
func (s *Stapled) Send(ctx context.Context, p []byte) error {
	if s.closed.Load() {
		return ErrClosed
	}
	return s.Sender.Send(ctx, p)
}

// SendEOF calls SendEOF on the send side; receiving goes on. After Close
// it returns [ErrClosed].
func (s *Stapled) SendEOF(ctx context.Context) error {
	if s.closed.Load() {
		return ErrClosed
	}
	return s.Sender.SendEOF(ctx)
}

// Close closes the send side and then the receive side, each if it
// implements io.Closer, and returns their errors joined. Closing them wakes
// the calls blocked on them (with [ErrClosed], if they keep the contract);
// later calls on s return ErrClosed. Calling Close again does nothing and
// returns nil.
func (s *Stapled) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	return closeBoth(s.Sender, s.Receiver)
}

// Unwrap returns the send side and the receive side, in that order:
// [Extra] asks the send side (and what it wraps) first, then the receive
// side. When both are views of one connection, as in
// Staple(conn, NewBuffered(conn)), both lead to its attributes.
func (s *Stapled) Unwrap() []any { return []any{s.Sender, s.Receiver} }

// StapledObjects is an [ObjectSender] and an [ObjectReceiver] used as one
// [ObjectStream]: AnyIO's StapledObjectStream. Make it with
// [StapleObjects]; the zero value is not usable.
//
// It is safe for concurrent use as far as its two sides are. It is not
// reusable after Close.
type StapledObjects[T any] struct {
	// Sender receives Send; SendEOF closes it.
	Sender ObjectSender[T]
	// Receiver receives Receive.
	Receiver ObjectReceiver[T]

	closed       atomic.Bool
	senderClosed atomic.Bool
}

var _ ObjectStream[int] = (*StapledObjects[int])(nil)

// StapleObjects returns send and recv as one [ObjectStream] (a
// [*StapledObjects]). Close closes send, then recv. It panics if either is
// nil.
func StapleObjects[T any](send ObjectSender[T], recv ObjectReceiver[T]) ObjectStream[T] {
	if send == nil || recv == nil {
		panic("streams: StapleObjects with a nil sender or receiver")
	}
	return &StapledObjects[T]{Sender: send, Receiver: recv}
}

// Receive receives from the receive side, with its contract: on
// cancellation it returns a cancellation error and consumes nothing. After
// Close it returns [ErrClosed].
func (s *StapledObjects[T]) Receive(ctx context.Context) (T, error) {
	if s.closed.Load() {
		var zero T
		return zero, ErrClosed
	}
	return s.Receiver.Receive(ctx)
}

// Send sends v on the send side, with its contract: on cancellation v was
// not delivered. After Close it returns [ErrClosed].
func (s *StapledObjects[T]) Send(ctx context.Context, v T) error {
	if s.closed.Load() {
		return ErrClosed
	}
	return s.Sender.Send(ctx, v)
}

// SendEOF closes the send side, so that the peer sees the end of the
// stream, while receiving goes on: an object stream's half-close. Later
// Sends return [ErrClosed] (from the closed sender). Calling it again does
// nothing. It never blocks; ctx is not used. After Close it returns
// ErrClosed.
func (s *StapledObjects[T]) SendEOF(ctx context.Context) error {
	if s.closed.Load() {
		return ErrClosed
	}
	if s.senderClosed.Swap(true) {
		return nil
	}
	return s.Sender.Close()
}

// Close closes the send side (unless SendEOF did) and then the receive
// side, and returns their errors joined. Later calls on s return
// [ErrClosed]. Calling Close again does nothing and returns nil.
func (s *StapledObjects[T]) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	var send any = s.Sender
	if s.senderClosed.Swap(true) {
		send = nil
	}
	return closeBoth(send, s.Receiver)
}

// Unwrap returns the send side and the receive side, in that order, as
// [Stapled.Unwrap] does.
func (s *StapledObjects[T]) Unwrap() []any { return []any{s.Sender, s.Receiver} }

// closeBoth closes a, then b, each if it is an io.Closer, and joins their
// errors.
func closeBoth(a, b any) error {
	var errA, errB error
	if c, ok := a.(io.Closer); ok {
		errA = c.Close()
	}
	if c, ok := b.(io.Closer); ok {
		errB = c.Close()
	}
	return errors.Join(errA, errB)
}
