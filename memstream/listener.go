package memstream

import (
	"context"
	"errors"
	"fmt"
	"net"
	"syscall"

	"github.com/tether-go/tether/streams"
)

// Listener is an in-memory listener, like grpc's bufconn: [Listener.Dial]
// makes a [Pipe] and hands one end to [Listener.Accept]. It lets a
// server that accepts any [streams.Listener] be tested without sockets.
//
// Make one with [Listen]; the zero value is not usable. A Listener is safe
// for concurrent use and not reusable after Close. A connection costs a
// Pipe and a rendezvous between Dial and Accept.
type Listener struct {
	dials   *Sender[streams.ByteStream]   // Dial sends the server's end...
	accepts *Receiver[streams.ByteStream] // ...and Accept receives it
}

var _ streams.Listener[streams.ByteStream] = (*Listener)(nil)

// errListenerClosed is what Accept returns once the listener is closed.
var errListenerClosed = fmt.Errorf("memstream: listener is closed: %w", streams.ErrClosed)

// errRefused is what Dial returns once the listener is closed.
var errRefused error = refusedError{}

// refusedError matches [streams.ErrClosed] (and so net.ErrClosed) and
// syscall.ECONNREFUSED, as a dial to a closed socket port would.
type refusedError struct{}

func (refusedError) Error() string { return "memstream: connection refused: listener is closed" }

func (refusedError) Is(target error) bool {
	return target == syscall.ECONNREFUSED || target == streams.ErrClosed || target == net.ErrClosed
}

// Listen returns a new in-memory listener.
func Listen() *Listener {
	s, r := New[streams.ByteStream](0)
	return &Listener{dials: s, accepts: r}
}

// Accept waits for a Dial and returns the server's end of the new
// connection. When ctx is done first it returns the cancellation error,
// and the listener stays usable: a Dial waiting then goes to the next
// Accept. After Close, and when Close races a waiting Accept, it returns
// an error matching [streams.ErrClosed].
func (l *Listener) Accept(ctx context.Context) (streams.ByteStream, error) {
	c, err := l.accepts.Receive(ctx)
	if errors.Is(err, streams.ErrClosed) {
		return nil, errListenerClosed
	}
	return c, err
}

// Dial connects to the listener and returns the client's end of the new
// connection, once an Accept has taken the server's end: Dials are
// accepted in the order they started. When ctx is done before that, Dial
// returns the cancellation error and no Accept ever sees the connection.
// When the listener is closed, before or while Dial waits, Dial returns
// an error that matches both [streams.ErrClosed] and syscall.ECONNREFUSED.
func (l *Listener) Dial(ctx context.Context) (streams.ByteStream, error) {
	client, server := Pipe()
	if err := l.dials.Send(ctx, server); err != nil {
		if errors.Is(err, streams.ErrBroken) {
			err = errRefused
		}
		return nil, err
	}
	return client, nil
}

// Close closes the listener: waiting and later Accepts return an error
// matching [streams.ErrClosed], waiting and later Dials a refusal.
// Connections already accepted are not affected. Close is idempotent and
// returns nil.
func (l *Listener) Close() error { return l.accepts.Close() }
