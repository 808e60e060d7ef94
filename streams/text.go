package streams

import (
	"context"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"

	"github.com/tether-go/tether/internal/busy"
)

// textBufferSize is how many bytes a [TextReceiver] asks for at a time.
const textBufferSize = 4096

// errTextBusy is what a TextReceiver's Receive returns while another one
// runs.
var errTextBusy = fmt.Errorf("streams: TextReceiver: another Receive is in progress: %w", ErrBusy)

// TextOption configures a [Text], [TextReceiver] or [TextSender]. The
// zero TextOption does nothing.
type TextOption struct {
	apply func(*textConfig)
}

type textConfig struct {
	replace bool
}

// ReplaceInvalid makes invalid UTF-8 turn into U+FFFD, the replacement
// character, instead of a [*DecodeError]: one per invalid sequence (its
// maximal subpart, as the Unicode Standard recommends and Python does),
// both in received bytes (a sequence cut short by the end of the stream
// included) and in strings given to Send. AnyIO's errors="replace".
func ReplaceInvalid() TextOption {
	return TextOption{apply: func(c *textConfig) { c.replace = true }}
}

func textOptions(opts []TextOption) textConfig {
	var c textConfig
	for _, o := range opts {
		if o.apply != nil { // the zero TextOption does nothing
			o.apply(&c)
		}
	}
	return c
}

// TextReceiver receives UTF-8 text from a [ByteReceiver] as strings:
// AnyIO's TextReceiveStream, for UTF-8. A multi-byte sequence split across
// receives is kept until it is whole, so no string ever holds half a
// character.
//
// Make it with [NewTextReceiver]; the zero value is not usable. One
// Receive may run at a time: a second one, from another goroutine, returns
// [ErrBusy]. It allocates the strings it returns and a 4 KiB buffer.
type TextReceiver struct {
	r       ByteReceiver
	replace bool
	busy    busy.Guard // one Receive at a time

	buf    []byte // buf[:tail] is a cut-short sequence awaiting more bytes
	tail   int
	out    []byte // scratch for replacements
	offset int64  // stream offset of buf[0]
	err    error  // a decode error, returned from then on
}

// NewTextReceiver returns a [TextReceiver] that receives from r. It panics
// if r is nil.
func NewTextReceiver(r ByteReceiver, opts ...TextOption) *TextReceiver {
	if r == nil {
		panic("streams: NewTextReceiver with a nil receiver")
	}
	return &TextReceiver{r: r, replace: textOptions(opts).replace}
}

// Receive returns the next text received: a non-empty, valid UTF-8 string
// of what one receive brought. It waits until at least one whole character
// has come.
//
// Invalid UTF-8 is a [*DecodeError] (unless [ReplaceInvalid]) that gives
// the offset of the first bad byte: the valid text before it is returned
// first, and the error from then on. The end of the stream is
// [ErrEndOfStream], or a DecodeError with Truncated set if it cut a
// sequence short. When ctx is done Receive returns a cancellation error
// and nothing is lost: a part of a sequence already received is kept for
// the next call. ErrBusy if another Receive is running.
func (t *TextReceiver) Receive(ctx context.Context) (string, error) {
	if !t.busy.TryAcquire() {
		return "", errTextBusy
	}
	defer t.busy.Release()
	if t.err != nil {
		return "", t.err
	}
	if t.buf == nil {
		t.buf = make([]byte, textBufferSize)
	}
	for {
		n, err := t.r.Receive(ctx, t.buf[t.tail:])
		if err != nil {
			if t.tail > 0 && errors.Is(err, ErrEndOfStream) {
				return t.cutShort()
			}
			return "", err
		}
		if s := t.decode(t.buf[:t.tail+n]); s != "" {
			return s, nil
		}
		if t.err != nil {
			return "", t.err
		}
	}
}

// decode turns data (the kept tail, then new bytes) into text, keeps a
// cut-short sequence at its end for later, and records a decode error.
func (t *TextReceiver) decode(data []byte) string {
	if t.replace {
		var tail int
		t.out, tail = replaceInvalid(t.out[:0], data, false)
		t.keep(data, len(data)-tail)
		return string(t.out)
	}
	valid, invalid := scanUTF8(data)
	s := string(data[:valid])
	if invalid {
		t.err = &DecodeError{Offset: t.offset + int64(valid)}
		return s
	}
	t.keep(data, valid)
	return s
}

