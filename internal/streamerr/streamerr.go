// Package streamerr holds the sentinel errors of package streams, so that
// the internal packages that implement streams for it (ioctx's Conn, the
// core of streams.FromConn and of every socket stream) return the very
// values that package streams exports. Package streams documents them.
package streamerr

import (
	"fmt"
	"io"
	"net"
)

// The sentinels; streams.ErrClosed is Closed, and so on.
var (
	Closed            error = &sentinel{"stream is closed", net.ErrClosed}
	Broken            error = &sentinel{"stream is broken", nil}
	Busy              error = &sentinel{"another goroutine is already using the stream in this direction", nil}
	WouldBlock        error = &sentinel{"operation would block", nil}
	IncompleteRead    error = &sentinel{"stream ended before the read completed", io.ErrUnexpectedEOF}
	DelimiterNotFound error = &sentinel{"delimiter not found within the maximum", nil}
)

// ErrEmptyReceive is the error of a Receive given an empty buffer.
var ErrEmptyReceive = fmt.Errorf("streams: Receive with an empty buffer: %w", io.ErrShortBuffer)

// sentinel is an error value that also matches a standard error with the
// same meaning (net.ErrClosed, io.ErrUnexpectedEOF), so code written for
// the standard library keeps working.
type sentinel struct {
	msg  string
	also error
}

func (e *sentinel) Error() string { return "streams: " + e.msg }

func (e *sentinel) Is(target error) bool { return e.also != nil && target == e.also }
