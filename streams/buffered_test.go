package streams_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/synctest"

	"github.com/tether-go/tether/cancel"
	"github.com/tether-go/tether/streams"
)

func TestBufferedReceiveExactly(t *testing.T) {
	ctx := context.Background()
	b := streams.NewBuffered(newChunked("abcd", "efgh"))
	got, err := b.ReceiveExactly(ctx, 8)
	if err != nil || string(got) != "abcdefgh" {
		t.Fatalf("ReceiveExactly(8) = %q, %v; want %q, nil", got, err, "abcdefgh")
	}
	got, err = b.ReceiveExactly(ctx, 0)
	if err != nil || got == nil || len(got) != 0 {
		t.Errorf("ReceiveExactly(0) = %#v, %v; want an empty slice, nil", got, err)
	}
}

func TestBufferedReceiveExactlyIncomplete(t *testing.T) {
	ctx := context.Background()
	b := streams.NewBuffered(newChunked("abcd"))
	_, err := b.ReceiveExactly(ctx, 8)
	if !errors.Is(err, streams.ErrIncompleteRead) || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("ReceiveExactly(8) = %v, want ErrIncompleteRead", err)
	}
	if got := string(b.Buffer()); got != "abcd" {
		t.Errorf("Buffer() = %q, want %q", got, "abcd")
	}
	buf := make([]byte, 16)
	n, err := b.Receive(ctx, buf)
	if err != nil || string(buf[:n]) != "abcd" {
		t.Errorf("Receive = %q, %v; want the kept %q, nil", buf[:n], err, "abcd")
	}
	if _, err := b.Receive(ctx, buf); err != streams.ErrEndOfStream {
		t.Errorf("Receive at the end = %v, want ErrEndOfStream", err)
	}
}

func TestBufferedReceiveUntil(t *testing.T) {
	ctx := context.Background()
	b := streams.NewBuffered(newChunked("abcd", "efgh"))
	for _, step := range []struct{ delim, want string }{{"de", "abc"}, {"h", "fg"}} {
		got, err := b.ReceiveUntil(ctx, []byte(step.delim), 10)
		if err != nil || string(got) != step.want {
			t.Fatalf("ReceiveUntil(%q) = %q, %v; want %q, nil", step.delim, got, err, step.want)
		}
	}
}

func TestBufferedReceiveUntilIncomplete(t *testing.T) {
	ctx := context.Background()
	b := streams.NewBuffered(newChunked("abcd"))
	_, err := b.ReceiveUntil(ctx, []byte("de"), 10)
	if !errors.Is(err, streams.ErrIncompleteRead) {
		t.Fatalf("ReceiveUntil = %v, want ErrIncompleteRead", err)
	}
	if got := string(b.Buffer()); got != "abcd" {
		t.Errorf("Buffer() = %q, want %q", got, "abcd")
	}
}

func TestBufferedReceiveUntilMax(t *testing.T) {
	tests := []struct {
		name    string
		chunks  []string
		delim   string
		max     int
		want    string
		wantErr error
	}{
		{name: "longer line in one chunk", chunks: []string{"abcde!"}, delim: "!", max: 3, wantErr: streams.ErrDelimiterNotFound},
		{name: "longer line split", chunks: []string{"abc", "de!"}, delim: "!", max: 3, wantErr: streams.ErrDelimiterNotFound},
		{name: "longer line in bytes", chunks: []string{"a", "b", "c", "d", "e", "!"}, delim: "!", max: 3, wantErr: streams.ErrDelimiterNotFound},
		{name: "exactly max", chunks: []string{"abc!"}, delim: "!", max: 3, want: "abc"},
		{name: "exactly max split", chunks: []string{"ab", "c", "!"}, delim: "!", max: 3, want: "abc"},
		{name: "delimiter crosses the max", chunks: []string{"abc\r\nxyz"}, delim: "\r\n", max: 3, want: "abc"},
		{name: "delimiter split across chunks", chunks: []string{"ab\r", "\ncd"}, delim: "\r\n", max: 10, want: "ab"},
		{name: "partial delimiter at the limit", chunks: []string{"abcd\r\n"}, delim: "\r\n", max: 3, wantErr: streams.ErrDelimiterNotFound},
		{name: "delimiter first", chunks: []string{"!abc"}, delim: "!", max: 1, want: ""},
		{name: "overlapping candidates", chunks: []string{"aa", "ab"}, delim: "aab", max: 10, want: "a"},
		{name: "first occurrence wins", chunks: []string{"a!b!"}, delim: "!", max: 10, want: "a"},
		{name: "huge max", chunks: []string{"line\n"}, delim: "\n", max: int(^uint(0) >> 1), want: "line"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			b := streams.NewBuffered(newChunked(tt.chunks...))
			got, err := b.ReceiveUntil(ctx, []byte(tt.delim), tt.max)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("ReceiveUntil = %q, %v; want %v", got, err, tt.wantErr)
				}
				// Nothing was consumed: everything is still there.
				rest, err := io.ReadAll(streams.Reader(ctx, b))
				if all := strings.Join(tt.chunks, ""); err != nil || string(rest) != all {
					t.Errorf("after the error the stream holds %q, %v; want %q, nil", rest, err, all)
				}
				return
			}
			if err != nil || string(got) != tt.want || got == nil {
				t.Fatalf("ReceiveUntil = %#v, %v; want %q, nil", got, err, tt.want)
			}
		})
	}
}

