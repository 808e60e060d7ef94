package streamtest

import (
	"bytes"
	"context"
	"errors"
	"io"

	"github.com/tether-go/tether/streams"
)

// checkBasicIO sends a message each way, one direction after the other,
// then both at once.
func checkBasicIO(e *env, a, b streams.ByteStream) {
	// one may run in any goroutine: it reports with Errorf only, and its
	// waits end at the latest when the check's context is done.
	one := func(from, to streams.ByteStream, msg string) {
		sent := e.sendAsync(from, []byte(msg))
		e.receiveExpect(e.ctx, to, []byte(msg), make([]byte, 1024), msg)
		if err := <-sent; err != nil {
			e.t.Errorf("Send of %q: %v", msg, err)
		}
	}
	one(a, b, "hello from a to b")
	one(b, a, "hello from b to a")
	ab := async(e, func() bool { one(a, b, "a to b, while b sends to a"); return true })
	ba := async(e, func() bool { one(b, a, "b to a, while a sends to b"); return true })
	await(e, ab, "exchange from a to b")
	await(e, ba, "exchange from b to a")
}

// checkLargeTransfer sends 4 MiB each way at once, in chunks of random
// sizes, received into buffers of random sizes: every byte must arrive, in
// order, once.
func checkLargeTransfer(e *env, a, b streams.ByteStream) {
	e.transferBothWays(a, b, transferOpts{size: 4 << 20, maxChunk: 64 << 10, seed: 1})
}

// checkConcurrentStress is checkLargeTransfer with many smaller chunks,
// where a third of the receives are cancelled, before or during the call: a
// cancelled Receive must consume nothing, so still nothing is lost.
func checkConcurrentStress(e *env, a, b streams.ByteStream) {
	e.transferBothWays(a, b, transferOpts{size: 512 << 10, maxChunk: 2048, cancelReceives: true, seed: 2})
}

// checkSmallBuffers receives into buffers of one and three bytes: Receive
// must fill no more than the buffer, and never return 0, nil.
func checkSmallBuffers(e *env, a, b streams.ByteStream) {
	data := randomBytes(3, 300)
	sent := async(e, func() error {
		for i := range data {
			if err := a.Send(e.ctx, data[i:i+1]); err != nil {
				return err
			}
		}
		return nil
	})
	e.receiveExpect(e.ctx, b, data, make([]byte, 1), "one-byte Sends into one-byte buffers")
	e.wantSent(sent, "one-byte Send")

	sent = e.sendAsync(b, data)
	e.receiveExpect(e.ctx, a, data, make([]byte, 3), "one Send into three-byte buffers")
	e.wantSent(sent, "Send")
}

// checkReceiveEmptyBuffer calls Receive with a nil and an empty buffer,
// which must return an error at once, not wait for data nor panic.
func checkReceiveEmptyBuffer(e *env, a, b streams.ByteStream) {
	for _, tc := range []struct {
		name string
		p    []byte
	}{
		{"nil buffer", nil},
		{"empty buffer", make([]byte, 0, 16)},
	} {
		n, panicked, err := receiveRecover(e.ctx, a, tc.p)
		switch {
		case panicked != nil:
			e.t.Errorf("Receive with a %s panicked (%v); want an error", tc.name, panicked)
		case err == nil:
			e.t.Errorf("Receive with a %s: got n = %d, nil error; want an error", tc.name, n)
		case e.ctx.Err() != nil:
			e.t.Fatalf("Receive with a %s returned only when the check's time ran out (error %v); want an error at once", tc.name, err)
		case n != 0:
			e.t.Errorf("Receive with a %s: got n = %d; want 0", tc.name, n)
		case !errors.Is(err, io.ErrShortBuffer):
			e.t.Errorf("Receive with a %s: got %v; want an error matching io.ErrShortBuffer", tc.name, err)
		}
	}
	msg := []byte("still usable after Receive with an empty buffer")
	sent := e.sendAsync(b, msg)
	e.receiveExpect(e.ctx, a, msg, make([]byte, 64), "Receive after the empty-buffer calls")
	e.wantSent(sent, "Send")
}

func receiveRecover(ctx context.Context, s streams.ByteReceiver, p []byte) (n int, panicked any, err error) {
	defer func() { panicked = recover() }()
	n, err = s.Receive(ctx, p)
	return n, nil, err
}

// checkSendBufferNotRetained reuses one buffer for every Send, and
// overwrites it as soon as Send returns: the peer must receive what the
// buffer held during each Send. (Under the race detector, a stream that
// still reads the buffer after Send returned is also reported as a race.)
func checkSendBufferNotRetained(e *env, a, b streams.ByteStream) {
	const chunk, chunks = 16 << 10, 16
	want := randomBytes(4, chunk*chunks)
	received := async(e, func() bool {
		return e.receiveExpect(e.ctx, b, want, make([]byte, 8<<10), "bytes from a reused Send buffer")
	})
	buf := make([]byte, chunk)
	for i := range chunks {
		copy(buf, want[i*chunk:])
		if err := a.Send(e.ctx, buf); err != nil {
			e.t.Fatalf("Send of chunk %d: %v", i, err)
		}
		fill(buf, 0xEE)
	}
	await(e, received, "receiving the reused buffers")
}

