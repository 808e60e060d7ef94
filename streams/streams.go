package streams

import (
	"context"
	"io"
)

// ByteReceiver receives bytes from a stream.
type ByteReceiver interface {
	// Receive waits for data and copies at least one byte into p, returning
	// how many. It never returns 0, nil. At the end of the stream it returns
	// [ErrEndOfStream] (which is io.EOF). When ctx is done it returns a
	// cancellation error (see package cancel) and consumes nothing: the
	// stream stays usable. A call with an empty p is a mistake and returns
	// an error. Two concurrent Receive calls on one stream return [ErrBusy].
	Receive(ctx context.Context, p []byte) (int, error)
}

// ByteSender sends bytes to a stream.
type ByteSender interface {
	// Send sends all of p or returns an error. It does not keep p after it
	// returns. When ctx is done before all of p was sent, it returns a
	// cancellation error; how much of p was sent then depends on the stream
	// (see its documentation). Two concurrent Send calls on one stream return
	// [ErrBusy].
	Send(ctx context.Context, p []byte) error
	// SendEOF tells the peer that nothing more will be sent (a half-close),
	// while receiving goes on. Calling it again does nothing. Send after
	// SendEOF returns [ErrClosed].
	SendEOF(ctx context.Context) error
}

// ByteStream is a bidirectional byte stream, such as a TCP connection.
//
// Close is idempotent; it wakes every call blocked on the stream, which then
// returns [ErrClosed].
type ByteStream interface {
	ByteReceiver
	ByteSender
	io.Closer
}

// ObjectReceiver receives whole values of type T.
type ObjectReceiver[T any] interface {
	// Receive waits for the next value. At the end of the stream it returns
	// [ErrEndOfStream]; when ctx is done it returns a cancellation error and
	// consumes nothing.
	Receive(ctx context.Context) (T, error)
	io.Closer
}

// ObjectSender sends whole values of type T.
type ObjectSender[T any] interface {
	// Send sends v. When ctx is done first, it returns a cancellation error
	// and v was not delivered.
	Send(ctx context.Context, v T) error
	io.Closer
}

// ObjectStream is a bidirectional stream of values of type T.
type ObjectStream[T any] interface {
	ObjectReceiver[T]
	ObjectSender[T]
}

// Listener accepts incoming connections of type T.
type Listener[T any] interface {
	// Accept waits for the next connection. When ctx is done it returns a
	// cancellation error and the listener stays usable; after Close it
	// returns [ErrClosed].
	Accept(ctx context.Context) (T, error)
	io.Closer
}
