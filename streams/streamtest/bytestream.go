package streamtest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/tether-go/tether/streams"
)

// MakeBytePair makes two connected ends of a byte stream: what one end
// sends, the other receives. It is called once per check, from the check's
// subtest, and must return a fresh pair each time (or fail t). If the pair
// holds resources besides the two streams (a listener, a goroutine), the
// maker releases them with t.Cleanup; the suite closes the streams itself.
type MakeBytePair func(t *testing.T) (a, b streams.ByteStream)

// TestByteStream runs the conformance checks for [streams.ByteStream] on
// pairs made by makePair, each as a subtest of t with a fresh pair. Run it
// with the race detector: some faults (a buffer used after the call
// returned) show only there.
//
// Each check is bounded in time (10 s); a check that runs out of time is
// reported, its context cancelled and its streams closed, so that a stream
// that ignores cancellation fails rather than hangs. A stream whose SendEOF
// returns an error wrapping errors.ErrUnsupported (it cannot half-close)
// skips the half-close check. TestByteStream returns when every check has
// ended and every goroutine it started has returned.
//
// The subtests: BasicIO, LargeTransfer (4 MiB each way at once),
// SmallBuffers, ReceiveEmptyBuffer, SendBufferNotRetained,
// ReceiveBufferNotRetained, HalfClose, ReceiveAfterPeerClose,
// SendAfterPeerClose, UseAfterClose, CloseIdempotent, CloseWhileReceiving,
// PeerCloseWhileReceiving, CancelWhileReceiving, ReceiveCancelledContext,
// ConcurrentReceiveBusy and ConcurrentStress (cancelled Receives among
// concurrent transfers).
func TestByteStream(t *testing.T, makePair MakeBytePair) {
	t.Helper()
	for _, c := range byteChecks {
		t.Run(c.name, func(t *testing.T) {
			runByteCheck(t, t, checkTimeout, makePair, c.run)
		})
	}
}

// byteCheck is one check of the byte stream contract, run on a fresh pair.
type byteCheck struct {
	name string
	run  func(e *env, a, b streams.ByteStream)
}

// byteChecks lists the checks in the order they run; the names are the
// subtest names.
var byteChecks = []byteCheck{
	{"BasicIO", checkBasicIO},
	{"LargeTransfer", checkLargeTransfer},
	{"SmallBuffers", checkSmallBuffers},
	{"ReceiveEmptyBuffer", checkReceiveEmptyBuffer},
	{"SendBufferNotRetained", checkSendBufferNotRetained},
	{"ReceiveBufferNotRetained", checkReceiveBufferNotRetained},
	{"HalfClose", checkHalfClose},
	{"ReceiveAfterPeerClose", checkReceiveAfterPeerClose},
	{"SendAfterPeerClose", checkSendAfterPeerClose},
	{"UseAfterClose", checkUseAfterClose},
	{"CloseIdempotent", checkCloseIdempotent},
	{"CloseWhileReceiving", checkCloseWhileReceiving},
	{"PeerCloseWhileReceiving", checkPeerCloseWhileReceiving},
	{"CancelWhileReceiving", checkCancelWhileReceiving},
	{"ReceiveCancelledContext", checkReceiveCancelledContext},
	{"ConcurrentReceiveBusy", checkConcurrentReceiveBusy},
	{"ConcurrentStress", checkConcurrentStress},
}

// runByteCheck makes a pair with t, runs check on it reporting to tb (t
// itself, or a recorder in the suite's own tests), and closes the pair.
func runByteCheck(t *testing.T, tb testing.TB, timeout time.Duration, makePair MakeBytePair, check func(e *env, a, b streams.ByteStream)) {
	t.Helper()
	a, b := makePair(t)
	if a == nil || b == nil {
		tb.Fatalf("streamtest: makePair returned a nil stream (a=%v, b=%v)", a, b)
	}
	run(tb, timeout, []io.Closer{a, b}, func(e *env) { check(e, a, b) })
}

// receive calls s.Receive and checks the part of the contract that holds
// for every call: it never returns 0, nil, n is within p, and data comes
// without an error.
func (e *env) receive(ctx context.Context, s streams.ByteReceiver, p []byte) (int, error) {
	e.t.Helper()
	n, err := s.Receive(ctx, p)
	switch {
	case n == 0 && err == nil && len(p) > 0:
		e.t.Errorf("Receive returned 0, nil; want at least one byte or an error")
	case n < 0 || n > len(p):
		e.t.Errorf("Receive returned n = %d for a buffer of %d bytes", n, len(p))
	case n > 0 && err != nil:
		e.t.Errorf("Receive returned %d bytes together with error %v; want data or an error, not both", n, err)
	}
	return n, err
}

// receiveExpect receives from s until it has len(want) bytes, using buf
// (at most len(want) bytes of it at a time), and checks them against want
// as they arrive, so that a lost or duplicated chunk fails at once instead
// of waiting for bytes that will never come. It reports failures with
// Errorf (it may run in any goroutine) and returns whether all of want
// arrived.
func (e *env) receiveExpect(ctx context.Context, s streams.ByteReceiver, want, buf []byte, what string) bool {
	e.t.Helper()
	got := 0
	for got < len(want) {
		n, err := e.receive(ctx, s, buf[:min(len(buf), len(want)-got)])
		if err != nil {
			e.t.Errorf("%s: Receive after %d of %d bytes: %v", what, got, len(want), err)
			return false
		}
		if !bytes.Equal(buf[:n], want[got:got+n]) {
			e.t.Errorf("%s: bytes %d to %d differ from those sent (lost, duplicated or reordered data):\n got  %s\n want %s",
				what, got, got+n, preview(buf[:n]), preview(want[got:got+n]))
			return false
		}
		got += n
	}
	return true
}

// sendAsync sends p on s from a tracked goroutine, since a stream may have
// no buffer (net.Pipe), and returns the channel that receives Send's error.
func (e *env) sendAsync(s streams.ByteSender, p []byte) <-chan error {
	return async(e, func() error { return s.Send(e.ctx, p) })
}

// wantSent waits for the result of sendAsync and reports an error.
func (e *env) wantSent(c <-chan error, what string) {
	e.t.Helper()
	if err := await(e, c, what); err != nil {
		e.t.Errorf("%s: %v", what, err)
	}
}

// drain receives from s in the background until it fails (at the latest
// when the check ends and the harness closes s). Checks use it on a peer
// whose reading they do not test, so that a stream whose Close or Send
// writes to the peer (a TLS close_notify, say) never waits for a reader.
func (e *env) drain(s streams.ByteReceiver) {
	e.goTrack(func() {
		buf := make([]byte, 4096)
		for {
			if _, err := e.receive(e.ctx, s, buf); err != nil {
				return
			}
		}
	})
}

// randomBytes returns n deterministic pseudo-random bytes.
func randomBytes(seed uint64, n int) []byte {
	rng := newRand(seed)
	p := make([]byte, n)
	for i := range p {
		p[i] = byte(rng.Uint32())
	}
	return p
}

// preview shows the start of p in a failure message.
func preview(p []byte) string {
	const max = 16
	if len(p) <= max {
		return fmt.Sprintf("% x", p)
	}
	return fmt.Sprintf("% x ...", p[:max])
}
