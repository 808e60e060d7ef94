package tethertest

import (
	"context"

	"github.com/tether-go/tether/streams"
)

// FaultyAccepts wraps a listener so that each connection it accepts is a
// [FaultyStream] with faults: a server that serves it meets misbehaving
// clients. With a memstream.Listener, the clients are the streams that
// its Dial returns, and no socket is involved:
//
//	ml := memstream.Listen()
//	l := tethertest.FaultyAccepts(ml, tethertest.Chunked(1))
//	g.Go(func(ctx context.Context) error { return streams.Serve(ctx, l, handle, g) })
//	c, err := ml.Dial(ctx) // a client whose bytes reach handle one at a time
//
// The listener is safe for concurrent use, as the listener it wraps is;
// closing it closes that listener, and it is not reusable after. It costs
// a [FaultyStream] per connection.
func FaultyAccepts(l streams.Listener[streams.ByteStream], faults ...Fault) *FaultyListener {
	if l == nil {
		panic("tethertest: FaultyAccepts of a nil listener")
	}
	return &FaultyListener{l: l, faults: faults}
}

// FaultyListener is the listener that [FaultyAccepts] returns. The zero
// value is not usable.
type FaultyListener struct {
	l      streams.Listener[streams.ByteStream]
	faults []Fault
}

var _ streams.Listener[streams.ByteStream] = (*FaultyListener)(nil)

// Accept accepts a connection from the wrapped listener, as its Accept
// does (with its cancellation contract), and returns it as a
// [FaultyStream].
func (l *FaultyListener) Accept(ctx context.Context) (streams.ByteStream, error) {
	c, err := l.l.Accept(ctx)
	if err != nil {
		return nil, err
	}
	return Faulty(c, l.faults...), nil
}

// Close closes the wrapped listener and returns what its Close returns.
func (l *FaultyListener) Close() error { return l.l.Close() }

// Unwrap returns the wrapped listener, so that streams.Extra finds its
// attributes.
func (l *FaultyListener) Unwrap() streams.Listener[streams.ByteStream] { return l.l }
