package memstream

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"sync"

	"github.com/tether-go/tether/cancel"
	"github.com/tether-go/tether/internal/busy"
	"github.com/tether-go/tether/streams"
)

// PipeBufferSize is how many bytes each direction of a [Pipe] buffers
// before Send waits for the peer to receive.
const PipeBufferSize = 64 << 10

// The errors of pipes.
var (
	errPipeClosed   = fmt.Errorf("memstream: pipe is closed: %w", streams.ErrClosed)
	errPipeEOFSent  = fmt.Errorf("memstream: Send after SendEOF: %w", streams.ErrClosed)
	errPipeBroken   = fmt.Errorf("memstream: peer closed the pipe: %w", streams.ErrBroken)
	errPipeSendBusy = fmt.Errorf("memstream: another Send or SendEOF is in progress: %w", streams.ErrBusy)
	errPipeRecvBusy = fmt.Errorf("memstream: another Receive is in progress: %w", streams.ErrBusy)
	errEmptyBuffer  = fmt.Errorf("memstream: Receive into an empty buffer: %w", io.ErrShortBuffer)
)

// Pipe returns the two ends of an in-memory, full-duplex byte stream: what
// one end sends, the other receives. Unlike net.Pipe, each direction
// buffers up to [PipeBufferSize] bytes, so a Send that fits returns
// without waiting for the peer, and each direction can be half-closed with
// SendEOF. It is meant for tests of protocols.
//
// Both ends are safe for concurrent use, but one Send and one Receive at a
// time: a second concurrent call in the same direction returns an error
// matching [streams.ErrBusy]. Send and Receive check ctx first: a done ctx
// fails them even when they would not have had to wait.
//
// Receive follows [streams.ByteReceiver]: it waits for at least one byte;
// it returns [streams.ErrEndOfStream] once the peer has called SendEOF or
// Close and every byte sent before was received; when ctx is done while it
// waits it returns the cancellation error and consumes nothing (bytes that
// a Send had already copied into p before that are returned instead, not
// lost); an empty p is an error wrapping io.ErrShortBuffer.
//
// Send copies p into the buffer (or straight into a waiting Receive's p),
// waiting while the buffer is full; it keeps no reference to p once it
// returns. A p that fits in the free space is sent whole, without waiting,
// or not at all. When ctx is done while a larger Send waits, Send returns
// the cancellation error, and the bytes of p already copied (a prefix of
// p, never more) will still be received; the rest will not. Send after
// SendEOF returns an error matching [streams.ErrClosed]; Send after the
// peer closed returns one matching [streams.ErrBroken], and the peer's
// Close wakes a waiting Send with it.
//
// SendEOF ends this direction after the bytes already sent; calling it
// again does nothing, and calling it while a Send is in progress returns
// an error matching [streams.ErrBusy]. The other direction keeps working.
//
// Close closes this end: it sends EOF (the peer receives what was sent,
// then [streams.ErrEndOfStream]), drops what this end had not received
// yet (the peer's Sends then fail with [streams.ErrBroken]), and wakes
// the calls blocked on this end, which return an error matching
// [streams.ErrClosed], as does every later call but Close. Close is
// idempotent and returns nil.
//
// The ends have no attributes. A pipe costs a few small allocations, and
// each direction's PipeBufferSize buffer is allocated by its first Send
// that does not go straight to a waiting Receive. Bytes are copied once
// when the receiver is already waiting, else twice, in chunks that the two
// sides copy at the same time.
func Pipe() (streams.ByteStream, streams.ByteStream) {
	ab, ba := newPipeHalf(), newPipeHalf()
	return &pipeEnd{in: ba, out: ab}, &pipeEnd{in: ab, out: ba}
}

