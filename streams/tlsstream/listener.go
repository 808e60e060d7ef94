package tlsstream

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"sync"

	"github.com/tether-go/tether/cancel"
	"github.com/tether-go/tether/streams"
	"github.com/tether-go/tether/taskgroup"
)

// maxPending bounds the connections a Listener holds at once: handshakes
// running, and handshaked streams that no Accept has taken yet. At the
// bound, it stops accepting from the listener under it, so that further
// clients wait in that listener's backlog.
const maxPending = 128

// errNilAccept is the error of a listener under a Listener whose Accept
// returned neither a stream nor an error.
var errNilAccept = errors.New("tlsstream: the listener under the TLS listener accepted a nil stream")

// Listener is a TLS listener over any [streams.Listener] of byte streams
// (AnyIO's TLSListener). Make one with [NewListener]; the zero value is
// not usable.
//
// It accepts connections from the listener under it in a task of its own
// and runs each server handshake in a task of its own, under the
// [HandshakeTimeout] (10 s by default), so that a slow or hostile client
// never holds up the others: [Listener.Accept] returns streams in the
// order their handshakes completed. A failed handshake closes its
// connection and is reported (see [OnError]); it never reaches Accept, so
// it never reaches a handler of [Listener.Serve] nor stops it. At most 128
// connections are held at once, handshaking or waiting for Accept.
//
// The tasks start with the first Accept and end with Close, which waits
// for them. A Listener is safe for concurrent use and not reusable after
// Close. Each connection costs a task (a goroutine) for its handshake.
type Listener struct {
	accept func(ctx context.Context) (streams.ByteStream, error)
	under  io.Closer
	cfg    *tls.Config
	opts   []Option
	conf   config

	ready chan *Stream  // handshaked streams, in completion order
	slots chan struct{} // one per connection held, from accept to Accept
	errs  chan error    // an accept error, handed to one Accept
	done  chan struct{} // closed by Close

	mu      sync.Mutex
	started bool
	closed  bool
	g       *taskgroup.Group
}

var _ streams.Listener[*Stream] = (*Listener)(nil)

// NewListener returns a TLS listener that accepts connections from l and
// runs the server side of the handshake on each with cfg and opts (see
// [Server]). The Listener owns l: its Close closes l. NewListener panics
// if l or cfg is nil.
func NewListener[T streams.ByteStream](l streams.Listener[T], cfg *tls.Config, opts ...Option) *Listener {
	if l == nil {
		panic("tlsstream: NewListener called with a nil listener")
	}
	if cfg == nil {
		panic("tlsstream: NewListener called with a nil *tls.Config")
	}
	return &Listener{
		accept: func(ctx context.Context) (streams.ByteStream, error) {
			c, err := l.Accept(ctx)
			if err != nil {
				return nil, err
			}
			if any(c) == nil {
				return nil, errNilAccept
			}
			return c, nil
		},
		under: l,
		cfg:   cfg,
		opts:  opts,
		conf:  newConfig(opts),
		ready: make(chan *Stream, maxPending),
		slots: make(chan struct{}, maxPending),
		errs:  make(chan error),
		done:  make(chan struct{}),
	}
}

// Unwrap returns the listener under the TLS listener: a TLS listener has
// no attributes of its own, and [streams.Extra] finds that listener's
// (its address, say) through Unwrap.
func (l *Listener) Unwrap() any { return l.under }

// Accept waits for the next connection whose handshake succeeded, and
// returns it; see [streams.Listener]. An error of the listener under it
// is returned by one Accept each: a temporary one (too many open files),
// after which Accept may be called again, as [streams.Serve] does after a
// pause, or a lasting one (that listener was closed), which every later
// Accept returns again. When ctx is done Accept returns a cancellation
// error and the listener stays usable: no connection is lost. After Close,
// and when Close races a waiting Accept, it returns [streams.ErrClosed].
func (l *Listener) Accept(ctx context.Context) (*Stream, error) {
	if err := cancel.Checkpoint(ctx); err != nil {
		return nil, err
	}
	if !l.start() {
		return nil, streams.ErrClosed
	}
	select {
	case s := <-l.ready:
		<-l.slots
		return s, nil
	case err := <-l.errs:
		return nil, err
	case <-l.done:
		return nil, streams.ErrClosed
	case <-ctx.Done():
		return nil, cancel.Checkpoint(ctx)
	}
}

// Serve runs handler for each connection accepted from l, as
// [streams.Serve] does (see there for g, opts and cancellation); each
// handler gets a stream whose handshake is done. Serve does not close l.
func (l *Listener) Serve(ctx context.Context, handler func(ctx context.Context, s *Stream) error, g *taskgroup.Group, opts ...streams.ServeOption) error {
	return streams.Serve(ctx, l, handler, g, opts...)
}

// Close closes the listener under it, cancels the handshakes that are
// running, waits for its tasks to end, and closes the streams that no
// Accept took. It returns the error of closing the listener under it.
// Calling Close again does nothing and returns nil.
func (l *Listener) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	close(l.done)
	g := l.g
	l.mu.Unlock()

	err := l.under.Close()
	if g != nil {
		g.Cancel()
		g.Wait()
	}
	for {
		select {
		case s := <-l.ready:
			s.Close()
			<-l.slots
		default:
			return err
		}
	}
}

// start starts the accept task once, unless the listener is closed, and
// reports whether it runs.
func (l *Listener) start() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return false
	}
	if !l.started {
		l.started = true
		l.g, _ = taskgroup.New(context.Background(), taskgroup.Named("tlsstream.Listener"))
		l.g.GoNamed("accept", l.acceptLoop)
	}
	return true
}

// acceptLoop accepts connections while it holds fewer than maxPending,
// and starts a handshake task for each, until the listener is closed.
func (l *Listener) acceptLoop(ctx context.Context) error {
	for {
		select {
		case l.slots <- struct{}{}:
		case <-ctx.Done():
			return nil
		}
		c, err := l.accept(ctx)
		if err != nil {
			<-l.slots
			if ctx.Err() != nil {
				return nil
			}
			// Hand the error to one Accept, which decides what to do
			// (streams.Serve pauses after a temporary one), and only
			// then try again: the loop never spins on its own.
			select {
			case l.errs <- err:
			case <-ctx.Done():
				return nil
			}
			continue
		}
		l.g.GoNamed("handshake", func(ctx context.Context) error {
			l.handshake(ctx, c)
			return nil
		})
	}
}

// handshake runs the server handshake on c and hands the stream to
// Accept, or reports the failure.
func (l *Listener) handshake(ctx context.Context, c streams.ByteStream) {
	s, err := Server(ctx, c, l.cfg, l.opts...)
	if err != nil {
		<-l.slots
		if ctx.Err() == nil { // not the listener's own Close
			l.report(err)
		}
		return
	}
	l.ready <- s // never blocks: s holds a slot
}

func (l *Listener) report(err error) {
	if l.conf.onError != nil {
		l.conf.onError(err)
		return
	}
	slog.Default().Warn("tlsstream: handshake failed", "error", err)
}
