package tlsstream

import (
	"fmt"
	"time"
)

// DefaultHandshakeTimeout is how long a handshake may take when no
// [HandshakeTimeout] option says otherwise.
const DefaultHandshakeTimeout = 10 * time.Second

// Option configures [Client], [Server] and [NewListener]. Make one with
// [HandshakeTimeout], [StandardCompatible] or [OnError]. The zero Option
// does nothing. Options are values: one may be passed to any number of
// calls.
type Option struct {
	apply func(*config)
}

type config struct {
	handshakeTimeout time.Duration // 0: no limit but the caller's ctx
	standard         bool
	onError          func(error)
}

func newConfig(opts []Option) config {
	c := config{handshakeTimeout: DefaultHandshakeTimeout, standard: true}
	for _, o := range opts {
		if o.apply != nil {
			o.apply(&c)
		}
	}
	return c
}

// HandshakeTimeout bounds the handshake: when it has not completed d after
// it began, it fails with an error that matches cancel.ErrTimeout and
// context.DeadlineExceeded. The default is [DefaultHandshakeTimeout];
// HandshakeTimeout(0) removes the limit, leaving only the caller's ctx
// (and, for a [Listener], its Close). HandshakeTimeout panics if d < 0.
func HandshakeTimeout(d time.Duration) Option {
	if d < 0 {
		panic(fmt.Sprintf("tlsstream: HandshakeTimeout needs d >= 0, got %v", d))
	}
	return Option{apply: func(c *config) { c.handshakeTimeout = d }}
}

// StandardCompatible says whether the stream follows the TLS standard at
// its end, as AnyIO's standard_compatible does. When on (the default),
// Close sends a close_notify alert, and a peer that closes the transport
// without sending one (a "ragged EOF", which can hide a truncation attack)
// makes Receive return an error matching [streams.ErrBroken]. When off,
// Close just closes the transport, and a ragged EOF at a record boundary
// is the end of the stream ([streams.ErrEndOfStream]), as many HTTPS peers
// expect. A transport that ends inside a record is ErrBroken either way.
func StandardCompatible(on bool) Option {
	return Option{apply: func(c *config) { c.standard = on }}
}

// OnError makes a [Listener] call fn with the error of each handshake that
// failed (a [*HandshakeError]), instead of logging it with the default
// [slog.Logger]. fn may be called from several goroutines at once and
// should return quickly: the connection's slot is held until it does.
// [Client] and [Server] ignore it. OnError panics if fn is nil.
func OnError(fn func(err error)) Option {
	if fn == nil {
		panic("tlsstream: OnError called with a nil function")
	}
	return Option{apply: func(c *config) { c.onError = fn }}
}
