package streamtest

import (
	"context"
	"errors"
	"reflect"
	"runtime"
	"sync/atomic"

	"github.com/tether-go/tether/streams"
)

// sendAll sends vs in order from a tracked goroutine (the stream may be a
// rendezvous) and returns the channel that receives the first error.
func sendAll[T any](e *env, s streams.ObjectSender[T], vs []T) <-chan error {
	return async(e, func() error {
		for _, v := range vs {
			if err := s.Send(e.ctx, v); err != nil {
				return err
			}
		}
		return nil
	})
}

// receiveItems receives len(want) items and compares each with want as it
// arrives, failing the check at the first difference or error (a lost item
// fails at once, instead of waiting for one that never comes).
func receiveItems[T any](e *env, r streams.ObjectReceiver[T], want []T, what string) {
	e.t.Helper()
	for i, w := range want {
		v, err := r.Receive(e.ctx)
		if err != nil {
			e.t.Fatalf("%s: Receive of item %d of %d: %v", what, i, len(want), err)
		}
		if !reflect.DeepEqual(v, w) {
			e.t.Fatalf("%s: item %d: got %s, want %s", what, i, show(v), show(w))
		}
	}
}

// checkObjectOrder sends 200 values: they arrive in order, each once.
func checkObjectOrder[T any](e *env, g *valueGen[T], s streams.ObjectSender[T], r streams.ObjectReceiver[T]) {
	want := g.values(200)
	sent := sendAll(e, s, want)
	receiveItems(e, r, want, "items received")
	e.wantSent(sent, "Send")
}

// checkObjectZeroValue sends the zero value of T among other values: it is
// an item like any other (AnyIO bug #731 took None for "no item").
func checkObjectZeroValue[T any](e *env, g *valueGen[T], s streams.ObjectSender[T], r streams.ObjectReceiver[T]) {
	var zero T
	vs := g.values(3)
	want := []T{zero, vs[0], zero, zero, vs[1], zero, vs[2]}
	sent := sendAll(e, s, want)
	receiveItems(e, r, want, "items with zero values among them")
	e.wantSent(sent, "Send")
}

// checkObjectReceiveAfterSenderClose sends five values and closes the
// sender: the receiver gets the five, then ErrEndOfStream every time.
func checkObjectReceiveAfterSenderClose[T any](e *env, g *valueGen[T], s streams.ObjectSender[T], r streams.ObjectReceiver[T]) {
	want := g.values(5)
	closed := async(e, func() error {
		if err := <-sendAll(e, s, want); err != nil {
			return err
		}
		return s.Close()
	})
	receiveItems(e, r, want, "items sent before Close")
	if err := await(e, closed, "Send then Close"); err != nil {
		e.t.Fatalf("Send then Close of the sender: %v", err)
	}
	for i := range 3 {
		v, err := r.Receive(e.ctx)
		if err == nil {
			e.t.Fatalf("Receive after the sender closed, call %d: got %s, want ErrEndOfStream", i+1, show(v))
		}
		e.wantErr("Receive after the sender closed", err, streams.ErrEndOfStream)
	}
}

// checkObjectSendAfterReceiverClose closes the receiver: Send returns
// ErrBroken, at once or after a bounded number of Sends.
func checkObjectSendAfterReceiverClose[T any](e *env, g *valueGen[T], s streams.ObjectSender[T], r streams.ObjectReceiver[T]) {
	if err := r.Close(); err != nil {
		e.t.Fatalf("receiver Close: %v", err)
	}
	const maxSends = 1000
	vs := g.values(8)
	for i := range maxSends {
		if err := s.Send(e.ctx, vs[i%len(vs)]); err != nil {
			e.wantErr("Send after the receiver closed", err, streams.ErrBroken)
			return
		}
	}
	e.t.Errorf("Send after the receiver closed: %d Sends succeeded; want ErrBroken", maxSends)
}

