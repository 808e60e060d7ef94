package tethertest

import (
	"context"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tether-go/tether/cancel"
	"github.com/tether-go/tether/internal/busy"
	"github.com/tether-go/tether/streams"
)

// The errors of faulty streams.
var (
	errClosed      = fmt.Errorf("tethertest: faulty stream is closed: %w", streams.ErrClosed)
	errReset       = fmt.Errorf("tethertest: connection reset (ResetAfter): %w", streams.ErrBroken)
	errReceiveBusy = fmt.Errorf("tethertest: another Receive is in progress: %w", streams.ErrBusy)
	errEmptyBuffer = fmt.Errorf("tethertest: Receive into an empty buffer: %w", io.ErrShortBuffer)
)

// FaultyStream is a [streams.ByteStream] that misbehaves on purpose, the
// way networks and peers do, so that code can be tested against that
// without sockets: it wraps a stream (typically one end of a
// memstream.Pipe, or a connection accepted from a memstream.Listener
// through [FaultyAccepts]) and changes what its user receives, as its
// [Fault]s say. Make one with [Faulty].
//
// Apart from the faults, it keeps the stream contract: Receive delivers
// the bytes in order, none lost nor repeated, waits only as its ctx
// allows (a cancelled Receive consumes nothing: bytes it had taken from
// the wrapped stream are kept for the next Receive), returns
// [streams.ErrBusy] to a second concurrent Receive, and Close wakes every
// blocked call. Its waits (Latency, Bandwidth, StallAfter, SlowClose) use
// time.Timer, so that under testing/synctest they take no real time. Send
// and SendEOF go to the wrapped stream as they are (after a ResetAfter
// fault has fired, they fail).
//
// The zero value is not usable. A FaultyStream is safe for concurrent
// use, one Send and one Receive at a time, and not reusable after Close.
// It costs a copy of every byte received, and a timer for each Receive
// that must wait.
type FaultyStream struct {
	s      streams.ByteStream
	faults faults

	closing    context.Context // done once Close was called
	startClose context.CancelFunc
	closeOnce  sync.Once
	closeErr   error
	broken     atomic.Bool // a ResetAfter fault fired
	receive    busy.Guard
	pending    []byte    // taken from s, not delivered yet; the Receive that holds the guard owns it
	pendErr    error     // the wrapped stream's end (or breakage), not delivered yet
	buf        []byte    // pending's storage
	readyAt    time.Time // when pending may be delivered (Latency)
	nextAt     time.Time // when the next byte may be delivered (Bandwidth)
	received   int64     // bytes delivered
}

var _ streams.ByteStream = (*FaultyStream)(nil)

// Faulty returns s wrapped so that it misbehaves as faults say (with no
// faults, it behaves as s does). The returned stream owns s: closing it
// closes s. Use s only through it from then on.
func Faulty(s streams.ByteStream, faults ...Fault) *FaultyStream {
	if s == nil {
		panic("tethertest: Faulty of a nil stream")
	}
	f := &FaultyStream{s: s, faults: makeFaults(faults)}
	f.closing, f.startClose = context.WithCancel(context.Background())
	return f
}

// Unwrap returns the stream that f wraps, so that streams.Extra finds its
// attributes.
func (f *FaultyStream) Unwrap() streams.ByteStream { return f.s }

// Receive receives bytes as the faults allow (see [FaultyStream] and each
// [Fault]). When ctx is done while it waits, it returns the cancellation
// error and delivers nothing; the bytes it was holding back stay for the
// next Receive. When f is closed, before or while it waits, it returns an
// error matching [streams.ErrClosed].
func (f *FaultyStream) Receive(ctx context.Context, p []byte) (int, error) {
	if len(p) == 0 {
		return 0, errEmptyBuffer
	}
	if !f.receive.TryAcquire() {
		return 0, errReceiveBusy
	}
	defer f.receive.Release()
	if err := f.check(ctx); err != nil {
		return 0, err
	}
	limit := len(p)
	if f.faults.cut != cutNone {
		left := f.faults.cutAt - f.received
		if left <= 0 {
			return 0, f.cutNow(ctx)
		}
		limit = int(min(int64(limit), left))
	}
	if len(f.pending) == 0 && f.pendErr == nil {
		if err := f.fill(ctx, limit); err != nil {
			return 0, err
		}
	}
	if err := f.wait(ctx, f.deliverAt()); err != nil {
		return 0, err
	}
	if err := f.pendErr; err != nil {
		f.pendErr = nil
		return 0, err
	}
	// What one Receive delivers: Chunked and Bandwidth cut what arrived
	// together into pieces.
	if f.faults.chunk > 0 {
		limit = min(limit, f.faults.chunk)
	}
	if bw := f.faults.bandwidth; bw > 0 {
		limit = int(min(int64(limit), max(1, bw/100)))
	}
	n := copy(p[:limit], f.pending)
	f.pending = f.pending[n:]
	f.received += int64(n)
	if bw := f.faults.bandwidth; bw > 0 {
		// The n bytes take n/bw seconds of the link: the next byte can
		// come no sooner.
		f.nextAt = time.Now().Add(time.Duration(int64(n) * int64(time.Second) / bw))
	}
	return n, nil
}

