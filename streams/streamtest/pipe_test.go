package streamtest_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/tether-go/tether/cancel"
	"github.com/tether-go/tether/streams"
)

// byteFaults are the bugs that a test pipe can be built with, to check that
// the suite catches them. The zero value is a correct pipe.
type byteFaults struct {
	zeroReceive   bool // the first Receive returns 0, nil
	loseOnCancel  bool // a cancelled Receive drops the next chunk that arrives
	noBusy        bool // a second concurrent Receive waits instead of ErrBusy
	retainSend    bool // Send keeps p and queues what it holds at the next Send
	closeEOF      bool // Receive on a closed end returns ErrEndOfStream
	ignoreCancel  bool // a blocked Receive ignores its context
	emptyBlocks   bool // Receive with an empty buffer waits for data
	emptyPlainErr bool // Receive with an empty buffer fails without io.ErrShortBuffer
	eofTruncates  bool // the peer's Close discards what it had sent
	sendEOFIgnore bool // Send after SendEOF succeeds
}

// pipeCapacity is how many bytes one direction buffers before Send waits.
const pipeCapacity = 64 << 10

// newPipe returns the two ends of an in-memory, buffered byte stream with
// the given faults: a small reference implementation of the contract.
func newPipe(f byteFaults) (a, b streams.ByteStream) {
	ab, ba := newHalf(), newHalf()
	return &pipeEnd{in: ba, out: ab, f: f}, &pipeEnd{in: ab, out: ba, f: f}
}

// half is one direction of a pipe.
type half struct {
	mu        sync.Mutex
	chunks    [][]byte
	size      int
	eof       bool // the writer sent EOF
	wclosed   bool // the writing end is closed
	rclosed   bool // the reading end is closed
	receiving bool
	sending   bool
	dropNext  bool   // loseOnCancel: the next chunk is dropped
	retained  []byte // retainSend: the p of the last Send
	zeroDone  bool
	wake      chan struct{} // closed and replaced on every change
}

func newHalf() *half { return &half{wake: make(chan struct{})} }

func (h *half) changed() {
	close(h.wake)
	h.wake = make(chan struct{})
}

// wait releases h.mu until h changes or ctx is done (or, with
// ignoreCtx, only until h changes).
func (h *half) wait(ctx context.Context, ignoreCtx bool) {
	w := h.wake
	h.mu.Unlock()
	if ignoreCtx {
		<-w
	} else {
		select {
		case <-w:
		case <-ctx.Done():
		}
	}
	h.mu.Lock()
}

type pipeEnd struct {
	in, out *half
	f       byteFaults
}

var errEmptyBuffer = fmt.Errorf("pipe: Receive with an empty buffer: %w", io.ErrShortBuffer)

func (e *pipeEnd) Receive(ctx context.Context, p []byte) (int, error) {
	h := e.in
	if len(p) == 0 && e.f.emptyPlainErr {
		return 0, errors.New("pipe: Receive with an empty buffer")
	}
	if len(p) == 0 && !e.f.emptyBlocks {
		return 0, errEmptyBuffer
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.receiving && !e.f.noBusy {
		return 0, streams.ErrBusy
	}
	h.receiving = true
	defer func() { h.receiving = false }()
	if e.f.zeroReceive && !h.zeroDone {
		h.zeroDone = true
		return 0, nil
	}
	for {
		switch {
		case h.rclosed && e.f.closeEOF:
			return 0, streams.ErrEndOfStream
		case h.rclosed:
			return 0, streams.ErrClosed
		case h.size > 0 && h.dropNext:
			h.size -= len(h.chunks[0])
			h.chunks = h.chunks[1:]
			h.dropNext = false
			h.changed()
			continue
		case h.size > 0 && len(p) > 0:
			n := 0
			for n < len(p) && len(h.chunks) > 0 {
				c := copy(p[n:], h.chunks[0])
				n += c
				if h.chunks[0] = h.chunks[0][c:]; len(h.chunks[0]) == 0 {
					h.chunks = h.chunks[1:]
				}
			}
			h.size -= n
			h.changed()
			return n, nil
		case h.eof || h.wclosed:
			return 0, streams.ErrEndOfStream
		}
		if err := cancel.Checkpoint(ctx); err != nil && !e.f.ignoreCancel {
			h.dropNext = e.f.loseOnCancel
			return 0, err
		}
		h.wait(ctx, e.f.ignoreCancel)
	}
}

func (e *pipeEnd) Send(ctx context.Context, p []byte) error {
	h := e.out
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.wclosed || (h.eof && !e.f.sendEOFIgnore) {
		return streams.ErrClosed
	}
	if h.sending {
		return streams.ErrBusy
	}
	h.sending = true
	defer func() { h.sending = false }()
	for len(p) > 0 {
		switch {
		case h.wclosed:
			return streams.ErrClosed
		case h.rclosed:
			return streams.ErrBroken
		case e.f.retainSend:
			// Reading the retained p here, during a later call, is
			// the bug without a data race: the caller's writes to p
			// happened before this call.
			if h.retained != nil {
				h.chunks = append(h.chunks, append([]byte(nil), h.retained...))
				h.size += len(h.retained)
				h.changed()
			}
			h.retained = p
			return nil
		case h.size < pipeCapacity:
			n := min(pipeCapacity-h.size, len(p))
			h.chunks = append(h.chunks, append([]byte(nil), p[:n]...))
			h.size += n
			p = p[n:]
			h.changed()
			continue
		}
		if err := cancel.Checkpoint(ctx); err != nil {
			return err
		}
		h.wait(ctx, false)
	}
	return nil
}

func (e *pipeEnd) SendEOF(ctx context.Context) error {
	h := e.out
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.wclosed {
		return streams.ErrClosed
	}
	h.eof = true
	h.changed()
	return nil
}

func (e *pipeEnd) Close() error {
	e.in.mu.Lock()
	e.in.rclosed = true
	e.in.chunks, e.in.size = nil, 0
	e.in.changed()
	e.in.mu.Unlock()

	e.out.mu.Lock()
	e.out.wclosed = true
	if e.f.eofTruncates {
		e.out.chunks, e.out.size = nil, 0
	}
	e.out.changed()
	e.out.mu.Unlock()
	return nil
}