// checkObjectUseAfterClose closes the sender, then the receiver: Send on
// the closed sender returns ErrClosed; Receive returns ErrEndOfStream while
// the receiver is open and ErrClosed once it is closed.
func checkObjectUseAfterClose[T any](e *env, g *valueGen[T], s streams.ObjectSender[T], r streams.ObjectReceiver[T]) {
	if err := s.Close(); err != nil {
		e.t.Fatalf("sender Close: %v", err)
	}
	e.wantErr("Send on a closed sender", s.Send(e.ctx, g.values(1)[0]), streams.ErrClosed)
	_, err := r.Receive(e.ctx)
	e.wantErr("Receive after the sender closed", err, streams.ErrEndOfStream)
	if err := r.Close(); err != nil {
		e.t.Fatalf("receiver Close: %v", err)
	}
	_, err = r.Receive(e.ctx)
	e.wantErr("Receive on a closed receiver", err, streams.ErrClosed)
}

// checkObjectCloseIdempotent closes each handle twice: every Close returns
// nil.
func checkObjectCloseIdempotent[T any](e *env, g *valueGen[T], s streams.ObjectSender[T], r streams.ObjectReceiver[T]) {
	for i := range 2 {
		if err := s.Close(); err != nil {
			e.t.Errorf("sender Close, call %d: got %v, want nil", i+1, err)
		}
	}
	for i := range 2 {
		if err := r.Close(); err != nil {
			e.t.Errorf("receiver Close, call %d: got %v, want nil", i+1, err)
		}
	}
}

// checkObjectCloseWhileReceiving closes the receiver while a Receive on it
// is blocked: the Receive returns ErrClosed.
func checkObjectCloseWhileReceiving[T any](e *env, g *valueGen[T], s streams.ObjectSender[T], r streams.ObjectReceiver[T]) {
	wantWokenReceive(e, r, r, "the receiver", streams.ErrClosed)
}

// checkObjectSenderCloseWhileReceiving closes the sender while a Receive
// is blocked: the Receive returns ErrEndOfStream.
func checkObjectSenderCloseWhileReceiving[T any](e *env, g *valueGen[T], s streams.ObjectSender[T], r streams.ObjectReceiver[T]) {
	wantWokenReceive(e, r, s, "the sender", streams.ErrEndOfStream)
}

func wantWokenReceive[T any](e *env, r streams.ObjectReceiver[T], closer interface{ Close() error }, what string, want error) {
	e.t.Helper()
	type res struct {
		v   T
		err error
	}
	c := async(e, func() res { v, err := r.Receive(e.ctx); return res{v, err} })
	settle()
	if err := closer.Close(); err != nil {
		e.t.Errorf("Close of %s: %v", what, err)
	}
	got := await(e, c, "Receive blocked when "+what+" closed")
	if got.err == nil {
		e.t.Errorf("Receive blocked when %s closed: got %s, want %v", what, show(got.v), want)
		return
	}
	e.wantErr("Receive blocked when "+what+" closed", got.err, want)
}

// checkObjectCloseWhileSending sends without receiving until Send blocks
// (or forever, when the buffer is unbounded), and closes the sender: the
// Send returns ErrClosed, and no Send that started after Close returned
// succeeds.
func checkObjectCloseWhileSending[T any](e *env, g *valueGen[T], s streams.ObjectSender[T], r streams.ObjectReceiver[T]) {
	wantWokenSend(e, g, s, s, "the sender", 0, streams.ErrClosed)
}

// checkObjectReceiverCloseWhileSending is checkObjectCloseWhileSending
// closing the receiver instead: the Send returns ErrBroken, after a bounded
// number of Sends.
func checkObjectReceiverCloseWhileSending[T any](e *env, g *valueGen[T], s streams.ObjectSender[T], r streams.ObjectReceiver[T]) {
	wantWokenSend(e, g, s, r, "the receiver", 1000, streams.ErrBroken)
}

