package tethertest

import (
	"fmt"
	"time"
)

// Fault is a way in which a [FaultyStream] misbehaves, made by [Chunked],
// [Latency], [Bandwidth], [ResetAfter], [EOFAfter], [StallAfter] or
// [SlowClose]. The faults are toxiproxy's toxics, for in-memory streams.
// The zero Fault does nothing. Faults are values: one may configure any
// number of streams, at once.
type Fault struct {
	apply func(*faults)
}

// faults is the set of faults of one stream.
type faults struct {
	chunk     int           // Receive delivers at most this many bytes; 0: no limit
	latency   time.Duration // each chunk becomes receivable this late
	bandwidth int64         // bytes per second; 0: no limit
	cut       cut           // what happens after cutAt bytes were received
	cutAt     int64
	slowClose time.Duration
}

// cut is what a stream does once it has delivered its limit of bytes.
type cut int

const (
	cutNone  cut = iota
	cutReset     // ResetAfter: streams.ErrBroken
	cutEOF       // EOFAfter: streams.ErrEndOfStream
	cutStall     // StallAfter: nothing more arrives
)

func makeFaults(fs []Fault) faults {
	f := faults{}
	for _, fault := range fs {
		if fault.apply != nil {
			fault.apply(&f)
		}
	}
	return f
}

func checkCount(what string, n int) {
	if n < 0 {
		panic(fmt.Sprintf("tethertest: %s(%d): the byte count must not be negative", what, n))
	}
}

func checkDuration(what string, d time.Duration) {
	if d < 0 {
		panic(fmt.Sprintf("tethertest: %s(%v): the duration must not be negative", what, d))
	}
}

// Chunked makes each Receive deliver at most n bytes, however many have
// arrived, as a TCP connection may: a parser that assumes that one
// Receive is one message breaks. Chunked(1) delivers a byte at a time.
// Chunked(0) does nothing; a negative n panics.
func Chunked(n int) Fault {
	checkCount("Chunked", n)
	return Fault{apply: func(f *faults) { f.chunk = n }}
}

// Latency delays what the stream receives by d: what a Receive takes
// from the stream it wraps (all that had arrived, up to the size of the
// Receive's buffer) becomes receivable d later, and the Receive waits for
// it (and is cancelled while it waits like any other); the end of the
// stream comes late too. The delay counts from when a Receive asks, so a
// conversation of k round trips takes at least k×d. Under
// testing/synctest, the wait is on the bubble's fake clock: a
// Latency(time.Hour) costs no real time. Latency(0) does nothing; a
// negative d panics.
func Latency(d time.Duration) Fault {
	checkDuration("Latency", d)
	return Fault{apply: func(f *faults) { f.latency = d }}
}

// Bandwidth limits what the stream receives to bytesPerSecond on average:
// Receive delivers at most a hundredth of a second's worth of bytes (at
// least one) at a time, and waits so that the bytes delivered since the
// first never exceed the rate. Bandwidth(0) does nothing; a negative rate
// panics.
func Bandwidth(bytesPerSecond int) Fault {
	checkCount("Bandwidth", bytesPerSecond)
	return Fault{apply: func(f *faults) { f.bandwidth = int64(bytesPerSecond) }}
}

// ResetAfter makes the connection break once the stream has received n
// bytes: the Receive that would deliver byte n+1, and every later Receive
// and Send, return an error matching streams.ErrBroken, as after a TCP
// reset, and the stream it wraps is closed, so that the peer sees the
// connection end. ResetAfter(0) breaks it before the first byte; a
// negative n panics. Of ResetAfter, EOFAfter and StallAfter, the one with
// the smallest n applies.
func ResetAfter(n int) Fault { return cutAfter("ResetAfter", cutReset, n) }

// EOFAfter makes the peer seem to end the stream once it has received n
// bytes: the Receive that would deliver byte n+1, and every later one,
// return streams.ErrEndOfStream, as when a client disconnects in the
// middle of a message; what the peer sent after those n bytes is never
// delivered. Sending still works. A negative n panics.
func EOFAfter(n int) Fault { return cutAfter("EOFAfter", cutEOF, n) }

// StallAfter makes the peer go silent once the stream has received n
// bytes: a later Receive waits until its ctx is done (and returns the
// cancellation error) or the stream is closed, whatever the peer sends —
// for testing timeouts. Sending still works. A negative n panics.
func StallAfter(n int) Fault { return cutAfter("StallAfter", cutStall, n) }

func cutAfter(what string, c cut, n int) Fault {
	checkCount(what, n)
	return Fault{apply: func(f *faults) {
		if f.cut == cutNone || int64(n) <= f.cutAt {
			f.cut, f.cutAt = c, int64(n)
		}
	}}
}

// SlowClose makes Close take d before it closes the stream it wraps, so
// that the peer sees the end of the stream d late, as with a peer (or a
// proxy) that is slow to close its socket; the calls blocked on the
// stream itself are woken at once. Close has no context: it always waits
// for d (under testing/synctest, on the bubble's fake clock). SlowClose(0)
// does nothing; a negative d panics.
func SlowClose(d time.Duration) Fault {
	checkDuration("SlowClose", d)
	return Fault{apply: func(f *faults) { f.slowClose = d }}
}
