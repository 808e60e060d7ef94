package streamtest

import (
	"context"
	"errors"
	"time"

	"github.com/tether-go/tether/cancel"
	"github.com/tether-go/tether/streams"
)

// checkCancelWhileReceiving cancels a Receive blocked on a with nothing
// sent: it returns a cancellation error that keeps the cause, and the
// stream stays usable: two messages sent afterwards arrive whole and in
// order (a stream that lost data on cancellation shows here).
func checkCancelWhileReceiving(e *env, a, b streams.ByteStream) {
	cause := cancelCause("CancelWhileReceiving")
	ctx, cancelCall := context.WithCancelCause(e.ctx)
	buf := make([]byte, 64)
	res := async(e, func() result {
		n, err := e.receive(ctx, a, buf)
		return result{n, err}
	})
	settle()
	cancelCall(cause)
	r := await(e, res, "cancelled a.Receive")
	if r.err == nil {
		e.t.Fatalf("a.Receive with nothing sent, cancelled: got %d bytes %q, want a cancellation error", r.n, buf[:r.n])
	}
	e.wantCancelled("cancelled a.Receive", r.err, cause)
	wantUsable(e, b, a, "after a cancelled Receive")
}

// checkReceiveCancelledContext calls Receive with a context cancelled
// before the call, with nothing sent: it returns a cancellation error
// without waiting, and the stream stays usable.
func checkReceiveCancelledContext(e *env, a, b streams.ByteStream) {
	cause := cancelCause("ReceiveCancelledContext")
	ctx, cancelCall := context.WithCancelCause(e.ctx)
	cancelCall(cause)
	buf := make([]byte, 64)
	n, err := e.receive(ctx, a, buf)
	if err == nil {
		e.t.Fatalf("a.Receive with a cancelled context: got %d bytes %q, want a cancellation error", n, buf[:n])
	}
	e.wantCancelled("a.Receive with a cancelled context", err, cause)
	wantUsable(e, b, a, "after a Receive with a cancelled context")
}

// wantUsable sends two messages from one Send each, from "from" to "to",
// and checks that they arrive whole and in order.
func wantUsable(e *env, from, to streams.ByteStream, when string) {
	e.t.Helper()
	first, second := []byte("first message "+when), []byte("second message "+when)
	sent := async(e, func() error {
		if err := from.Send(e.ctx, first); err != nil {
			return err
		}
		return from.Send(e.ctx, second)
	})
	want := append(append([]byte(nil), first...), second...)
	e.receiveExpect(e.ctx, to, want, make([]byte, 256), "messages sent "+when)
	e.wantSent(sent, "Send "+when)
}

// Probes of checkConcurrentReceiveBusy: a second Receive, each with a time
// limit that doubles from busyFirstProbe up to busyMaxProbe.
const (
	busyProbes     = 14
	busyFirstProbe = time.Millisecond
	busyMaxProbe   = 100 * time.Millisecond
)

// checkConcurrentReceiveBusy starts a Receive on a that blocks, then calls
// a.Receive again from this goroutine: it must return ErrBusy. The suite
// cannot see when the first call is blocked, so the second call runs with
// a short time limit and is retried, a bounded number of times, while it
// times out. If the second call got in first, the first one returns ErrBusy
// instead, which also passes. Either way ErrBusy must consume nothing: a
// byte sent afterwards arrives once.
func checkConcurrentReceiveBusy(e *env, a, b streams.ByteStream) {
	first := make([]byte, 16)
	res := async(e, func() result {
		n, err := e.receive(e.ctx, a, first)
		return result{n, err}
	})
	settle()
	second := make([]byte, 16)
	var firstDone *result
	busy := false
	limit := busyFirstProbe
	for i := 0; i < busyProbes && !busy && firstDone == nil; i++ {
		ctx, stop := context.WithTimeout(e.ctx, limit)
		n, err := e.receive(ctx, a, second)
		stop()
		limit = min(2*limit, busyMaxProbe)
		switch {
		case errors.Is(err, streams.ErrBusy):
			busy = true
		case err == nil:
			e.t.Fatalf("second a.Receive, with nothing sent: got %d bytes %q, want ErrBusy", n, second[:n])
		case !cancel.IsCancelled(err) || e.ctx.Err() != nil:
			e.t.Fatalf("second a.Receive, while another was in progress: got %v, want ErrBusy", err)
		}
		select {
		case r := <-res:
			firstDone = &r
		default:
		}
	}
	if firstDone != nil {
		if r := *firstDone; r.err == nil {
			e.t.Fatalf("first a.Receive, with nothing sent: got %d bytes %q, want it to block", r.n, first[:r.n])
		} else if !errors.Is(r.err, streams.ErrBusy) {
			e.t.Fatalf("first a.Receive, while a second one was in progress: got %v, want ErrBusy or to block", r.err)
		}
		busy = true
	}
	if !busy {
		e.t.Fatalf("a second a.Receive, while another was blocked, never returned ErrBusy (%d tries, timed out each time)", busyProbes)
	}

	// The byte that ends it: to the first Receive if it is still waiting,
	// else to a new one. Nothing else may arrive.
	sent := e.sendAsync(b, []byte{'!'})
	var r result
	if firstDone == nil {
		r = await(e, res, "first a.Receive")
	} else {
		first = make([]byte, 16)
		n, err := e.receive(e.ctx, a, first)
		r = result{n, err}
	}
	e.wantSent(sent, "b.Send")
	if r.err != nil || r.n != 1 || first[0] != '!' {
		e.t.Errorf("a.Receive after the ErrBusy: got %q, %v; want \"!\", nil (ErrBusy must consume nothing)", first[:r.n], r.err)
	}
}