// errSentAfterClose marks more Sends succeeding after Close than allowed.
var errSentAfterClose = errors.New("sends kept succeeding after Close returned")

func wantWokenSend[T any](e *env, g *valueGen[T], s streams.ObjectSender[T], closer interface{ Close() error }, what string, allowed int, want error) {
	e.t.Helper()
	vs := g.values(16)
	var closed atomic.Bool
	c := async(e, func() error {
		afterClose := 0
		for i := 0; ; i++ {
			wasClosed := closed.Load()
			if err := s.Send(e.ctx, vs[i%len(vs)]); err != nil {
				return err
			}
			if wasClosed {
				if afterClose++; afterClose > allowed {
					return errSentAfterClose
				}
			}
			runtime.Gosched() // keeps pace with the closer when Send never blocks
		}
	})
	settle()
	if err := closer.Close(); err != nil {
		e.t.Errorf("Close of %s: %v", what, err)
	}
	closed.Store(true)
	err := await(e, c, "Send when "+what+" closed")
	if errors.Is(err, errSentAfterClose) {
		e.t.Errorf("Send after %s closed: %d Sends succeeded; want %s", what, allowed+1, errName(want))
		return
	}
	e.wantErr("Send when "+what+" closed", err, want)
}

// checkObjectCancelWhileReceiving cancels a Receive before it starts and
// one while it is blocked: both return a cancellation error that keeps the
// cause, and neither consumes anything: the values sent afterwards arrive
// in order.
func checkObjectCancelWhileReceiving[T any](e *env, g *valueGen[T], s streams.ObjectSender[T], r streams.ObjectReceiver[T]) {
	cause := cancelCause("CancelWhileReceiving")
	ctx, cancelCall := context.WithCancelCause(e.ctx)
	cancelCall(cause)
	if v, err := r.Receive(ctx); err == nil {
		e.t.Errorf("Receive with a cancelled context, nothing sent: got %s, want a cancellation error", show(v))
	} else {
		e.wantCancelled("Receive with a cancelled context", err, cause)
	}

	type res struct {
		v   T
		err error
	}
	ctx, cancelCall = context.WithCancelCause(e.ctx)
	c := async(e, func() res { v, err := r.Receive(ctx); return res{v, err} })
	settle()
	cancelCall(cause)
	if got := await(e, c, "cancelled Receive"); got.err == nil {
		e.t.Errorf("Receive cancelled while blocked, nothing sent: got %s, want a cancellation error", show(got.v))
	} else {
		e.wantCancelled("Receive cancelled while blocked", got.err, cause)
	}

	want := g.values(3)
	sent := sendAll(e, s, want)
	receiveItems(e, r, want, "items sent after the cancelled Receives")
	e.wantSent(sent, "Send")
}

// checkObjectCancelledSend sends values without receiving, and cancels
// the Sends: the first Send that returns a cancellation error ends the
// sending, then the sender is closed and the receiver drains the stream.
// Exactly the values whose Send returned nil arrive, in order; the value of
// a cancelled Send never does.
func checkObjectCancelledSend[T any](e *env, g *valueGen[T], s streams.ObjectSender[T], r streams.ObjectReceiver[T]) {
	cause := cancelCause("CancelledSendNotDelivered")
	ctx, cancelSends := context.WithCancelCause(e.ctx)
	vs := g.values(64)
	okc := async(e, func() []T {
		var ok []T
		for _, v := range vs {
			err := s.Send(ctx, v)
			if err != nil {
				e.wantCancelled("Send cancelled while blocked", err, cause)
				break
			}
			ok = append(ok, v)
			runtime.Gosched()
		}
		return ok
	})
	settle()
	cancelSends(cause)
	ok := await(e, okc, "cancelled Send")
	if err := s.Close(); err != nil {
		e.t.Fatalf("sender Close: %v", err)
	}
	got := receiveUntilEnd(e, r, len(vs)+1)
	if len(got) > len(ok) {
		e.t.Errorf("received %d items, but only %d Sends returned nil: a cancelled Send delivered its value", len(got), len(ok))
	}
	wantSequence(e, got, ok, "items of the Sends that returned nil")
}

