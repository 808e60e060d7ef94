// Package memstream provides in-memory streams: object streams that pass
// values of any type between goroutines, an in-memory byte pipe, and an
// in-memory listener. They are AnyIO's memory object streams, in Go's
// shape, and they implement the interfaces of package streams, so code
// written against those can be tested without sockets.
//
// An object stream is like a Go channel whose operations take a context:
//
//	send, recv := memstream.New[Job](16)      // buffers 16 values; 0: rendezvous
//	err := send.Send(ctx, job)                // waits while the buffer is full
//	job, err := recv.Receive(ctx)             // waits for a value
//	for job := range recv.All(ctx) { ... }    // until the end of the stream
//
// What it adds to a channel:
//
//   - Cancellation that never loses a value. A Send whose ctx is done
//     returns the cancellation error and its value was not delivered; a
//     Receive whose ctx is done takes nothing. A Send that returned nil
//     delivers its value exactly once (unless every receiver is closed).
//     Even at capacity 0, where a Send completes only when a Receive takes
//     its value, the hand-off is decided in one step, under a lock.
//   - Ends that close separately, each as many times as it likes: when
//     every [Sender] is closed, receivers drain the buffer and then get
//     [streams.ErrEndOfStream] (io.EOF); when every [Receiver] is closed,
//     senders get [streams.ErrBroken] instead of blocking for ever. Clone
//     an end for each producer or consumer, and close each clone when its
//     goroutine is done: the stream ends when the last one is closed.
//   - FIFO order for values and for blocked callers, TrySend/TryReceive
//     that never block, [Unbounded] buffers, and [Stats] for tests.
//
// Like AnyIO's (and unlike a select on a channel), Send and Receive check
// ctx before anything else: with a done ctx they fail even when they
// would not have had to wait.
//
// [Pipe] returns two connected ends of a buffered, half-closable
// [streams.ByteStream] (a net.Pipe with buffers, SendEOF and contexts).
// [Listen] returns a [Listener] whose Dial makes a Pipe and hands one end
// to Accept, like grpc's bufconn.
//
// Errors are the sentinels of package streams, tested with errors.Is;
// cancellation errors are those of package cancel. Mistakes (a negative
// capacity, cloning a closed end) panic with a "memstream: " message.
package memstream