// fill takes at most limit bytes from the wrapped stream into pending, or
// the error that ends it into pendErr, and sets when they may be
// delivered: what one Receive of the wrapped stream returns arrived
// together, and Latency delays it as a whole. It returns the errors that
// Receive returns at once: cancellation, and f's Close.
func (f *FaultyStream) fill(ctx context.Context, limit int) error {
	if cap(f.buf) < limit {
		f.buf = make([]byte, limit)
	}
	rctx, stop := f.watchClose(ctx)
	n, err := f.s.Receive(rctx, f.buf[:limit])
	stop()
	switch {
	case err == nil:
		f.pending = f.buf[:n]
	case f.closed():
		return errClosed
	case cancel.IsCancelled(err):
		return err
	default:
		// The end of the stream, or a broken one, comes as late as data.
		f.pendErr = err
	}
	f.readyAt = time.Now().Add(f.faults.latency)
	return nil
}

// deliverAt returns when pending may be delivered.
func (f *FaultyStream) deliverAt() time.Time {
	if f.nextAt.After(f.readyAt) {
		return f.nextAt
	}
	return f.readyAt
}

// cutNow is what Receive does once the stream has delivered its limit.
func (f *FaultyStream) cutNow(ctx context.Context) error {
	switch f.faults.cut {
	case cutReset:
		f.broken.Store(true)
		f.s.Close() // the peer sees the connection go away
		return errReset
	case cutEOF:
		return streams.ErrEndOfStream
	default: // cutStall
		return f.wait(ctx, time.Time{})
	}
}

// wait waits until t (forever when t is zero), or until ctx is done or f
// is closed, which it reports as an error.
func (f *FaultyStream) wait(ctx context.Context, t time.Time) error {
	var timeout <-chan time.Time
	if !t.IsZero() {
		d := time.Until(t)
		if d <= 0 {
			return nil
		}
		timer := time.NewTimer(d)
		defer timer.Stop()
		timeout = timer.C
	}
	select {
	case <-timeout:
		return nil
	case <-ctx.Done():
		return cancel.Checkpoint(ctx)
	case <-f.closing.Done():
		return errClosed
	}
}

// check returns the error that a call on f gets before it starts.
func (f *FaultyStream) check(ctx context.Context) error {
	switch {
	case f.closed():
		return errClosed
	case f.broken.Load():
		return errReset
	}
	return cancel.Checkpoint(ctx)
}

func (f *FaultyStream) closed() bool { return f.closing.Err() != nil }

// watchClose returns the context for a call on the wrapped stream. Close
// wakes such calls by closing the wrapped stream, except under SlowClose,
// which closes it late: then the call's context is also cancelled by
// Close.
func (f *FaultyStream) watchClose(ctx context.Context) (context.Context, func()) {
	if f.faults.slowClose == 0 {
		return ctx, func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(f.closing, cancel)
	return ctx, func() {
		stop()
		cancel()
	}
}

// Send sends p on the wrapped stream. After a ResetAfter fault has fired
// it returns an error matching [streams.ErrBroken]; after Close, one
// matching [streams.ErrClosed]. Otherwise it does what the wrapped
// stream's Send does, also when ctx is done.
func (f *FaultyStream) Send(ctx context.Context, p []byte) error {
	if err := f.check(ctx); err != nil {
		return err
	}
	sctx, stop := f.watchClose(ctx)
	err := f.s.Send(sctx, p)
	stop()
	return f.sendErr(err)
}

// sendErr maps the error of a send on the wrapped stream: a send that
// Close or a reset woke (by closing the wrapped stream) gets f's error.
func (f *FaultyStream) sendErr(err error) error {
	switch {
	case err == nil:
		return nil
	case f.closed():
		return errClosed
	case f.broken.Load():
		return errReset
	}
	return err
}

// SendEOF ends what f sends, as the wrapped stream's SendEOF does, with
// the errors of [FaultyStream.Send].
func (f *FaultyStream) SendEOF(ctx context.Context) error {
	if err := f.check(ctx); err != nil {
		return err
	}
	sctx, stop := f.watchClose(ctx)
	err := f.s.SendEOF(sctx)
	stop()
	return f.sendErr(err)
}

// Close wakes the calls blocked on f, which return an error matching
// [streams.ErrClosed], and closes the wrapped stream: at once, or after
// the SlowClose delay (Close returns then). It returns what the wrapped
// stream's Close returned. Close is idempotent: a second call waits for
// the first to end and returns the same.
func (f *FaultyStream) Close() error {
	f.closeOnce.Do(func() {
		f.startClose()
		if d := f.faults.slowClose; d > 0 {
			time.Sleep(d)
		}
		f.closeErr = f.s.Close()
	})
	return f.closeErr
}