// receiveUntilEnd receives until ErrEndOfStream, at most max items.
func receiveUntilEnd[T any](e *env, r streams.ObjectReceiver[T], max int) []T {
	e.t.Helper()
	var got []T
	for len(got) < max {
		v, err := r.Receive(e.ctx)
		if errors.Is(err, streams.ErrEndOfStream) {
			return got
		}
		if err != nil {
			e.t.Fatalf("Receive after %d items: got %v, want an item or ErrEndOfStream", len(got), err)
		}
		got = append(got, v)
	}
	e.t.Errorf("received %d items without reaching ErrEndOfStream; want at most %d", len(got), max-1)
	return got
}

// checkObjectStress runs one sender and one receiver goroutine at once,
// cancelling a third of their calls, before or during the call. Every
// value whose Send returned nil is received exactly once, in order, and
// nothing else.
func checkObjectStress[T any](e *env, g *valueGen[T], s streams.ObjectSender[T], r streams.ObjectReceiver[T]) {
	const n = 1000
	vs := g.values(n)
	cause := cancelCause("ConcurrentStress")
	ctx, stop := context.WithCancel(e.ctx)
	defer stop()
	okc := async(e, func() []T {
		rng := newRand(10)
		var ok []T
		for i, v := range vs {
			cctx, mode := e.randomCancel(ctx, rng, cause)
			err := s.Send(cctx, v)
			switch {
			case err == nil:
				ok = append(ok, v)
			case ctx.Err() != nil:
				return ok
			case mode == noCancel || !e.wantCancelled("cancelled Send", err, cause):
				if mode == noCancel {
					e.t.Errorf("Send of item %d: %v", i, err)
				}
				stop()
				return ok
			}
		}
		if err := s.Close(); err != nil {
			e.t.Errorf("sender Close: %v", err)
			stop()
		}
		return ok
	})
	gotc := async(e, func() []T {
		rng := newRand(11)
		var got []T
		for len(got) <= n {
			cctx, mode := e.randomCancel(ctx, rng, cause)
			v, err := r.Receive(cctx)
			switch {
			case err == nil:
				got = append(got, v)
			case errors.Is(err, streams.ErrEndOfStream):
				return got
			case ctx.Err() != nil:
				return got
			case mode == noCancel || !e.wantCancelled("cancelled Receive", err, cause):
				if mode == noCancel {
					e.t.Errorf("Receive after %d items: %v", len(got), err)
				}
				stop()
				return got
			}
		}
		e.t.Errorf("received more than the %d items sent", n)
		stop()
		return got
	})
	ok := await(e, okc, "sender goroutine")
	got := await(e, gotc, "receiver goroutine")
	if ctx.Err() == nil {
		wantSequence(e, got, ok, "items of the Sends that returned nil")
	}
}

// How randomCancel treats one call.
const (
	noCancel     = iota
	cancelBefore // the context is cancelled before the call
	cancelDuring // a goroutine cancels it soon: before, during or after the call
)

// randomCancel returns a context for one call: a third are cancelled with
// cause, before the call or from a goroutine that yields a few times first.
// The context is released when ctx is done or by the goroutine.
func (e *env) randomCancel(ctx context.Context, rng interface{ IntN(int) int }, cause error) (context.Context, int) {
	mode := rng.IntN(6)
	if mode != cancelBefore && mode != cancelDuring {
		return ctx, noCancel
	}
	cctx, cancelCall := context.WithCancelCause(ctx)
	if mode == cancelBefore {
		cancelCall(cause)
		return cctx, cancelBefore
	}
	yields := rng.IntN(16)
	e.goTrack(func() {
		for range yields {
			runtime.Gosched()
		}
		cancelCall(cause)
	})
	return cctx, cancelDuring
}