// keep moves data[used:] to the front of the buffer for the next call.
func (t *TextReceiver) keep(data []byte, used int) {
	t.tail = copy(t.buf, data[used:])
	t.offset += int64(used)
}

// cutShort handles the end of the stream inside a sequence.
func (t *TextReceiver) cutShort() (string, error) {
	if t.replace {
		t.offset += int64(t.tail)
		t.tail = 0
		return string(utf8.RuneError), nil
	}
	t.err = &DecodeError{Offset: t.offset, Truncated: true}
	return "", t.err
}

// Close closes the wrapped receiver if it implements io.Closer (a blocked
// Receive then returns [ErrClosed]), and returns its error.
func (t *TextReceiver) Close() error { return closeBoth(t.r, nil) }

// Unwrap returns the receiver that t wraps: through it [Extra] answers
// the attributes of the stream below.
func (t *TextReceiver) Unwrap() ByteReceiver { return t.r }

// TextSender sends strings as UTF-8 to a [ByteSender]: AnyIO's
// TextSendStream, for UTF-8.
//
// Make it with [NewTextSender]; the zero value is not usable. It has no
// state of its own: it is as safe for concurrent use as the sender it
// wraps. Send copies the string once.
type TextSender struct {
	w       ByteSender
	replace bool
}

// NewTextSender returns a [TextSender] that sends to w. It panics if w is
// nil.
func NewTextSender(w ByteSender, opts ...TextOption) *TextSender {
	if w == nil {
		panic("streams: NewTextSender with a nil sender")
	}
	return &TextSender{w: w, replace: textOptions(opts).replace}
}

// Send sends s, which must be valid UTF-8: a Go string may hold any bytes,
// and for one that is not, Send returns a [*DecodeError] (Offset within s)
// and sends nothing, unless [ReplaceInvalid] was given. When ctx is done it
// returns what the wrapped sender returns: a cancellation error, with
// perhaps part of s sent.
func (t *TextSender) Send(ctx context.Context, s string) error {
	b := []byte(s)
	if valid, invalid := scanUTF8(b); valid < len(b) {
		if t.replace {
			b, _ = replaceInvalid(make([]byte, 0, len(b)+8), b, true)
		} else {
			return &DecodeError{Offset: int64(valid), Truncated: !invalid}
		}
	}
	return t.w.Send(ctx, b)
}

// SendEOF calls SendEOF on the wrapped sender.
func (t *TextSender) SendEOF(ctx context.Context) error { return t.w.SendEOF(ctx) }

// Close closes the wrapped sender if it implements io.Closer, and returns
// its error.
func (t *TextSender) Close() error { return closeBoth(t.w, nil) }

// Unwrap returns the sender that t wraps: through it [Extra] answers the
// attributes of the stream below.
func (t *TextSender) Unwrap() ByteSender { return t.w }

// Text sends and receives strings of UTF-8 text over a [ByteStream]:
// AnyIO's TextStream. It is a [TextReceiver] and a [TextSender] on one
// stream; see them for the details.
//
// Make it with [NewText]; the zero value is not usable. A Receive and a
// Send may run at once; two Receives may not ([ErrBusy]). It is not
// reusable after Close.
type Text struct {
	s    ByteStream
	recv *TextReceiver
	send *TextSender
}

var _ io.Closer = (*Text)(nil)

// NewText returns a [Text] on s. It panics if s is nil.
func NewText(s ByteStream, opts ...TextOption) *Text {
	if s == nil {
		panic("streams: NewText with a nil stream")
	}
	return &Text{s: s, recv: NewTextReceiver(s, opts...), send: NewTextSender(s, opts...)}
}

// Receive returns the next text received; see [TextReceiver.Receive].
func (t *Text) Receive(ctx context.Context) (string, error) { return t.recv.Receive(ctx) }

// Send sends s; see [TextSender.Send].
func (t *Text) Send(ctx context.Context, s string) error { return t.send.Send(ctx, s) }

// SendEOF calls SendEOF on the stream: the peer sees the end of the
// stream, while receiving goes on.
func (t *Text) SendEOF(ctx context.Context) error { return t.s.SendEOF(ctx) }

// Close closes the stream, which wakes a blocked Receive or Send with
// [ErrClosed].
func (t *Text) Close() error { return t.s.Close() }

// Unwrap returns the stream that t wraps: through it [Extra] answers the
// attributes of the stream below.
func (t *Text) Unwrap() ByteStream { return t.s }
