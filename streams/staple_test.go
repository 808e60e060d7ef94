package streams_test

import (
	"context"
	"errors"
	"io"
	"slices"
	"testing"

	"github.com/tether-go/tether/streams"
)

var (
	keyName  = streams.NewAttr[string]("name")
	keyCount = streams.NewAttr[int]("count")
)

func TestStapleReceiveSend(t *testing.T) {
	ctx := context.Background()
	send := newFakeStream("send", nil)
	recv := newChunked("hello, world")
	s := streams.Staple(send, recv)

	buf := make([]byte, 3)
	n, err := s.Receive(ctx, buf)
	if err != nil || string(buf[:n]) != "hel" {
		t.Fatalf("Receive = %q, %v; want %q, nil", buf[:n], err, "hel")
	}
	buf = make([]byte, 64)
	n, err = s.Receive(ctx, buf)
	if err != nil || string(buf[:n]) != "lo, world" {
		t.Fatalf("Receive = %q, %v; want %q, nil", buf[:n], err, "lo, world")
	}
	if _, err := s.Receive(ctx, buf); err != streams.ErrEndOfStream {
		t.Fatalf("Receive at the end = %v, want ErrEndOfStream", err)
	}
	for _, p := range []string{"how are you ", "today?"} {
		if err := s.Send(ctx, []byte(p)); err != nil {
			t.Fatalf("Send(%q) = %v, want nil", p, err)
		}
	}
	if got, want := send.Sent(), "how are you today?"; got != want {
		t.Errorf("sent %q, want %q", got, want)
	}
	if st := s.(*streams.Stapled); st.Sender != send || st.Receiver != recv {
		t.Errorf("Stapled fields = %v, %v; want the stapled sides", st.Sender, st.Receiver)
	}
}

func TestStapleSendEOF(t *testing.T) {
	ctx := context.Background()
	send := newFakeStream("send", nil)
	s := streams.Staple(send, newChunked("hello, world"))
	for i := range 2 {
		if err := s.SendEOF(ctx); err != nil {
			t.Fatalf("SendEOF #%d = %v, want nil", i+1, err)
		}
	}
	if err := s.Send(ctx, []byte("world")); !errors.Is(err, streams.ErrClosed) {
		t.Errorf("Send after SendEOF = %v, want ErrClosed", err)
	}
	buf := make([]byte, 64)
	n, err := s.Receive(ctx, buf)
	if err != nil || string(buf[:n]) != "hello, world" {
		t.Errorf("Receive after SendEOF = %q, %v; want %q, nil", buf[:n], err, "hello, world")
	}
}

func TestStapleClose(t *testing.T) {
	ctx := context.Background()
	var log []string
	send := newFakeStream("send", &log)
	recv := newFakeStream("recv", &log)
	s := streams.Staple(send, recv)
	if err := s.Close(); err != nil {
		t.Fatalf("Close = %v, want nil", err)
	}
	if want := []string{"send", "recv"}; !slices.Equal(log, want) {
		t.Errorf("closed %v, want %v (send side first)", log, want)
	}
	if _, err := s.Receive(ctx, make([]byte, 1)); !errors.Is(err, streams.ErrClosed) {
		t.Errorf("Receive after Close = %v, want ErrClosed", err)
	}
	if err := s.Send(ctx, []byte("x")); !errors.Is(err, streams.ErrClosed) {
		t.Errorf("Send after Close = %v, want ErrClosed", err)
	}
	if err := s.SendEOF(ctx); !errors.Is(err, streams.ErrClosed) {
		t.Errorf("SendEOF after Close = %v, want ErrClosed", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close = %v, want nil", err)
	}
	if len(log) != 2 {
		t.Errorf("closed %v after the second Close, want each side closed once", log)
	}
}

// sendOnly is a ByteSender without Close or attributes.
type sendOnly struct{}

func (sendOnly) Send(context.Context, []byte) error { return nil }
func (sendOnly) SendEOF(context.Context) error      { return nil }

// closeFails is a receiver whose Close fails.
type closeFails struct {
	*chunked
	err error
}

func (c closeFails) Close() error { return c.err }

func TestStapleCloseErrors(t *testing.T) {
	errRecv := errors.New("receive side failed to close")
	s := streams.Staple(sendOnly{}, closeFails{newChunked(), errRecv})
	if err := s.Close(); !errors.Is(err, errRecv) {
		t.Errorf("Close = %v, want the receive side's error", err)
	}

	var log []string
	errA, errB := errors.New("a"), errors.New("b")
	o := streams.StapleObjects[string](&objects{name: "send", log: &log, err: errA}, &objects{name: "recv", log: &log, err: errB})
	err := o.Close()
	if !errors.Is(err, errA) || !errors.Is(err, errB) {
		t.Errorf("Close = %v, want both sides' errors joined", err)
	}
	if want := []string{"send", "recv"}; !slices.Equal(log, want) {
		t.Errorf("closed %v, want %v", log, want)
	}
}

func TestStapleAttribute(t *testing.T) {
	tests := []struct {
		name      string
		sendAttrs map[any]any
		recvAttrs map[any]any
		wantName  string
		wantCount int
		wantOK    bool
	}{
		{name: "send side first", sendAttrs: map[any]any{keyName: "send"}, recvAttrs: map[any]any{keyName: "recv", keyCount: 2}, wantName: "send", wantCount: 2, wantOK: true},
		{name: "receive side next", recvAttrs: map[any]any{keyName: "recv", keyCount: 3}, wantName: "recv", wantCount: 3, wantOK: true},
		{name: "neither", wantOK: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			send, recv := newFakeStream("send", nil), newFakeStream("recv", nil)
			send.attrs, recv.attrs = tt.sendAttrs, tt.recvAttrs
			s := streams.Staple(send, recv)
			name, ok := streams.Extra(s, keyName)
			if ok != tt.wantOK || name != tt.wantName {
				t.Errorf("Extra(name) = %q, %v; want %q, %v", name, ok, tt.wantName, tt.wantOK)
			}
			if count, _ := streams.Extra(s, keyCount); count != tt.wantCount {
				t.Errorf("Extra(count) = %d, want %d", count, tt.wantCount)
			}
		})
	}
	if _, ok := streams.Extra(streams.Staple(sendOnly{}, newChunked()), keyName); ok {
		t.Errorf("Extra on sides without attributes: ok = true, want false")
	}
}

