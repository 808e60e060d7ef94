// Package streamtest is a conformance suite for implementations of the
// stream interfaces of package streams, in the spirit of
// golang.org/x/net/nettest.TestConn: an implementation runs it from its own
// tests, and the suite checks the contract that the interfaces document.
//
//	func TestPipe(t *testing.T) {
//		streamtest.TestByteStream(t, func(t *testing.T) (a, b streams.ByteStream) {
//			return mypkg.Pipe()
//		})
//	}
//
// [TestByteStream] checks ordering and large transfers, that Receive never
// returns 0, nil, half-close with SendEOF, the errors after either side
// closed, Close while a call is blocked, cancellation while blocked (the
// stream stays usable and nothing is lost), [streams.ErrBusy] for
// concurrent receivers, that buffers are not kept after a call returns, and
// that nothing is lost or duplicated under concurrent use.
// [TestObjectStream] checks the same for a sender and the receiver it feeds,
// with values of any type made by testing/quick.
//
// Each check is a subtest (t.Run) with a fresh pair of streams, so that
// go test -run selects them by name (TestPipe/HalfClose). Each runs under a
// time limit that is only a safety net: when a check has not finished in
// time, the suite reports it, cancels the check's context and closes its
// streams, so that a stream that ignores its context fails instead of
// hanging the test binary.
//
// The suite cannot observe that a call is blocked. Where a check wants to
// act while a call is blocked (to close the stream or cancel the call), it
// starts the call in a goroutine and yields the processor a few times
// before acting; the check is correct, and passes for a correct stream,
// whether or not the call got that far. Only the ErrBusy check needs to
// know that a Receive is in progress, and it retries a second Receive with
// short time limits until it sees ErrBusy, a bounded number of times. (One
// more check gives a buffered stream up to 50 ms to finish sending before
// the peer reads; that too only makes the check sharper.) Like nettest, the
// suite has no false positives but may miss a fault on one run that it
// catches on another.
//
// The checks report through testing.TB, never *testing.T directly, so that
// the suite's own tests can run a check against a deliberately broken
// stream with a recording testing.TB (an embedded testing.TB whose Error,
// Fatal and Skip methods are overridden; FailNow ends the check's goroutine
// with runtime.Goexit) and assert that the suite caught the fault.
package streamtest
