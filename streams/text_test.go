package streams_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"testing/synctest"
	"unicode/utf8"

	"github.com/tether-go/tether/cancel"
	"github.com/tether-go/tether/streams"
)

// receiveAll receives from t until an error, and returns the strings and
// the error.
func receiveAll(t *testing.T, r interface {
	Receive(context.Context) (string, error)
}) ([]string, error) {
	t.Helper()
	var got []string
	for range 1 << 20 {
		s, err := r.Receive(context.Background())
		if err != nil {
			return got, err
		}
		if s == "" || !utf8.ValidString(s) {
			t.Fatalf("Receive = %q, nil; want a non-empty valid string", s)
		}
		got = append(got, s)
	}
	t.Fatal("Receive never returned an error")
	return nil, nil
}

func TestTextReceiveKeepsSplitCharacter(t *testing.T) {
	ctx := context.Background()
	r := streams.NewTextReceiver(newChunked("\xc3\xa5\xc3\xa4\xc3", "\xb6"))
	for _, want := range []string{"åä", "ö"} {
		if got, err := r.Receive(ctx); err != nil || got != want {
			t.Fatalf("Receive = %q, %v; want %q, nil", got, err, want)
		}
	}
	if _, err := r.Receive(ctx); err != streams.ErrEndOfStream {
		t.Errorf("Receive at the end = %v, want ErrEndOfStream", err)
	}
}

func TestTextReceiveOneByteChunks(t *testing.T) {
	const text = "日本語 and ελληνικά 🎉!"
	r := streams.NewTextReceiver(&chunked{chunks: chunkify([]byte(text), []byte{1})})
	got, err := receiveAll(t, r)
	if err != streams.ErrEndOfStream || strings.Join(got, "") != text {
		t.Errorf("received %q, %v; want %q, ErrEndOfStream", strings.Join(got, ""), err, text)
	}
}

func TestTextReceiveInvalid(t *testing.T) {
	tests := []struct {
		name          string
		chunks        []string
		want          []string
		wantOffset    int64
		wantTruncated bool
	}{
		{name: "invalid byte after text", chunks: []string{"ab\xffcd"}, want: []string{"ab"}, wantOffset: 2},
		{name: "invalid byte first", chunks: []string{"\xff"}, wantOffset: 0},
		{name: "latin-1", chunks: []string{"\xe5\xe4\xf6"}, wantOffset: 0},
		{name: "offset counts earlier receives", chunks: []string{"abc", "de\xe2\x82", "A"}, want: []string{"abc", "de"}, wantOffset: 5},
		{name: "surrogate", chunks: []string{"ok", "\xed\xa0\x80"}, want: []string{"ok"}, wantOffset: 2},
		{name: "overlong", chunks: []string{"\xc0\xaf"}, wantOffset: 0},
		{name: "cut short by the end", chunks: []string{"åä", "\xc3"}, want: []string{"åä"}, wantOffset: 4, wantTruncated: true},
		{name: "cut short after a split", chunks: []string{"x\xf0\x9f", "\x8e"}, want: []string{"x"}, wantOffset: 1, wantTruncated: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := streams.NewTextReceiver(newChunked(tt.chunks...))
			got, err := receiveAll(t, r)
			if strings.Join(got, "") != strings.Join(tt.want, "") {
				t.Errorf("received %q before the error, want %q", got, tt.want)
			}
			var de *streams.DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("error = %v, want a *DecodeError", err)
			}
			if de.Offset != tt.wantOffset || de.Truncated != tt.wantTruncated {
				t.Errorf("DecodeError{Offset: %d, Truncated: %v}, want {%d, %v}", de.Offset, de.Truncated, tt.wantOffset, tt.wantTruncated)
			}
			if errors.Is(err, streams.ErrIncompleteRead) != tt.wantTruncated {
				t.Errorf("errors.Is(%v, ErrIncompleteRead) = %v, want %v", err, !tt.wantTruncated, tt.wantTruncated)
			}
			if _, again := r.Receive(context.Background()); again != err {
				t.Errorf("Receive after the error = %v, want the same error again", again)
			}
		})
	}
}

func TestTextReceiveReplace(t *testing.T) {
	tests := []struct {
		name   string
		chunks []string
		want   string
	}{
		{name: "latin-1", chunks: []string{"\xe5\xe4\xf6"}, want: "\ufffd\ufffd\ufffd"},
		{name: "maximal subpart", chunks: []string{"\xe2\x82A"}, want: "\ufffdA"},
		{name: "maximal subpart split", chunks: []string{"\xe2", "\x82", "A"}, want: "\ufffdA"},
		{name: "surrogate bytes one by one", chunks: []string{"\xed\xa0\x80"}, want: "\ufffd\ufffd\ufffd"},
		{name: "cut short by the end", chunks: []string{"ab\xe2\x82"}, want: "ab\ufffd"},
		{name: "valid text untouched", chunks: []string{"åä", "ö"}, want: "åäö"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := streams.NewTextReceiver(newChunked(tt.chunks...), streams.ReplaceInvalid())
			got, err := receiveAll(t, r)
			if err != streams.ErrEndOfStream || strings.Join(got, "") != tt.want {
				t.Errorf("received %q, %v; want %q, ErrEndOfStream", strings.Join(got, ""), err, tt.want)
			}
		})
	}
}

