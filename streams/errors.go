package streams

import (
	"io"
	"net"
)

// The errors of stream operations. Test for them with errors.Is: an error
// returned by a stream may wrap one of these together with its cause (an OS
// error, a context's cause), which errors.Is and errors.As also reach.
var (
	// ErrEndOfStream means the peer ended the stream: nothing more will
	// arrive. It is io.EOF itself, so that err == io.EOF keeps working.
	ErrEndOfStream = io.EOF

	// ErrClosed means this side of the stream (or this handle) was closed.
	// errors.Is(ErrClosed, net.ErrClosed) holds.
	ErrClosed error = &sentinel{"stream is closed", net.ErrClosed}

	// ErrBroken means the other side went away: the connection was reset,
	// the pipe broke, or every receiver of an object stream was closed.
	ErrBroken error = &sentinel{"stream is broken", nil}

	// ErrBusy means another goroutine is already receiving (or sending) on
	// the same stream.
	ErrBusy error = &sentinel{"another goroutine is already using the stream in this direction", nil}

	// ErrWouldBlock means a Try operation could not proceed without waiting.
	ErrWouldBlock error = &sentinel{"operation would block", nil}

	// ErrIncompleteRead means the stream ended before ReceiveExactly or
	// ReceiveUntil got what it asked for. errors.Is(ErrIncompleteRead,
	// io.ErrUnexpectedEOF) holds.
	ErrIncompleteRead error = &sentinel{"stream ended before the read completed", io.ErrUnexpectedEOF}

	// ErrDelimiterNotFound means ReceiveUntil read its maximum number of
	// bytes without finding the delimiter.
	ErrDelimiterNotFound error = &sentinel{"delimiter not found within the maximum", nil}
)

// sentinel is an error value that also matches a standard error with the
// same meaning (net.ErrClosed, io.ErrUnexpectedEOF), so code written for
// the standard library keeps working.
type sentinel struct {
	msg  string
	also error
}

func (e *sentinel) Error() string { return "streams: " + e.msg }

func (e *sentinel) Is(target error) bool { return e.also != nil && target == e.also }