func TestStapleObjects(t *testing.T) {
	ctx := context.Background()
	send := &objects{}
	recv := &objects{items: []string{"hello", "world"}}
	s := streams.StapleObjects[string](send, recv)
	for _, want := range []string{"hello", "world"} {
		if got, err := s.Receive(ctx); err != nil || got != want {
			t.Fatalf("Receive = %q, %v; want %q, nil", got, err, want)
		}
	}
	if _, err := s.Receive(ctx); err != io.EOF {
		t.Fatalf("Receive at the end = %v, want ErrEndOfStream", err)
	}
	for _, v := range []string{"how are you ", "today?"} {
		if err := s.Send(ctx, v); err != nil {
			t.Fatalf("Send(%q) = %v, want nil", v, err)
		}
	}
	if want := []string{"how are you ", "today?"}; !slices.Equal(send.sent, want) {
		t.Errorf("sent %q, want %q", send.sent, want)
	}
	if st := s.(*streams.StapledObjects[string]); st.Sender != send || st.Receiver != recv {
		t.Errorf("StapledObjects fields are not the stapled sides")
	}
}

func TestStapleObjectsSendEOF(t *testing.T) {
	ctx := context.Background()
	var log []string
	send := &objects{name: "send", log: &log}
	s := streams.StapleObjects[string](send, &objects{items: []string{"hello", "world"}})
	st := s.(*streams.StapledObjects[string])
	for i := range 2 {
		if err := st.SendEOF(ctx); err != nil {
			t.Fatalf("SendEOF #%d = %v, want nil", i+1, err)
		}
	}
	if !send.closed {
		t.Errorf("SendEOF left the sender open, want it closed")
	}
	if err := s.Send(ctx, "world"); !errors.Is(err, streams.ErrClosed) {
		t.Errorf("Send after SendEOF = %v, want ErrClosed", err)
	}
	for _, want := range []string{"hello", "world"} {
		if got, err := s.Receive(ctx); err != nil || got != want {
			t.Errorf("Receive after SendEOF = %q, %v; want %q, nil", got, err, want)
		}
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close = %v, want nil", err)
	}
	if want := []string{"send"}; !slices.Equal(log, want) {
		t.Errorf("the sender was closed %d times, want once", len(log))
	}
}

func TestStapleObjectsClose(t *testing.T) {
	ctx := context.Background()
	s := streams.StapleObjects[string](&objects{}, &objects{items: []string{"x"}})
	if err := s.Close(); err != nil {
		t.Fatalf("Close = %v, want nil", err)
	}
	if _, err := s.Receive(ctx); !errors.Is(err, streams.ErrClosed) {
		t.Errorf("Receive after Close = %v, want ErrClosed", err)
	}
	if err := s.Send(ctx, "x"); !errors.Is(err, streams.ErrClosed) {
		t.Errorf("Send after Close = %v, want ErrClosed", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close = %v, want nil", err)
	}
}

func TestStapleNilPanics(t *testing.T) {
	tests := []struct {
		name string
		fn   func()
	}{
		{"Staple nil sender", func() { streams.Staple(nil, newChunked()) }},
		{"Staple nil receiver", func() { streams.Staple(sendOnly{}, nil) }},
		{"StapleObjects nil sender", func() { streams.StapleObjects[string](nil, &objects{}) }},
		{"StapleObjects nil receiver", func() { streams.StapleObjects[string](&objects{}, nil) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { wantPanic(t, tt.fn) })
	}
}

// wantPanic checks that fn panics with a message that starts "streams: ".
func wantPanic(t *testing.T, fn func()) {
	t.Helper()
	defer func() {
		t.Helper()
		r := recover()
		msg, ok := r.(string)
		if !ok || len(msg) < 9 || msg[:9] != "streams: " {
			t.Errorf("panic value = %v, want a message starting %q", r, "streams: ")
		}
	}()
	fn()
}
