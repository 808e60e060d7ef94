package streamtest

import (
	"errors"
	"time"

	"github.com/tether-go/tether/streams"
)

// checkHalfClose half-closes a, then b: after a's SendEOF, b receives what
// a sent before it and then ErrEndOfStream, every time it asks; b can still
// send to a; a second SendEOF does nothing; Send after SendEOF returns
// ErrClosed. A stream whose SendEOF returns errors.ErrUnsupported is
// skipped.
func checkHalfClose(e *env, a, b streams.ByteStream) {
	tail := []byte("the last bytes before a's SendEOF")
	eof := async(e, func() error {
		if err := a.Send(e.ctx, tail); err != nil {
			return err
		}
		return a.SendEOF(e.ctx)
	})
	e.receiveExpect(e.ctx, b, tail, make([]byte, 64), "bytes before SendEOF")
	if err := await(e, eof, "Send and SendEOF"); errors.Is(err, errors.ErrUnsupported) {
		e.t.Skipf("SendEOF is not supported: %v", err)
	} else if err != nil {
		e.t.Fatalf("a.Send then a.SendEOF: %v", err)
	}
	wantEndOfStream(e, b, "b.Receive after a.SendEOF")
	if err := a.SendEOF(e.ctx); err != nil {
		e.t.Errorf("second a.SendEOF: got %v, want nil", err)
	}
	e.wantErr("a.Send after a.SendEOF", a.Send(e.ctx, []byte("too late")), streams.ErrClosed)

	reply := []byte("b still sends after a's SendEOF")
	sent := e.sendAsync(b, reply)
	e.receiveExpect(e.ctx, a, reply, make([]byte, 64), "b to a after a.SendEOF")
	e.wantSent(sent, "b.Send after a.SendEOF")

	eof = async(e, func() error { return b.SendEOF(e.ctx) })
	wantEndOfStream(e, a, "a.Receive after b.SendEOF")
	if err := await(e, eof, "b.SendEOF"); err != nil {
		e.t.Errorf("b.SendEOF: got %v, want nil", err)
	}
	e.wantErr("b.Send after b.SendEOF", b.Send(e.ctx, []byte("too late")), streams.ErrClosed)
	wantEndOfStream(e, b, "b.Receive once both sides sent EOF")
}

// wantEndOfStream checks that s.Receive returns ErrEndOfStream, three times
// in a row: the end of a stream is not consumed by reporting it.
func wantEndOfStream(e *env, s streams.ByteReceiver, what string) {
	e.t.Helper()
	buf := make([]byte, 16)
	for i := range 3 {
		n, err := e.receive(e.ctx, s, buf)
		if err == nil {
			e.t.Errorf("%s (call %d): got %d bytes %q, want ErrEndOfStream", what, i+1, n, buf[:n])
			return
		}
		if !e.wantErr(what, err, streams.ErrEndOfStream) {
			return
		}
	}
}

// peerCloseGrace bounds how long checkReceiveAfterPeerClose lets a finish
// sending and closing before b receives. Correctness does not depend on
// it: it only makes it likely that a buffered stream holds unread data when
// a closes, which is the case to check. (In a synctest bubble the wait ends
// exactly when a is done or blocked.)
const peerCloseGrace = 50 * time.Millisecond

// checkReceiveAfterPeerClose sends data from a and closes a, before b
// starts receiving if a buffers it: b receives all of it, then
// ErrEndOfStream (or ErrBroken, after which some data may be missing), the
// same way on every later call.
func checkReceiveAfterPeerClose(e *env, a, b streams.ByteStream) {
	data := randomBytes(6, 32<<10)
	done := make(chan struct{})
	closed := async(e, func() error {
		defer close(done)
		if err := a.Send(e.ctx, data); err != nil {
			return err
		}
		return a.Close()
	})
	// A buffered stream finishes Send and Close without b; an unbuffered
	// one (net.Pipe) waits for b, which starts receiving after a grace
	// period. Either way b must get every byte.
	grace := time.NewTimer(peerCloseGrace)
	select {
	case <-done:
	case <-grace.C:
	}
	grace.Stop()
	buf := make([]byte, 8<<10)
	got := 0
	var err error
	for {
		var n int
		n, err = e.receive(e.ctx, b, buf)
		if err != nil {
			break
		}
		if got+n > len(data) || string(buf[:n]) != string(data[got:got+n]) {
			e.t.Fatalf("b received bytes %d to %d that a did not send in that place", got, got+n)
		}
		got += n
	}
	if cerr := await(e, closed, "a.Send then a.Close"); cerr != nil {
		e.t.Fatalf("a.Send then a.Close: %v", cerr)
	}
	if !e.wantErr("b.Receive after a.Close", err, streams.ErrEndOfStream, streams.ErrBroken) {
		return
	}
	if errors.Is(err, streams.ErrEndOfStream) && got != len(data) {
		e.t.Errorf("b.Receive returned ErrEndOfStream after %d of the %d bytes a sent before closing; want all of them", got, len(data))
	}
	for i := range 2 {
		if _, again := e.receive(e.ctx, b, buf); !errIs(again, streams.ErrEndOfStream, streams.ErrBroken) {
			e.t.Errorf("b.Receive after a.Close, call %d after the first error: got %v, want ErrEndOfStream or ErrBroken", i+2, again)
		}
	}
}

