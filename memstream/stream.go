package memstream

import (
	"fmt"
	"sync"

	"github.com/tether-go/tether/streams"
)

// Unbounded, given to [New] as the capacity, makes a stream whose buffer
// grows as needed, so that Send never waits for a receiver. Its
// [Stats.BufferSize] is Unbounded too.
const Unbounded = -1

// The errors of the object streams: the streams sentinels, with what
// happened. They are made once, so that returning them costs nothing.
var (
	errSenderClosed   = fmt.Errorf("memstream: Sender is closed: %w", streams.ErrClosed)
	errReceiverClosed = fmt.Errorf("memstream: Receiver is closed: %w", streams.ErrClosed)
	errNoReceivers    = fmt.Errorf("memstream: every Receiver is closed: %w", streams.ErrBroken)
)

// New returns the two ends of a new in-memory object stream that buffers
// up to capacity values: AnyIO's create_memory_object_stream, or a Go
// channel whose operations take a ctx and whose ends can be closed
// separately.
//
// Capacity 0 makes a rendezvous: each Send waits until a Receive takes its
// value. [Unbounded] makes a buffer that grows without limit. Any other
// negative capacity panics. The buffer's memory is allocated as it fills,
// not up front.
//
// More ends are made with [Sender.Clone] and [Receiver.Clone]. The stream
// ends (Receive returns [streams.ErrEndOfStream]) once every Sender is
// closed and the buffer is drained; it breaks (Send returns
// [streams.ErrBroken]) once every Receiver is closed.
func New[T any](capacity int) (*Sender[T], *Receiver[T]) {
	if capacity < 0 && capacity != Unbounded {
		panic(fmt.Sprintf("memstream: negative capacity %d (use memstream.Unbounded for no limit)", capacity))
	}
	st := &stream[T]{capacity: capacity, senders: 1, receivers: 1}
	return &Sender[T]{st: st}, &Receiver[T]{st: st}
}

// stream is the state the handles of one stream share.
//
// Invariants, under mu: a Receive waits only while the buffer is empty and
// no Send waits, so recvq is empty unless buf is; a Send waits only while
// the buffer is full (for a rendezvous, always, until a Receive comes), so
// sendq is empty unless buf is full.
type stream[T any] struct {
	mu        sync.Mutex
	capacity  int // Unbounded or >= 0
	buf       ring[T]
	sendq     queue[T] // blocked Sends, oldest first, each holding its item
	recvq     queue[T] // blocked Receives, oldest first
	senders   int      // open Sender handles
	receivers int      // open Receiver handles

	waiters sync.Pool // of *waiter[T], so that a blocked call allocates nothing
}

// hasRoom reports whether the buffer can take one more value.
func (st *stream[T]) hasRoom() bool {
	return st.capacity == Unbounded || st.buf.len() < st.capacity
}

// Stats is a snapshot of a stream's state, for tests and monitoring: by the
// time it is read, the stream may have moved on.
type Stats struct {
	// BufferUsed is the number of values in the buffer. Values that
	// blocked Sends hold are not counted: they are in WaitingSend.
	BufferUsed int
	// BufferSize is the capacity the stream was made with: 0 for a
	// rendezvous, [Unbounded] (-1) for no limit.
	BufferSize int
	// OpenSenders and OpenReceivers count the handles not yet closed.
	OpenSenders, OpenReceivers int
	// WaitingSend and WaitingReceive count the Send and Receive calls
	// blocked on the stream.
	WaitingSend, WaitingReceive int
}

func (st *stream[T]) stats() Stats {
	st.mu.Lock()
	defer st.mu.Unlock()
	return Stats{
		BufferUsed:     st.buf.len(),
		BufferSize:     st.capacity,
		OpenSenders:    st.senders,
		OpenReceivers:  st.receivers,
		WaitingSend:    st.sendq.n,
		WaitingReceive: st.recvq.n,
	}
}
