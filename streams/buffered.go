package streams

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"sync/atomic"

	"github.com/tether-go/tether/cancel"
	"github.com/tether-go/tether/internal/busy"
	"github.com/tether-go/tether/internal/streamerr"
)

// minBufferedRead is the smallest buffer a [Buffered] receives into.
const minBufferedRead = 4096

// errEmptyReceive is what Receive returns when it is given an empty buffer:
// it could never return at least one byte.
var errEmptyReceive = streamerr.ErrEmptyReceive

// errBufferedBusy is what a receive call of a [Buffered] returns while
// another one runs.
var errBufferedBusy = fmt.Errorf("streams: Buffered: another receive call is in progress: %w", ErrBusy)

// Buffered adds a read buffer to a [ByteReceiver], for protocols that read
// a fixed number of bytes ([Buffered.ReceiveExactly]) or up to a delimiter
// ([Buffered.ReceiveUntil]): AnyIO's BufferedByteReceiveStream, and the
// counterpart of bufio.Reader for streams that take a context.
//
// Nothing is ever lost: bytes that a failed or cancelled call had already
// received stay in the buffer for the next call, so a call cancelled
// halfway through a message can be retried.
//
// Make it with [NewBuffered]; the zero value is not usable. One receive
// call may run at a time: a second one, from another goroutine, returns
// [ErrBusy]. It is not reusable after Close. It allocates the slices it
// returns, and a buffer that grows to the largest message asked for.
//
// To send as well, staple it to the sending side:
// Staple(conn, NewBuffered(conn)).
type Buffered struct {
	r      ByteReceiver
	busy   busy.Guard // one receive call at a time
	closed atomic.Bool
	buf    []byte // buf[off:] holds the buffered bytes
	off    int
}

var _ ByteReceiver = (*Buffered)(nil)

// NewBuffered returns a [Buffered] that receives from r. It panics if r is
// nil.
func NewBuffered(r ByteReceiver) *Buffered {
	if r == nil {
		panic("streams: NewBuffered with a nil receiver")
	}
	return &Buffered{r: r}
}

// Receive copies buffered bytes into p, or, when the buffer is empty,
// receives into p from the wrapped receiver. It follows [ByteReceiver]: it
// returns a cancellation error when ctx is done (even if bytes are
// buffered; they stay), [ErrBusy] when another receive call is running,
// [ErrClosed] after Close, and an error wrapping io.ErrShortBuffer when p is
// empty.
func (b *Buffered) Receive(ctx context.Context, p []byte) (int, error) {
	if len(p) == 0 {
		return 0, errEmptyReceive
	}
	if err := b.acquire(ctx); err != nil {
		return 0, err
	}
	defer b.busy.Release()
	if b.off < len(b.buf) {
		n := copy(p, b.buf[b.off:])
		b.consume(n)
		return n, nil
	}
	return b.r.Receive(ctx, p)
}

// ReceiveExactly returns the next n bytes, in a new slice, receiving until
// it has them. n == 0 returns an empty slice at once.
//
// If the stream ends first, it returns an error matching
// [ErrIncompleteRead] (and io.ErrUnexpectedEOF), and the bytes it received
// stay buffered: a later Receive returns them. When ctx is done it returns
// a cancellation error, and likewise keeps what it received. [ErrBusy] and
// [ErrClosed] as for Receive. A negative n is a mistake: it panics.
func (b *Buffered) ReceiveExactly(ctx context.Context, n int) ([]byte, error) {
	if n < 0 {
		panic("streams: ReceiveExactly with a negative count")
	}
	if err := b.acquire(ctx); err != nil {
		return nil, err
	}
	defer b.busy.Release()
	for len(b.buf)-b.off < n {
		if err := b.fill(ctx, n); err != nil {
			if errors.Is(err, ErrEndOfStream) {
				return nil, fmt.Errorf("streams: ReceiveExactly got %d of %d bytes: %w", len(b.buf)-b.off, n, ErrIncompleteRead)
			}
			return nil, err
		}
	}
	return b.take(n, n), nil
}