// pipeHalf is one direction of a pipe: written by one end, read by the
// other.
//
// Bytes are copied outside the mutex, so that the two sides can copy at
// the same time. That is safe because at most one Send and one Receive run
// at a time (ErrBusy), and each copy works on memory that the other side
// leaves alone until the copy is published under mu:
//
//   - the ring buf: the sender copies into the free part and the receiver
//     out of the filled part; each moves the boundary (head, n) after its
//     copy;
//   - a receiver that waits on an empty ring lends its p (rwait): a sender
//     that claims it (filling) copies straight into it, once instead of
//     twice, and the receiver does not return before the copy is done;
//   - a sender that waits on a full ring lends the rest of its p (pend): a
//     receiver that has drained the ring claims it (draining) and copies
//     straight from it, and the sender does not return before that copy
//     is done.
//
// A Close during a copy is noticed when the copy is published.
type pipeHalf struct {
	mu      sync.Mutex
	buf     []byte // PipeBufferSize bytes once a Send needs it; nil again once the reader closed
	head, n int    // buf[head:head+n], wrapping, holds the bytes not yet received

	rwait    []byte // the p of a receiver waiting on an empty ring, until a sender claims it
	filling  bool   // a sender is copying into the claimed rwait
	rgot     int    // how many bytes the sender copied into it
	pend     []byte // what is left of the p of a sender waiting on a full ring
	draining bool   // a receiver is copying from pend

	eof     bool // the writer called SendEOF or Close: no more data
	wClosed bool // the writing end was closed
	rClosed bool // the reading end was closed: data is dropped
	// The one Send and the one Receive that may run at a time. They are
	// claimed and released under mu, so Held is exact there.
	sending, receiving busy.Guard

	// Wake-ups, capacity 1, for the one Receive and the one Send that
	// can wait at a time. A token means "look again": a waiter may find a
	// stale one, and then it re-checks and waits again.
	readable chan struct{}
	writable chan struct{}
}

// pipeChunk is the most a Send copies into the ring before it publishes
// what it copied, so that the receiver can copy that out while the sender
// copies the next chunk.
const pipeChunk = 16 << 10

func newPipeHalf() *pipeHalf {
	return &pipeHalf{readable: make(chan struct{}, 1), writable: make(chan struct{}, 1)}
}

func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// pipeEnd is one end of a pipe.
type pipeEnd struct {
	in  *pipeHalf // what this end receives
	out *pipeHalf // what this end sends
}

var _ streams.ByteStream = (*pipeEnd)(nil)

// Receive implements [streams.ByteReceiver]; see [Pipe].
func (e *pipeEnd) Receive(ctx context.Context, p []byte) (int, error) {
	if len(p) == 0 {
		return 0, errEmptyBuffer
	}
	done := ctx.Done()
	if isDone(done) {
		return 0, cancel.Checkpoint(ctx)
	}
	h := e.in
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.rClosed {
		return 0, errPipeClosed
	}
	if !h.receiving.TryAcquire() {
		return 0, errPipeRecvBusy
	}
	defer h.receiving.Release()
	for {
		switch {
		case h.n > 0 || len(h.pend) > 0:
			return h.readLocked(p)
		case h.eof:
			return 0, streams.ErrEndOfStream
		}
		h.rwait = p
		h.mu.Unlock()
		select {
		case <-h.readable:
		case <-done:
		}
		h.mu.Lock()
		for h.filling { // a sender is writing into p: it must finish first
			h.mu.Unlock()
			<-h.readable
			h.mu.Lock()
		}
		h.rwait = nil
		if n := h.rgot; n > 0 {
			h.rgot = 0
			if h.rClosed {
				return 0, errPipeClosed
			}
			return n, nil // delivered: a done ctx no longer undoes it
		}
		switch {
		case h.rClosed:
			return 0, errPipeClosed
		case isDone(done):
			return 0, cancel.Checkpoint(ctx)
		}
	}
}

// readLocked copies into p the bytes that are ready: first from the
// ring, then from the p of a waiting sender, as long as p has room. It
// does not wait.
func (h *pipeHalf) readLocked(p []byte) (int, error) {
	total := 0
	for total < len(p) {
		switch {
		case h.n > 0:
			// The sender may publish more while this copy runs: the loop
			// takes that too.
			k, head, buf := min(h.n, len(p)-total), h.head, h.buf
			h.mu.Unlock()
			c := copy(p[total:total+k], buf[head:])
			copy(p[total+c:total+k], buf)
			h.mu.Lock()
			if h.rClosed {
				return 0, errPipeClosed
			}
			h.head = (head + k) & (len(buf) - 1)
			h.n -= k
			total += k
		case len(h.pend) > 0:
			src := h.pend
			k := min(len(src), len(p)-total)
			h.draining = true
			h.mu.Unlock()
			copy(p[total:], src[:k])
			h.mu.Lock()
			h.draining = false
			if h.rClosed {
				signal(h.writable)
				return 0, errPipeClosed
			}
			h.pend = h.pend[k:]
			total += k
		default:
			signal(h.writable)
			return total, nil
		}
	}
	signal(h.writable)
	return total, nil
}

