package tethertest_test

import (
	"testing"
	"time"

	"github.com/tether-go/tether/memstream"
	"github.com/tether-go/tether/streams"
	"github.com/tether-go/tether/streams/streamtest"
	"github.com/tether-go/tether/tethertest"
)

// far is a byte count that the conformance suite never reaches, for the
// faults that cut a stream: armed, they must not change anything before
// they fire.
const far = 1 << 40

// TestFaultyConformance runs the stream contract on a pipe whose one end,
// or both, misbehave in the ways that keep the contract: slower, in
// smaller pieces, later to close. (The cuts break the contract on
// purpose once they fire; here they are armed but never reached.)
// Durations are small, on the real clock: the suite moves megabytes.
func TestFaultyConformance(t *testing.T) {
	tests := []struct {
		name   string
		faults []tethertest.Fault
	}{
		{"none", nil},
		{"Chunked", []tethertest.Fault{tethertest.Chunked(1000)}},
		{"Latency", []tethertest.Fault{tethertest.Latency(50 * time.Microsecond)}},
		{"Bandwidth", []tethertest.Fault{tethertest.Bandwidth(1 << 30)}},
		{"SlowClose", []tethertest.Fault{tethertest.SlowClose(time.Millisecond)}},
		// One cut armed alone (they share their code until they fire);
		// "all" arms another.
		{"ResetAfter", []tethertest.Fault{tethertest.ResetAfter(far)}},
		{"all", []tethertest.Fault{
			tethertest.Chunked(4096), tethertest.Latency(10 * time.Microsecond),
			tethertest.Bandwidth(1 << 30), tethertest.SlowClose(time.Millisecond),
			tethertest.StallAfter(far),
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			streamtest.TestByteStream(t, func(t *testing.T) (a, b streams.ByteStream) {
				a, b = memstream.Pipe()
				return tethertest.Faulty(a, tt.faults...), tethertest.Faulty(b, tt.faults...)
			})
		})
	}
}
