// Package streams defines tether's stream interfaces (AnyIO's abc) and
// the wrappers and adapters that work on any stream.
//
// A stream is a net.Conn in which every blocking call takes a
// context.Context: [ByteReceiver], [ByteSender] and [ByteStream] for bytes,
// [ObjectReceiver], [ObjectSender] and [ObjectStream] for whole values, and
// [Listener] for accepting connections. Their promises are those of AnyIO's
// streams: Receive never returns 0, nil; Send sends all or fails; a call
// whose context is done returns a cancellation error (see package cancel)
// and consumes nothing; Close wakes blocked calls with [ErrClosed]. Errors
// are sentinels tested with errors.Is (streams wrap them with what
// happened: a second Receive's error names the call and matches
// [ErrBusy]), bridged to the standard ones: [ErrEndOfStream] is io.EOF,
// [ErrClosed] matches net.ErrClosed, and a Receive into an empty buffer
// is an error matching io.ErrShortBuffer.
//
// Typed attributes ([Attr], [Extra]) stand in for AnyIO's extra(). Every
// wrapper below has an Unwrap method that returns what it wraps, and
// Extra follows that chain, as errors.Is follows errors: a wrapper
// answers its own keys, and the stream underneath answers the rest.
// [AsConn]'s addresses are found the same way.
//
// Wrappers, each a stream built on another:
//
//   - [Staple] and [StapleObjects]: a sender and a receiver as one stream.
//   - [NewBuffered]: ReceiveExactly and ReceiveUntil (a strict maximum),
//     as bufio.Reader does for io.Reader; nothing is lost on cancellation.
//   - [NewText], [NewTextReceiver], [NewTextSender]: strings of UTF-8 in
//     and out, never splitting a character; invalid bytes are a
//     [*DecodeError] with their offset, or U+FFFD with [ReplaceInvalid].
//
// Adapters, between streams and the Go ecosystem:
//
//   - [FromConn]: a net.Conn as a stream whose calls take a context.
//   - [AsConn]: any stream as a net.Conn, deadlines included, for
//     crypto/tls, net/http and anything else that wants one.
//   - [Reader] and [Writer]: io.Reader and io.Writer views under one
//     context.
//
// Servers: [Serve] accepts from any [Listener] and runs each connection's
// handler as a task of a task group; the task owns the connection and
// closes it when the handler returns. Whatever ends the serving (ctx
// done, the group cancelled: under tether.Run, a SIGTERM) stops the
// accepting at once; [Drain] then gives the running handlers time to
// finish before they are cancelled.
//
// A tour:
//
//	conn := streams.FromConn(c)                // c is a net.Conn
//	defer conn.Close()
//	in := streams.NewBuffered(conn)
//	line, err := in.ReceiveUntil(ctx, []byte("\r\n"), 1024)
//	if err != nil {
//		return err // a cancellation, ErrDelimiterNotFound, ErrIncompleteRead...
//	}
//	err = conn.Send(ctx, append(line, "\r\n"...))
//
//	// The other way round: a stream where a net.Conn is wanted.
//	tlsConn := tls.Client(streams.AsConn(stream), cfg)
//
// Package memstream has in-memory streams, package sockets network ones,
// and streams/streamtest a conformance suite for any implementation.
package streams