// checkSendAfterPeerClose closes b and sends from a until Send fails: it
// must fail with ErrBroken, after a bounded number of Sends (a socket may
// accept a few before it learns of the close).
func checkSendAfterPeerClose(e *env, a, b streams.ByteStream) {
	if err := b.Close(); err != nil {
		e.t.Fatalf("b.Close: %v", err)
	}
	const maxSends = 1000
	chunk := make([]byte, 1024)
	for i := range maxSends {
		if err := a.Send(e.ctx, chunk); err != nil {
			e.wantErr("a.Send after b.Close", err, streams.ErrBroken)
			if i > 0 {
				e.t.Logf("a.Send failed after %d Sends succeeded", i)
			}
			return
		}
	}
	e.t.Errorf("a.Send after b.Close: %d Sends of %d bytes succeeded; want ErrBroken", maxSends, len(chunk))
}

// checkUseAfterClose closes a: its Send, SendEOF and Receive must return
// ErrClosed.
func checkUseAfterClose(e *env, a, b streams.ByteStream) {
	e.drain(b)
	if err := a.Close(); err != nil {
		e.t.Fatalf("a.Close: %v", err)
	}
	e.wantErr("Send after Close", a.Send(e.ctx, []byte("x")), streams.ErrClosed)
	e.wantErr("SendEOF after Close", a.SendEOF(e.ctx), streams.ErrClosed)
	n, err := e.receive(e.ctx, a, make([]byte, 16))
	if err == nil {
		e.t.Errorf("Receive after Close: got %d bytes, want ErrClosed", n)
	} else {
		e.wantErr("Receive after Close", err, streams.ErrClosed)
	}
}

// checkCloseIdempotent closes each end twice: every Close returns nil.
func checkCloseIdempotent(e *env, a, b streams.ByteStream) {
	e.drain(b)
	for i := range 2 {
		if err := a.Close(); err != nil {
			e.t.Errorf("a.Close, call %d: got %v, want nil", i+1, err)
		}
	}
	for i := range 2 {
		if err := b.Close(); err != nil {
			e.t.Errorf("b.Close, call %d: got %v, want nil", i+1, err)
		}
	}
}

// checkCloseWhileReceiving closes a while another goroutine is blocked in
// a.Receive: that Receive returns ErrClosed.
func checkCloseWhileReceiving(e *env, a, b streams.ByteStream) {
	e.drain(b)
	res := async(e, func() result {
		n, err := e.receive(e.ctx, a, make([]byte, 16))
		return result{n, err}
	})
	settle()
	if err := a.Close(); err != nil {
		e.t.Errorf("a.Close: %v", err)
	}
	r := await(e, res, "a.Receive blocked when a was closed")
	if r.err == nil {
		e.t.Errorf("a.Receive blocked when a was closed: got %d bytes, want ErrClosed", r.n)
		return
	}
	e.wantErr("a.Receive blocked when a was closed", r.err, streams.ErrClosed)
}

// checkPeerCloseWhileReceiving closes b while a goroutine is blocked in
// a.Receive: that Receive returns ErrEndOfStream or ErrBroken.
func checkPeerCloseWhileReceiving(e *env, a, b streams.ByteStream) {
	res := async(e, func() result {
		n, err := e.receive(e.ctx, a, make([]byte, 16))
		return result{n, err}
	})
	settle()
	if err := b.Close(); err != nil {
		e.t.Errorf("b.Close: %v", err)
	}
	r := await(e, res, "a.Receive blocked when b was closed")
	if r.err == nil {
		e.t.Errorf("a.Receive blocked when b was closed: got %d bytes, want ErrEndOfStream or ErrBroken", r.n)
		return
	}
	e.wantErr("a.Receive blocked when b was closed", r.err, streams.ErrEndOfStream, streams.ErrBroken)
}
