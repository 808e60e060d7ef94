package streams_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/tether-go/tether/streams"
)

// FuzzReceiveUntil checks ReceiveUntil's strict contract against a simple
// reference, however the input is cut into chunks: each line is what
// comes before the first delimiter when that starts within maxLen bytes;
// otherwise ErrDelimiterNotFound if maxLen+len(delim) bytes came, else
// ErrIncompleteRead; and after an error every byte is still there.
func FuzzReceiveUntil(f *testing.F) {
	f.Add([]byte("abc\ndefgh\n\nij"), []byte("\n"), uint16(4), []byte{1})
	f.Add([]byte("abcde!"), []byte("!"), uint16(3), []byte{3})
	f.Add([]byte("ab\r\ncd\r\n"), []byte("\r\n"), uint16(2), []byte{3, 1})
	f.Fuzz(func(t *testing.T, input, delim []byte, maxLen uint16, sizes []byte) {
		if len(delim) == 0 || len(delim) > 8 {
			t.Skip()
		}
		limit := int(maxLen%64) + 1
		ctx := context.Background()
		b := streams.NewBuffered(&chunked{chunks: chunkify(input, sizes)})
		rest := input
		for {
			got, err := b.ReceiveUntil(ctx, delim, limit)
			i := bytes.Index(rest, delim)
			var wantErr error
			switch {
			case i >= 0 && i <= limit:
				if err != nil || !bytes.Equal(got, rest[:i]) {
					t.Fatalf("ReceiveUntil = %q, %v; want %q, nil", got, err, rest[:i])
				}
				rest = rest[i+len(delim):]
				continue
			case i >= 0 || len(rest) >= limit+len(delim):
				wantErr = streams.ErrDelimiterNotFound
			default:
				wantErr = streams.ErrIncompleteRead
			}
			if !errors.Is(err, wantErr) || got != nil {
				t.Fatalf("ReceiveUntil = %q, %v; want nil, %v", got, err, wantErr)
			}
			left, err := io.ReadAll(streams.Reader(ctx, b))
			if err != nil || !bytes.Equal(left, rest) {
				t.Fatalf("after the error the stream holds %q, %v; want %q, nil", left, err, rest)
			}
			return
		}
	})
}

// firstInvalid returns the offset of the first byte of b that is not part
// of a valid UTF-8 sequence, or -1.
func firstInvalid(b []byte) int {
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size == 1 {
			return i
		}
		i += size
	}
	return -1
}

// FuzzText checks TextReceiver however the input is cut into chunks: the
// strings received join up to the input when it is valid UTF-8, and to
// the input up to the first invalid byte otherwise, followed by a
// DecodeError with that offset; with ReplaceInvalid, the text does not
// depend on the chunking.
func FuzzText(f *testing.F) {
	f.Add([]byte("h\xc3\xa9llo w\xc3\xb6rld"), []byte{1})
	f.Add([]byte("ab\xffcd"), []byte{2})
	f.Add([]byte("\xe2\x82A\xf0\x9f\x8e"), []byte{1, 2})
	f.Fuzz(func(t *testing.T, input, sizes []byte) {
		got, err := receiveAll(t, streams.NewTextReceiver(&chunked{chunks: chunkify(input, sizes)}))
		text := strings.Join(got, "")
		off := firstInvalid(input)
		if off < 0 {
			if err != streams.ErrEndOfStream || text != string(input) {
				t.Fatalf("received %q, %v; want %q, ErrEndOfStream", text, err, input)
			}
		} else {
			var de *streams.DecodeError
			if !errors.As(err, &de) || de.Offset != int64(off) {
				t.Fatalf("error = %v, want a DecodeError at offset %d", err, off)
			}
			if wantTrunc := !utf8.FullRune(input[off:]); de.Truncated != wantTrunc {
				t.Errorf("Truncated = %v, want %v", de.Truncated, wantTrunc)
			}
			if text != string(input[:off]) {
				t.Fatalf("received %q before the error, want %q", text, input[:off])
			}
		}

		replaced, err := receiveAll(t, streams.NewTextReceiver(&chunked{chunks: chunkify(input, sizes)}, streams.ReplaceInvalid()))
		whole, err2 := receiveAll(t, streams.NewTextReceiver(newChunked(string(input)), streams.ReplaceInvalid()))
		if err != streams.ErrEndOfStream || err2 != streams.ErrEndOfStream {
			t.Fatalf("with ReplaceInvalid: errors %v and %v, want ErrEndOfStream", err, err2)
		}
		if a, b := strings.Join(replaced, ""), strings.Join(whole, ""); a != b || (off < 0 && a != string(input)) {
			t.Fatalf("with ReplaceInvalid: chunked %q, whole %q; want equal (and the input when valid)", a, b)
		}
	})
}