// Send implements [streams.ByteSender]; see [Pipe].
func (e *pipeEnd) Send(ctx context.Context, p []byte) error {
	done := ctx.Done()
	if isDone(done) {
		return cancel.Checkpoint(ctx)
	}
	h := e.out
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.wClosed {
		return errPipeClosed
	}
	if !h.sending.TryAcquire() {
		return errPipeSendBusy
	}
	defer h.sending.Release()
	switch {
	case h.eof:
		return errPipeEOFSent
	case h.rClosed:
		return errPipeBroken
	}
	yielded := false
	for len(p) > 0 {
		switch {
		case h.rwait != nil && h.n == 0:
			// (The ring may have been filled by a chunk published after
			// the receiver began to wait: those bytes go first.)
			p = h.fillLocked(p)
		case h.rgot > 0 && h.n == 0 && len(p) >= pipeChunk && !yielded:
			// The receiver was handed bytes and has not run since: it is
			// about to return and, likely, to wait again. Letting it run
			// first lets this large p go straight into its buffer, copied
			// once, rather than twice through the ring.
			yielded = true
			h.mu.Unlock()
			runtime.Gosched()
			h.mu.Lock()
		case h.n < PipeBufferSize:
			if h.buf == nil {
				h.buf = make([]byte, PipeBufferSize)
			}
			p = h.writeRingLocked(p, PipeBufferSize-h.n)
		default:
			h.pend = p
			h.mu.Unlock()
			select {
			case <-h.writable:
			case <-done:
			}
			h.mu.Lock()
			for h.draining { // a receiver is reading from p: it must finish first
				h.mu.Unlock()
				<-h.writable
				h.mu.Lock()
			}
			p, h.pend = h.pend, nil
			if len(p) > 0 && isDone(done) {
				if err := h.sendingLocked(); err != nil {
					return err
				}
				return cancel.Checkpoint(ctx)
			}
		}
		if err := h.sendingLocked(); err != nil {
			return err
		}
	}
	return nil
}

// fillLocked copies the start of p into the p of the waiting receiver, and
// returns the rest.
func (h *pipeHalf) fillLocked(p []byte) []byte {
	dst := h.rwait
	h.rwait = nil
	h.filling = true
	h.mu.Unlock()
	k := copy(dst, p)
	h.mu.Lock()
	h.filling = false
	h.rgot = k
	signal(h.readable)
	return p[k:]
}

// writeRingLocked copies the start of p into the free part of the ring,
// and returns the rest.
func (h *pipeHalf) writeRingLocked(p []byte, free int) []byte {
	k, tail, buf := min(free, len(p), pipeChunk), (h.head+h.n)&(len(h.buf)-1), h.buf
	h.mu.Unlock()
	c := copy(buf[tail:], p[:k])
	copy(buf, p[c:k])
	h.mu.Lock()
	if h.sendingLocked() != nil {
		return p // not published; Send returns the error
	}
	h.n += k
	signal(h.readable)
	return p[k:]
}

// sendingLocked returns why a Send that was copying or waiting must stop
// (the pipe was closed meanwhile), or nil.
func (h *pipeHalf) sendingLocked() error {
	switch {
	case h.wClosed:
		return errPipeClosed
	case h.rClosed:
		return errPipeBroken
	}
	return nil
}

// SendEOF implements [streams.ByteSender]; see [Pipe]. It never waits.
func (e *pipeEnd) SendEOF(ctx context.Context) error {
	h := e.out
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case h.wClosed:
		return errPipeClosed
	case h.sending.Held():
		return errPipeSendBusy
	case h.eof:
		return nil
	}
	h.eof = true
	signal(h.readable)
	return nil
}

// Close implements [io.Closer]; see [Pipe].
func (e *pipeEnd) Close() error {
	h := e.out
	h.mu.Lock()
	if !h.wClosed {
		h.wClosed, h.eof = true, true
		if !h.draining {
			h.pend = nil // nothing of a waiting Send goes out after Close
		}
		signal(h.readable) // the peer's Receive: end of stream
		signal(h.writable) // this end's Send: closed
	}
	h.mu.Unlock()

	h = e.in
	h.mu.Lock()
	if !h.rClosed {
		h.rClosed = true
		h.buf, h.head, h.n = nil, 0, 0
		signal(h.readable) // this end's Receive: closed
		signal(h.writable) // the peer's Send: broken
	}
	h.mu.Unlock()
	return nil
}