// checkReceiveBufferNotRetained overwrites the buffers of a Receive that
// returned data and of one that was cancelled, then receives more data into
// another buffer: the first two must not change. (Under the race detector,
// a stream that writes a buffer after Receive returned is also reported as
// a race.)
func checkReceiveBufferNotRetained(e *env, a, b streams.ByteStream) {
	first := []byte("first message")
	sent := e.sendAsync(b, first)
	afterData := make([]byte, 64)
	e.receiveExpect(e.ctx, a, first, afterData, "first message")
	e.wantSent(sent, "Send of the first message")
	fill(afterData, 0xAA)

	cause := cancelCause("ReceiveBufferNotRetained")
	ctx, cancelCall := context.WithCancelCause(e.ctx)
	afterCancel := make([]byte, 64)
	res := async(e, func() result {
		n, err := e.receive(ctx, a, afterCancel)
		return result{n, err}
	})
	settle()
	cancelCall(cause)
	if r := await(e, res, "cancelled Receive"); r.err == nil {
		e.t.Fatalf("Receive with nothing sent, cancelled: got %d bytes %q, want a cancellation error", r.n, afterCancel[:r.n])
	} else {
		e.wantCancelled("cancelled Receive", r.err, cause)
	}
	fill(afterCancel, 0xBB)

	second := randomBytes(5, 64<<10)
	sent = e.sendAsync(b, second)
	e.receiveExpect(e.ctx, a, second, make([]byte, 4096), "second message")
	e.wantSent(sent, "Send of the second message")
	checkFilled(e, afterData, 0xAA, "the buffer of a Receive that returned data")
	checkFilled(e, afterCancel, 0xBB, "the buffer of a cancelled Receive")
}

// result is what a Receive returned, passed from the goroutine that called
// it.
type result struct {
	n   int
	err error
}

func fill(p []byte, c byte) {
	for i := range p {
		p[i] = c
	}
}

func checkFilled(e *env, p []byte, c byte, what string) {
	e.t.Helper()
	for i, got := range p {
		if got != c {
			e.t.Errorf("%s was written after Receive returned: byte %d is %#x, want %#x", what, i, got, c)
			return
		}
	}
}

// transferOpts configures transferBothWays.
type transferOpts struct {
	size           int  // bytes each way
	maxChunk       int  // sends and receive buffers are 1 to maxChunk bytes
	cancelReceives bool // cancel a third of the receives
	seed           uint64
}

// transferBothWays sends o.size random bytes from a to b and from b to a at
// once, one sender and one receiver goroutine per direction, and checks
// that every byte arrives in order, once. The first failure stops all four
// goroutines.
func (e *env) transferBothWays(a, b streams.ByteStream, o transferOpts) {
	ctx, stop := context.WithCancel(e.ctx)
	defer stop()
	ab := e.transfer(ctx, stop, a, b, o, "a to b")
	o.seed += 100
	ba := e.transfer(ctx, stop, b, a, o, "b to a")
	await(e, ab, "transfer from a to b")
	await(e, ba, "transfer from b to a")
}

// transfer runs the sender and the receiver of one direction of
// transferBothWays; the channel it returns is closed when both are done.
// On failure it calls stop, which ends the other goroutines.
func (e *env) transfer(ctx context.Context, stop func(), from, to streams.ByteStream, o transferOpts, dir string) <-chan struct{} {
	data := randomBytes(o.seed, o.size)
	sent := async(e, func() bool {
		rng := newRand(o.seed + 1)
		for off := 0; off < len(data); {
			n := min(1+rng.IntN(o.maxChunk), len(data)-off)
			if err := from.Send(ctx, data[off:off+n]); err != nil {
				if ctx.Err() == nil {
					e.t.Errorf("%s: Send after %d of %d bytes: %v", dir, off, len(data), err)
					stop()
				}
				return false
			}
			off += n
		}
		return true
	})
	received := async(e, func() bool {
		if !e.receiveRandom(ctx, to, data, o, dir) {
			stop()
			return false
		}
		return true
	})
	done := make(chan struct{})
	e.goTrack(func() {
		<-sent
		<-received
		close(done)
	})
	return done
}

// receiveRandom receives want from s into buffers of random sizes,
// cancelling some of the calls when o.cancelReceives is set.
func (e *env) receiveRandom(ctx context.Context, s streams.ByteReceiver, want []byte, o transferOpts, dir string) bool {
	rng := newRand(o.seed + 2)
	cause := cancelCause("ConcurrentStress")
	buf := make([]byte, o.maxChunk)
	for got := 0; got < len(want); {
		p := buf[:min(1+rng.IntN(o.maxChunk), len(want)-got)]
		rctx, mode := ctx, noCancel
		if o.cancelReceives {
			rctx, mode = e.randomCancel(ctx, rng, cause)
		}
		n, err := e.receive(rctx, s, p)
		if err != nil {
			if ctx.Err() != nil {
				return false // the other direction failed
			}
			if mode != noCancel && e.wantCancelled(dir+": cancelled Receive", err, cause) {
				continue
			}
			if mode == noCancel {
				e.t.Errorf("%s: Receive after %d of %d bytes: %v", dir, got, len(want), err)
			}
			return false
		}
		if !bytes.Equal(p[:n], want[got:got+n]) {
			e.t.Errorf("%s: bytes %d to %d differ from those sent (lost, duplicated or reordered data):\n got  %s\n want %s",
				dir, got, got+n, preview(p[:n]), preview(want[got:got+n]))
			return false
		}
		got += n
	}
	return true
}
