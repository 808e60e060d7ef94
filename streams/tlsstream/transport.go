package tlsstream

import (
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// aLongTimeAgo is a deadline that makes a blocked call return at once.
var aLongTimeAgo = time.Unix(1, 0)

// transport is the net.Conn that crypto/tls drives: streams.AsConn of the
// underlying stream, plus two things a tls.Conn does not tell:
//
//   - whether the transport itself ended (Read returned io.EOF). A
//     tls.Conn returns io.EOF both after a close_notify alert and when the
//     transport ends at a record boundary; it reads no further after the
//     alert, so an EOF seen here means the peer did not send one.
//   - a write abort that sticks. The send side interrupts a blocked write
//     by setting a past write deadline; tls.Conn.CloseWrite sets its own
//     write deadline before writing the alert, which would undo an abort
//     that came first. While aborted, every write deadline is in the past.
type transport struct {
	net.Conn
	eof atomic.Bool

	mu      sync.Mutex
	aborted bool
}

func (t *transport) Read(p []byte) (int, error) {
	n, err := t.Conn.Read(p)
	if err == io.EOF {
		t.eof.Store(true)
	}
	return n, err
}

func (t *transport) SetDeadline(d time.Time) error {
	if err := t.Conn.SetReadDeadline(d); err != nil {
		return err
	}
	return t.SetWriteDeadline(d)
}

func (t *transport) SetWriteDeadline(d time.Time) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.aborted {
		d = aLongTimeAgo
	}
	return t.Conn.SetWriteDeadline(d)
}

// setAbortDeadline is the send side's deadline setter (see ioctx.Side):
// a non-zero deadline is an abort, which sticks until the zero deadline
// lifts it.
func (t *transport) setAbortDeadline(d time.Time) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.aborted = !d.IsZero()
	return t.Conn.SetWriteDeadline(d)
}

// abortWrites interrupts a blocked write for good.
func (t *transport) abortWrites() { t.setAbortDeadline(aLongTimeAgo) }
