package tethertest_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tether-go/tether/memstream"
	"github.com/tether-go/tether/streams"
	"github.com/tether-go/tether/tethertest"
)

// TestFaultyCancelledReceiveKeepsData cancels Receives while a fault holds
// bytes back, and checks that the bytes come later, none lost.
func TestFaultyCancelledReceiveKeepsData(t *testing.T) {
	tests := []struct {
		name  string
		fault tethertest.Fault
	}{
		{"Latency", tethertest.Latency(time.Hour)},
		{"Bandwidth", tethertest.Bandwidth(1)}, // a byte a second
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				a, b := memstream.Pipe()
				f := tethertest.Faulty(b, tt.fault)
				defer a.Close()
				defer f.Close()
				if err := a.Send(t.Context(), []byte("abc")); err != nil {
					t.Fatalf("Send: %v", err)
				}
				var got strings.Builder
				buf := make([]byte, 8)
				for got.Len() < 3 {
					// A short timeout that most Receives hit before the
					// fault lets their bytes through.
					ctx, cancel := context.WithTimeout(t.Context(), 700*time.Millisecond)
					n, err := f.Receive(ctx, buf)
					cancel()
					switch {
					case err == nil:
						got.Write(buf[:n])
					case !errors.Is(err, context.DeadlineExceeded):
						t.Fatalf("Receive: got error %v, want a timeout or data", err)
					}
				}
				if got.String() != "abc" {
					t.Errorf("got %q, want %q", got.String(), "abc")
				}
			})
		})
	}
}

// TestFaultyCloseWakes closes a stream while a Receive waits on a fault,
// and checks that the Receive returns ErrClosed at once.
func TestFaultyCloseWakes(t *testing.T) {
	tests := []struct {
		name   string
		faults []tethertest.Fault
		send   string
	}{
		{"Latency", []tethertest.Fault{tethertest.Latency(time.Hour)}, "x"},
		{"StallAfter", []tethertest.Fault{tethertest.StallAfter(0)}, "x"},
		{"SlowClose waiting on the pipe", []tethertest.Fault{tethertest.SlowClose(time.Hour)}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				a, b := memstream.Pipe()
				defer a.Close()
				f := tethertest.Faulty(b, tt.faults...)
				if tt.send != "" {
					if err := a.Send(t.Context(), []byte(tt.send)); err != nil {
						t.Fatalf("Send: %v", err)
					}
				}
				start := time.Now()
				done := make(chan error, 1)
				go func() {
					_, err := f.Receive(t.Context(), make([]byte, 8))
					done <- err
				}()
				synctest.Wait()
				closed := make(chan struct{})
				go func() {
					f.Close()
					close(closed)
				}()
				if err := <-done; !errors.Is(err, streams.ErrClosed) {
					t.Errorf("Receive: got %v, want ErrClosed", err)
				}
				if d := time.Since(start); d != 0 {
					t.Errorf("Receive returned after %v, want at once", d)
				}
				<-closed
			})
		})
	}
}

// TestFaultyBusy checks that a second Receive while one waits is refused.
func TestFaultyBusy(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b := memstream.Pipe()
		defer a.Close()
		f := tethertest.Faulty(b, tethertest.Latency(time.Second))
		defer f.Close()
		if err := a.Send(t.Context(), []byte("x")); err != nil {
			t.Fatalf("Send: %v", err)
		}
		done := make(chan error, 1)
		go func() {
			_, err := f.Receive(t.Context(), make([]byte, 8))
			done <- err
		}()
		synctest.Wait()
		if _, err := f.Receive(t.Context(), make([]byte, 8)); !errors.Is(err, streams.ErrBusy) {
			t.Errorf("second Receive: got %v, want ErrBusy", err)
		}
		if err := <-done; err != nil {
			t.Errorf("first Receive: got %v, want data", err)
		}
	})
}