func TestTextSend(t *testing.T) {
	tests := []struct {
		name       string
		opts       []streams.TextOption
		send       string
		wantSent   string
		wantOffset int64 // -1: no error
		wantTrunc  bool
	}{
		{name: "valid", send: "åäö", wantSent: "\xc3\xa5\xc3\xa4\xc3\xb6", wantOffset: -1},
		{name: "invalid", send: "ab\xffc", wantOffset: 2},
		{name: "zero option does nothing", opts: []streams.TextOption{{}}, send: "ab\xffc", wantOffset: 2},
		{name: "cut short", send: "ab\xe2\x82", wantOffset: 2, wantTrunc: true},
		{name: "invalid replaced", opts: []streams.TextOption{streams.ReplaceInvalid()}, send: "ab\xffc\xe2\x82", wantSent: "ab\ufffdc\ufffd", wantOffset: -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeStream("f", nil)
			err := streams.NewTextSender(f, tt.opts...).Send(context.Background(), tt.send)
			if tt.wantOffset < 0 {
				if err != nil || f.Sent() != tt.wantSent {
					t.Errorf("Send = %v and sent %q; want nil and %q", err, f.Sent(), tt.wantSent)
				}
				return
			}
			var de *streams.DecodeError
			if !errors.As(err, &de) || de.Offset != tt.wantOffset || de.Truncated != tt.wantTrunc {
				t.Errorf("Send = %v, want a DecodeError at %d (truncated %v)", err, tt.wantOffset, tt.wantTrunc)
			}
			if f.Sent() != "" {
				t.Errorf("sent %q after an error, want nothing", f.Sent())
			}
		})
	}
}

func TestTextStream(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := t.Context()
		f := newFakeStream("f", nil)
		f.attrs = map[any]any{keyName: "inner"}
		s := streams.NewText(f)
		if err := s.Send(ctx, "åäö"); err != nil || f.Sent() != "\xc3\xa5\xc3\xa4\xc3\xb6" {
			t.Fatalf("Send = %v, sent %q; want nil, the UTF-8 bytes", err, f.Sent())
		}
		f.in <- []byte("\xc3\xa6\xc3\xb8")
		if got, err := s.Receive(ctx); err != nil || got != "æø" {
			t.Fatalf("Receive = %q, %v; want %q, nil", got, err, "æø")
		}
		if got, ok := streams.Extra(s, keyName); !ok || got != "inner" {
			t.Errorf("Extra = %q, %v; want %q, true", got, ok, "inner")
		}
		if err := s.SendEOF(ctx); err != nil {
			t.Fatalf("SendEOF = %v, want nil", err)
		}
		if err := s.Send(ctx, "more"); !errors.Is(err, streams.ErrClosed) {
			t.Errorf("Send after SendEOF = %v, want ErrClosed", err)
		}

		// A Receive blocked on half a character: cancelling it loses
		// nothing, a second Receive is busy, Close wakes it.
		f.in <- []byte("\xc3")
		rctx, cancelFn := context.WithCancel(ctx)
		errc := make(chan error, 1)
		go func() {
			_, err := s.Receive(rctx)
			errc <- err
		}()
		synctest.Wait()
		if _, err := s.Receive(ctx); !errors.Is(err, streams.ErrBusy) {
			t.Errorf("concurrent Receive = %v, want ErrBusy", err)
		}
		cancelFn()
		if err := <-errc; !cancel.IsCancelled(err) {
			t.Fatalf("cancelled Receive = %v, want a cancellation error", err)
		}
		f.in <- []byte("\xb6")
		if got, err := s.Receive(ctx); err != nil || got != "ö" {
			t.Fatalf("Receive after the cancel = %q, %v; want %q, nil", got, err, "ö")
		}
		go func() {
			_, err := s.Receive(ctx)
			errc <- err
		}()
		synctest.Wait()
		if err := s.Close(); err != nil {
			t.Fatalf("Close = %v, want nil", err)
		}
		if err := <-errc; !errors.Is(err, streams.ErrClosed) {
			t.Errorf("blocked Receive after Close = %v, want ErrClosed", err)
		}
	})
}

func TestTextMisusePanics(t *testing.T) {
	tests := []struct {
		name string
		fn   func()
	}{
		{"NewText nil", func() { streams.NewText(nil) }},
		{"NewTextReceiver nil", func() { streams.NewTextReceiver(nil) }},
		{"NewTextSender nil", func() { streams.NewTextSender(nil) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { wantPanic(t, tt.fn) })
	}
}