func TestBufferedRetryWithLargerMax(t *testing.T) {
	ctx := context.Background()
	b := streams.NewBuffered(newChunked("abc", "de!", "f"))
	if _, err := b.ReceiveUntil(ctx, []byte("!"), 3); !errors.Is(err, streams.ErrDelimiterNotFound) {
		t.Fatalf("ReceiveUntil(max 3) = %v, want ErrDelimiterNotFound", err)
	}
	got, err := b.ReceiveUntil(ctx, []byte("!"), 5)
	if err != nil || string(got) != "abcde" {
		t.Fatalf("ReceiveUntil(max 5) = %q, %v; want %q, nil", got, err, "abcde")
	}
	got, err = b.ReceiveExactly(ctx, 1)
	if err != nil || string(got) != "f" {
		t.Errorf("ReceiveExactly(1) = %q, %v; want %q, nil", got, err, "f")
	}
}

func TestBufferedReceiveServesBufferFirst(t *testing.T) {
	ctx := context.Background()
	r := newChunked("line\nrest of it", "more")
	b := streams.NewBuffered(r)
	if _, err := b.ReceiveUntil(ctx, []byte("\n"), 100); err != nil {
		t.Fatalf("ReceiveUntil = %v, want nil", err)
	}
	calls := r.calls
	buf := make([]byte, 4)
	var got []byte
	for range 3 {
		n, err := b.Receive(ctx, buf)
		if err != nil {
			t.Fatalf("Receive = %v, want nil", err)
		}
		got = append(got, buf[:n]...)
	}
	if string(got) != "rest of it" || r.calls != calls {
		t.Errorf("Receive got %q with %d more receives below; want %q from the buffer alone", got, r.calls-calls, "rest of it")
	}
	n, err := b.Receive(ctx, buf)
	if err != nil || string(buf[:n]) != "more" {
		t.Errorf("Receive = %q, %v; want %q from below, nil", buf[:n], err, "more")
	}
	if _, err := b.Receive(ctx, nil); !errors.Is(err, io.ErrShortBuffer) {
		t.Errorf("Receive(empty) = %v, want an io.ErrShortBuffer error", err)
	}
}

func TestBufferedFeed(t *testing.T) {
	ctx := context.Background()
	b := streams.NewBuffered(newChunked("abcd"))
	b.Feed([]byte("xxx"))
	b.Feed([]byte("foo"))
	got, err := b.ReceiveExactly(ctx, 10)
	if err != nil || string(got) != "xxxfooabcd" {
		t.Errorf("ReceiveExactly(10) = %q, %v; want %q, nil", got, err, "xxxfooabcd")
	}
}

func TestBufferedLargeMessages(t *testing.T) {
	ctx := context.Background()
	msg := bytes.Repeat([]byte("0123456789"), 10_000)
	input := append(bytes.Clone(msg), '\n')
	input = append(input, msg...)
	b := streams.NewBuffered(&chunked{chunks: chunkify(input, []byte{255, 1, 7})})
	got, err := b.ReceiveUntil(ctx, []byte("\n"), len(msg))
	if err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("ReceiveUntil = %d bytes, %v; want %d bytes, nil", len(got), err, len(msg))
	}
	got, err = b.ReceiveExactly(ctx, len(msg))
	if err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("ReceiveExactly = %d bytes, %v; want %d bytes, nil", len(got), err, len(msg))
	}
}