// ReceiveUntil returns the bytes before the next occurrence of delim, in a
// new slice, and consumes delim too (it is not returned). It receives until
// it finds delim.
//
// The limit maxLen is strict: the returned slice holds at most maxLen
// bytes, that is, delim must start within the first maxLen+1 bytes, so
// ReceiveUntil never looks further than maxLen+len(delim) bytes ahead. If
// delim is not there, it returns an error matching [ErrDelimiterNotFound]
// and consumes nothing: the bytes stay buffered, for a retry with a larger
// maxLen or for Receive. (AnyIO's receive_until is not strict: whether it
// accepts a longer line depends on how the bytes arrived.)
//
// If the stream ends before delim, it returns an error matching
// [ErrIncompleteRead] and the bytes stay buffered. When ctx is done it
// returns a cancellation error and keeps what it received. [ErrBusy] and
// [ErrClosed] as for Receive. An empty delim or a maxLen below 1 is a
// mistake: it panics.
func (b *Buffered) ReceiveUntil(ctx context.Context, delim []byte, maxLen int) ([]byte, error) {
	if len(delim) == 0 {
		panic("streams: ReceiveUntil with an empty delimiter")
	}
	if maxLen < 1 {
		panic("streams: ReceiveUntil with a maximum below 1")
	}
	if err := b.acquire(ctx); err != nil {
		return nil, err
	}
	defer b.busy.Release()
	limit := maxLen + len(delim)
	if limit < maxLen { // overflow: no limit in practice
		limit = math.MaxInt
	}
	from := 0 // where a new search may start: earlier bytes hold no delim
	for {
		data := b.buf[b.off:]
		window := data[:min(len(data), limit)]
		// An occurrence that lies within the window starts at or before
		// maxLen.
		if i := bytes.Index(window[from:], delim); i >= 0 {
			return b.take(from+i, from+i+len(delim)), nil
		}
		if len(data) >= limit {
			return nil, fmt.Errorf("streams: ReceiveUntil: no delimiter within %d bytes: %w", maxLen, ErrDelimiterNotFound)
		}
		from = max(0, len(data)-len(delim)+1)
		if err := b.fill(ctx, limit); err != nil {
			if errors.Is(err, ErrEndOfStream) {
				return nil, fmt.Errorf("streams: ReceiveUntil: no delimiter in the last %d bytes: %w", len(b.buf)-b.off, ErrIncompleteRead)
			}
			return nil, err
		}
	}
}

// Buffer returns a copy of the bytes received but not yet consumed. It
// panics if a receive call is running: the answer would be meaningless.
func (b *Buffered) Buffer() []byte {
	b.mustAcquire("Buffer")
	defer b.busy.Release()
	return bytes.Clone(b.buf[b.off:len(b.buf):len(b.buf)])
}

// Feed appends p to the buffer, after the bytes already there: receive
// calls return them before anything more from the wrapped receiver
// (AnyIO's feed_data). Use it for bytes that were read from the stream
// before it was wrapped. Feed does not keep p. It panics if a receive call
// is running.
func (b *Buffered) Feed(p []byte) {
	b.mustAcquire("Feed")
	defer b.busy.Release()
	b.buf = append(b.buf, p...)
}

// Close closes the wrapped receiver if it implements io.Closer, which
// wakes a receive call blocked on it, and makes later calls return
// [ErrClosed]; the buffered bytes are dropped. Calling Close again does
// nothing and returns nil.
func (b *Buffered) Close() error {
	if b.closed.Swap(true) {
		return nil
	}
	if c, ok := b.r.(io.Closer); ok {
		return c.Close()
	}
	return nil
}

// Unwrap returns the receiver that b wraps: through it [Extra] answers
// the attributes of the stream below.
func (b *Buffered) Unwrap() ByteReceiver { return b.r }

// acquire claims the receive side for one call, or says why it cannot.
func (b *Buffered) acquire(ctx context.Context) error {
	if !b.busy.TryAcquire() {
		return errBufferedBusy
	}
	if b.closed.Load() {
		b.busy.Release()
		return ErrClosed
	}
	if err := cancel.Checkpoint(ctx); err != nil {
		b.busy.Release()
		return err
	}
	return nil
}

func (b *Buffered) mustAcquire(method string) {
	if !b.busy.TryAcquire() {
		panic("streams: Buffered." + method + " called while a receive call is running")
	}
}

// take returns a copy of the next n buffered bytes and consumes skip >= n.
func (b *Buffered) take(n, skip int) []byte {
	out := make([]byte, n)
	copy(out, b.buf[b.off:])
	b.consume(skip)
	return out
}

func (b *Buffered) consume(n int) {
	b.off += n
	if b.off == len(b.buf) {
		b.buf, b.off = b.buf[:0], 0
	}
}

// fill receives once from the wrapped receiver into the free space after
// the buffered bytes. want is how many buffered bytes the caller waits for:
// the buffer grows towards it by doubling, so that a large count announced
// by a peer is not allocated before the bytes arrive.
func (b *Buffered) fill(ctx context.Context, want int) error {
	if len(b.buf) == cap(b.buf) {
		n := len(b.buf) - b.off
		if b.off > 0 && (want <= cap(b.buf) || n < cap(b.buf)/2) {
			// Moving the bytes to the front frees enough room.
			copy(b.buf, b.buf[b.off:])
		} else {
			size := max(2*cap(b.buf), minBufferedRead)
			size = min(size, max(want, minBufferedRead))
			grown := make([]byte, n, size)
			copy(grown, b.buf[b.off:])
			b.buf = grown
		}
		b.buf, b.off = b.buf[:n], 0
	}
	n, err := b.r.Receive(ctx, b.buf[len(b.buf):cap(b.buf)])
	b.buf = b.buf[:len(b.buf)+n]
	return err
}
