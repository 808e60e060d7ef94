package streams

import (
	"fmt"
	"unicode/utf8"
)

// DecodeError reports bytes that are not valid UTF-8: received by a
// [TextReceiver] (Offset counts from the first byte it received), or passed
// to [TextSender.Send] (Offset counts from the start of the string). Find it
// with errors.As.
type DecodeError struct {
	// Offset is the position of the first byte that is not part of a valid
	// UTF-8 sequence.
	Offset int64
	// Truncated means that the bytes ended inside a sequence: the stream
	// ended, or the string did. errors.Is(err, ErrIncompleteRead) holds
	// then.
	Truncated bool
}

// Error says where the bytes stopped being valid UTF-8.
func (e *DecodeError) Error() string {
	if e.Truncated {
		return fmt.Sprintf("streams: UTF-8 sequence cut short at byte offset %d", e.Offset)
	}
	return fmt.Sprintf("streams: invalid UTF-8 at byte offset %d", e.Offset)
}

// Unwrap returns [ErrIncompleteRead] when the error is Truncated, else nil.
func (e *DecodeError) Unwrap() error {
	if e.Truncated {
		return ErrIncompleteRead
	}
	return nil
}

// scanUTF8 returns the length of the longest prefix of b made of complete,
// valid UTF-8 sequences, and whether the bytes after it (if any) are
// invalid rather than the start of a sequence that more bytes may complete.
func scanUTF8(b []byte) (valid int, invalid bool) {
	if utf8.Valid(b) {
		return len(b), false
	}
	// The common case: a chunk boundary cut the last sequence short.
	for i := len(b) - 1; i >= 0 && i >= len(b)-(utf8.UTFMax-1); i-- {
		if utf8.RuneStart(b[i]) {
			if !utf8.FullRune(b[i:]) && utf8.Valid(b[:i]) {
				return i, false
			}
			break
		}
	}
	i := 0
	for i < len(b) {
		if b[i] < utf8.RuneSelf {
			i++
			continue
		}
		// FullRune is false only for a proper prefix of a valid sequence:
		// an invalid byte counts as a full (error) rune.
		if !utf8.FullRune(b[i:]) {
			return i, false
		}
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size == 1 {
			return i, true
		}
		i += size
	}
	return i, false
}

// badLen returns the length of the invalid sequence at the start of b: its
// maximal subpart, the longest prefix that could start a valid sequence,
// or one byte. One U+FFFD replaces each: the practice the Unicode Standard
// (chapter 3.9) recommends, which WHATWG and Python follow.
func badLen(b []byte) int {
	n := 1
	for n < utf8.UTFMax-1 && n < len(b) && !utf8.FullRune(b[:n+1]) {
		n++
	}
	return n
}

// replaceInvalid appends b to dst, each invalid sequence replaced by
// U+FFFD, and returns the result. A cut-short sequence at the end of b is
// replaced too if final; otherwise it is left out and its length returned
// as tail, for the caller to keep until more bytes come.
func replaceInvalid(dst, b []byte, final bool) (out []byte, tail int) {
	for len(b) > 0 {
		valid, invalid := scanUTF8(b)
		dst = append(dst, b[:valid]...)
		b = b[valid:]
		switch {
		case invalid:
			dst = utf8.AppendRune(dst, utf8.RuneError)
			b = b[badLen(b):]
		case len(b) > 0 && !final:
			return dst, len(b)
		case len(b) > 0:
			return utf8.AppendRune(dst, utf8.RuneError), 0
		}
	}
	return dst, 0
}
