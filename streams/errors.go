package streams

import (
	"io"

	"github.com/tether-go/tether/internal/streamerr"
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
	ErrClosed = streamerr.Closed

	// ErrBroken means the other side went away: the connection was reset,
	// the pipe broke, or every receiver of an object stream was closed.
	ErrBroken = streamerr.Broken

	// ErrBusy means another goroutine is already receiving (or sending) on
	// the same stream.
	ErrBusy = streamerr.Busy

	// ErrWouldBlock means a Try operation could not proceed without waiting.
	ErrWouldBlock = streamerr.WouldBlock

	// ErrIncompleteRead means the stream ended before ReceiveExactly or
	// ReceiveUntil got what it asked for. errors.Is(ErrIncompleteRead,
	// io.ErrUnexpectedEOF) holds.
	ErrIncompleteRead = streamerr.IncompleteRead

	// ErrDelimiterNotFound means ReceiveUntil read its maximum number of
	// bytes without finding the delimiter.
	ErrDelimiterNotFound = streamerr.DelimiterNotFound
)