func TestBufferedCancelKeepsBytes(t *testing.T) {
	tests := []struct {
		name    string
		receive func(ctx context.Context, b *streams.Buffered) ([]byte, error)
		want    string
	}{
		{"ReceiveExactly", func(ctx context.Context, b *streams.Buffered) ([]byte, error) { return b.ReceiveExactly(ctx, 10) }, "0123\r\n4567"},
		{"ReceiveUntil", func(ctx context.Context, b *streams.Buffered) ([]byte, error) {
			return b.ReceiveUntil(ctx, []byte("\r\n"), 100)
		}, "0123"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := newFakeStream("f", nil)
				b := streams.NewBuffered(f)
				ctx, cancelFn := context.WithCancelCause(t.Context())
				errc := make(chan error, 1)
				go func() {
					_, err := tt.receive(ctx, b)
					errc <- err
				}()
				f.in <- []byte("0123")
				f.in <- []byte("\r")
				synctest.Wait()
				why := errors.New("moved on")
				cancelFn(why)
				if err := <-errc; !cancel.IsCancelled(err) || !errors.Is(err, why) {
					t.Fatalf("%s after cancel = %v, want a cancellation carrying the cause", tt.name, err)
				}
				if got := string(b.Buffer()); got != "0123\r" {
					t.Fatalf("Buffer() after cancel = %q, want %q", got, "0123\r")
				}
				f.in <- []byte("\n456789")
				got, err := tt.receive(t.Context(), b)
				if err != nil || string(got) != tt.want {
					t.Fatalf("%s retried = %q, %v; want %q, nil", tt.name, got, err, tt.want)
				}
			})
		})
	}
}

func TestBufferedDoneContextKeepsBuffer(t *testing.T) {
	b := streams.NewBuffered(newChunked("abc"))
	b.Feed([]byte("xyz"))
	ctx, cancelFn := context.WithCancel(context.Background())
	cancelFn()
	if _, err := b.Receive(ctx, make([]byte, 8)); !errors.Is(err, context.Canceled) {
		t.Errorf("Receive with a done context = %v, want context.Canceled", err)
	}
	if _, err := b.ReceiveExactly(ctx, 1); !errors.Is(err, context.Canceled) {
		t.Errorf("ReceiveExactly with a done context = %v, want context.Canceled", err)
	}
	if got := string(b.Buffer()); got != "xyz" {
		t.Errorf("Buffer() = %q, want %q untouched", got, "xyz")
	}
}

func TestBufferedBusyAndClose(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeStream("f", nil)
		b := streams.NewBuffered(f)
		errc := make(chan error, 1)
		go func() {
			_, err := b.ReceiveUntil(t.Context(), []byte("\n"), 10)
			errc <- err
		}()
		synctest.Wait()
		if _, err := b.Receive(t.Context(), make([]byte, 1)); !errors.Is(err, streams.ErrBusy) {
			t.Errorf("concurrent Receive = %v, want ErrBusy", err)
		}
		if _, err := b.ReceiveExactly(t.Context(), 1); !errors.Is(err, streams.ErrBusy) {
			t.Errorf("concurrent ReceiveExactly = %v, want ErrBusy", err)
		}
		wantPanic(t, func() { b.Buffer() })
		wantPanic(t, func() { b.Feed([]byte("x")) })
		if err := b.Close(); err != nil {
			t.Fatalf("Close = %v, want nil", err)
		}
		if err := <-errc; !errors.Is(err, streams.ErrClosed) {
			t.Errorf("blocked ReceiveUntil after Close = %v, want ErrClosed", err)
		}
		if _, err := b.Receive(t.Context(), make([]byte, 1)); !errors.Is(err, streams.ErrClosed) {
			t.Errorf("Receive after Close = %v, want ErrClosed", err)
		}
		if err := b.Close(); err != nil {
			t.Errorf("second Close = %v, want nil", err)
		}
	})
}

func TestBufferedAttribute(t *testing.T) {
	f := newFakeStream("f", nil)
	f.attrs = map[any]any{keyName: "inner"}
	if got, ok := streams.Extra(streams.NewBuffered(f), keyName); !ok || got != "inner" {
		t.Errorf("Extra = %q, %v; want %q, true", got, ok, "inner")
	}
	if _, ok := streams.Extra(streams.NewBuffered(newChunked()), keyName); ok {
		t.Errorf("Extra over a receiver without attributes: ok = true, want false")
	}
}

func TestBufferedMisusePanics(t *testing.T) {
	ctx := context.Background()
	b := streams.NewBuffered(newChunked("abc"))
	tests := []struct {
		name string
		fn   func()
	}{
		{"nil receiver", func() { streams.NewBuffered(nil) }},
		{"negative count", func() { b.ReceiveExactly(ctx, -1) }},
		{"empty delimiter", func() { b.ReceiveUntil(ctx, nil, 10) }},
		{"zero max", func() { b.ReceiveUntil(ctx, []byte("\n"), 0) }},
		{"negative max", func() { b.ReceiveUntil(ctx, []byte("\n"), -1) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { wantPanic(t, tt.fn) })
	}
}
