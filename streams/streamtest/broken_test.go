package streamtest_test

import (
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tether-go/tether/streams"
	"github.com/tether-go/tether/streams/streamtest"
)

// The suite on deliberately broken streams: the check aimed at each bug
// must fail, with a message that names it. Each runs in a synctest bubble,
// so a check that runs into its time limit does so at once, in fake time.

func TestSuiteCatchesBrokenByteStreams(t *testing.T) {
	for _, tc := range []struct {
		name   string
		faults byteFaults
		check  string
		want   string // in one of the messages
	}{
		{"Receive returns 0, nil", byteFaults{zeroReceive: true}, "BasicIO", "returned 0, nil"},
		{"cancelled Receive loses data", byteFaults{loseOnCancel: true}, "CancelWhileReceiving", "differ from those sent"},
		{"cancelled Receive loses data under load", byteFaults{loseOnCancel: true}, "ConcurrentStress", "differ from those sent"},
		{"concurrent Receives both wait", byteFaults{noBusy: true}, "ConcurrentReceiveBusy", "never returned ErrBusy"},
		{"Send keeps its buffer", byteFaults{retainSend: true}, "SendBufferNotRetained", "differ from those sent"},
		{"Close wakes Receive with end of stream", byteFaults{closeEOF: true}, "CloseWhileReceiving", "want streams.ErrClosed"},
		{"Receive on a closed end reports end of stream", byteFaults{closeEOF: true}, "UseAfterClose", "Receive after Close"},
		{"Receive ignores cancellation", byteFaults{ignoreCancel: true}, "CancelWhileReceiving", "time limit"},
		{"Receive with an empty buffer waits", byteFaults{emptyBlocks: true}, "ReceiveEmptyBuffer", "want an error at once"},
		{"Receive with an empty buffer hides io.ErrShortBuffer", byteFaults{emptyPlainErr: true}, "ReceiveEmptyBuffer", "want an error matching io.ErrShortBuffer"},
		{"Close discards data already sent", byteFaults{eofTruncates: true}, "ReceiveAfterPeerClose", "want all of them"},
		{"Send after SendEOF succeeds", byteFaults{sendEOFIgnore: true}, "HalfClose", "Send after a.SendEOF"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				r := streamtest.RunByteCheck(t, tc.check, 10*time.Second, func(t *testing.T) (a, b streams.ByteStream) {
					return newPipe(tc.faults)
				})
				wantCaught(t, r, tc.check, tc.want)
			})
		})
	}
}

func TestSuiteCatchesBrokenObjectStreams(t *testing.T) {
	for _, tc := range []struct {
		name     string
		faults   objectFaults
		capacity int
		check    string
		want     string
	}{
		{"zero value taken for no item", objectFaults{dropZero: true}, unbounded, "ZeroValue", "item 0"},
		{"cancelled Send delivers", objectFaults{deliverCancelled: true}, 0, "CancelledSendNotDelivered", "a cancelled Send delivered its value"},
		{"cancelled Send delivers into a buffer", objectFaults{deliverCancelled: true}, 2, "CancelledSendNotDelivered", "a cancelled Send delivered its value"},
		{"cancelled Send delivers under load", objectFaults{deliverCancelled: true}, 0, "ConcurrentStress", "items of the Sends that returned nil"},
		{"Close does not wake Receive", objectFaults{closeNoWake: true}, 0, "CloseWhileReceiving", "time limit"},
		{"Send ignores the closed receiver", objectFaults{sendAfterRecvClose: true}, unbounded, "SendAfterReceiverClose", "Sends succeeded; want"},
		{"Send ignores the closed receiver while sending", objectFaults{sendAfterRecvClose: true}, unbounded, "ReceiverCloseWhileSending", "Sends succeeded; want"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				r := streamtest.RunObjectCheck(t, tc.check, 10*time.Second, func(t *testing.T) (streams.ObjectSender[int], streams.ObjectReceiver[int]) {
					return newQueue[int](tc.capacity, tc.faults)
				})
				wantCaught(t, r, tc.check, tc.want)
			})
		})
	}
}

func wantCaught(t *testing.T, r streamtest.Report, check, want string) {
	t.Helper()
	if !r.Failed {
		t.Fatalf("check %s passed on a broken stream (skipped=%v), want a failure; it reported:\n%s",
			check, r.Skipped, strings.Join(r.Messages, "\n"))
	}
	for _, m := range r.Messages {
		if strings.Contains(m, want) {
			t.Logf("caught: %s", m)
			return
		}
	}
	t.Errorf("check %s failed, but no message contains %q; it reported:\n%s", check, want, strings.Join(r.Messages, "\n"))
}

// TestObjectStreamValueTypes checks which types TestObjectStream can make
// values of, and that the others get an error that says so.
func TestObjectStreamValueTypes(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		ok   bool
	}{
		{"int", streamtest.ValueGenError[int](), true},
		{"struct with exported fields", streamtest.ValueGenError[record](), true},
		{"any", streamtest.ValueGenError[any](), true},
		{"fmt.Stringer", streamtest.ValueGenError[interface{ String() string }](), false},
		{"chan", streamtest.ValueGenError[chan int](), false},
		{"func", streamtest.ValueGenError[func()](), false},
		{"struct with unexported fields", streamtest.ValueGenError[struct{ x int }](), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.ok && tc.err != nil {
				t.Errorf("got error %v, want values", tc.err)
			}
			if !tc.ok && (tc.err == nil || !strings.Contains(tc.err.Error(), "testing/quick")) {
				t.Errorf("got error %v, want one that names testing/quick", tc.err)
			}
		})
	}
}

// TestGeneratedValuesVary checks that the values made for a check are not
// all equal, so that an ordering check can see a reordering.
func TestGeneratedValuesVary(t *testing.T) {
	vs := streamtest.GenValues[int](50)
	distinct := map[int]bool{}
	for _, v := range vs {
		distinct[v] = true
	}
	if len(distinct) < 40 {
		t.Errorf("50 generated ints hold %d distinct values, want at least 40", len(distinct))
	}
	if anys := streamtest.GenValues[any](3); anys[0] == nil {
		t.Errorf("generated value of type any is nil, want an int or a string")
	}
}