// TestFaultyResetBreaksSend checks that after ResetAfter fired, Send
// fails too, and that the peer sees the connection go.
func TestFaultyResetBreaksSend(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b := memstream.Pipe()
		defer a.Close()
		f := tethertest.Faulty(b, tethertest.ResetAfter(0))
		defer f.Close()
		if err := a.Send(t.Context(), []byte("x")); err != nil {
			t.Fatalf("Send: %v", err)
		}
		if _, err := f.Receive(t.Context(), make([]byte, 8)); !errors.Is(err, streams.ErrBroken) {
			t.Errorf("Receive: got %v, want ErrBroken", err)
		}
		if err := f.Send(t.Context(), []byte("y")); !errors.Is(err, streams.ErrBroken) {
			t.Errorf("Send after reset: got %v, want ErrBroken", err)
		}
		if err := a.Send(t.Context(), []byte("z")); !errors.Is(err, streams.ErrBroken) {
			t.Errorf("peer's Send after reset: got %v, want ErrBroken", err)
		}
	})
}

// TestFaultyUnwrap checks that attributes are found through the wrapper.
func TestFaultyUnwrap(t *testing.T) {
	a, b := memstream.Pipe()
	defer a.Close()
	f := tethertest.Faulty(b)
	defer f.Close()
	if f.Unwrap() != b {
		t.Errorf("Unwrap: got %v, want the wrapped stream", f.Unwrap())
	}
	l := tethertest.FaultyAccepts(memstream.Listen())
	defer l.Close()
	if _, ok := l.Unwrap().(*memstream.Listener); !ok {
		t.Errorf("listener's Unwrap: got %T, want *memstream.Listener", l.Unwrap())
	}
}

// TestFaultyEmptyBuffer checks that Receive into an empty buffer is an
// error, as the contract says.
func TestFaultyEmptyBuffer(t *testing.T) {
	a, b := memstream.Pipe()
	defer a.Close()
	f := tethertest.Faulty(b)
	defer f.Close()
	if n, err := f.Receive(t.Context(), nil); err == nil {
		t.Errorf("Receive(nil): got %d, nil; want an error", n)
	}
}

// TestFaultMisuse checks that bad arguments panic with a message that
// names the mistake.
func TestFaultMisuse(t *testing.T) {
	tests := []struct {
		name string
		call func()
		want string
	}{
		{"Chunked", func() { tethertest.Chunked(-1) }, "tethertest: Chunked(-1)"},
		{"Latency", func() { tethertest.Latency(-time.Second) }, "tethertest: Latency(-1s)"},
		{"Bandwidth", func() { tethertest.Bandwidth(-1) }, "tethertest: Bandwidth(-1)"},
		{"ResetAfter", func() { tethertest.ResetAfter(-1) }, "tethertest: ResetAfter(-1)"},
		{"EOFAfter", func() { tethertest.EOFAfter(-1) }, "tethertest: EOFAfter(-1)"},
		{"StallAfter", func() { tethertest.StallAfter(-1) }, "tethertest: StallAfter(-1)"},
		{"SlowClose", func() { tethertest.SlowClose(-time.Second) }, "tethertest: SlowClose(-1s)"},
		{"Faulty", func() { tethertest.Faulty(nil) }, "tethertest: Faulty of a nil stream"},
		{"FaultyAccepts", func() { tethertest.FaultyAccepts(nil) }, "tethertest: FaultyAccepts of a nil listener"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				got, _ := recover().(string)
				if !strings.HasPrefix(got, tt.want) {
					t.Errorf("got panic %q, want one starting with %q", got, tt.want)
				}
			}()
			tt.call()
		})
	}
}

// TestZeroFault checks that the zero Fault does nothing.
func TestZeroFault(t *testing.T) {
	a, b := memstream.Pipe()
	defer a.Close()
	f := tethertest.Faulty(b, tethertest.Fault{})
	defer f.Close()
	if err := a.Send(t.Context(), []byte("abc")); err != nil {
		t.Fatalf("Send: %v", err)
	}
	buf := make([]byte, 8)
	n, err := f.Receive(t.Context(), buf)
	if err != nil || string(buf[:n]) != "abc" {
		t.Errorf("Receive: got %q, %v; want %q, nil", buf[:n], err, "abc")
	}
}
