package memstream_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tether-go/tether/cancel"
	"github.com/tether-go/tether/memstream"
	"github.com/tether-go/tether/streams"
)

// receiveAll receives from s until the end of the stream.
func receiveAll(ctx context.Context, s streams.ByteReceiver, bufSize int) ([]byte, error) {
	var out []byte
	buf := make([]byte, bufSize)
	for {
		n, err := s.Receive(ctx, buf)
		if n == 0 && err == nil {
			return out, errors.New("Receive returned 0, nil")
		}
		out = append(out, buf[:n]...)
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
	}
}

func TestPipeBothWays(t *testing.T) {
	ctx := context.Background()
	a, b := memstream.Pipe()
	defer a.Close()
	defer b.Close()
	if err := a.Send(ctx, []byte("ping")); err != nil {
		t.Fatalf("a.Send = %v", err)
	}
	if err := b.Send(ctx, []byte("pong")); err != nil {
		t.Fatalf("b.Send = %v", err)
	}
	buf := make([]byte, 16)
	if n, err := b.Receive(ctx, buf); string(buf[:n]) != "ping" || err != nil {
		t.Errorf("b.Receive = %q, %v; want ping, nil", buf[:n], err)
	}
	if n, err := a.Receive(ctx, buf); string(buf[:n]) != "pong" || err != nil {
		t.Errorf("a.Receive = %q, %v; want pong, nil", buf[:n], err)
	}
}

func TestPipeReceiveSmallBuffer(t *testing.T) {
	ctx := context.Background()
	a, b := memstream.Pipe()
	defer a.Close()
	defer b.Close()
	a.Send(ctx, []byte("hello"))
	a.SendEOF(ctx)
	got, err := receiveAll(ctx, b, 2)
	if string(got) != "hello" || err != nil {
		t.Errorf("received %q, %v; want hello, nil", got, err)
	}
}

func TestPipeReceiveEmptyBuffer(t *testing.T) {
	a, b := memstream.Pipe()
	defer a.Close()
	defer b.Close()
	for _, p := range [][]byte{nil, {}} {
		if n, err := b.Receive(context.Background(), p); !errors.Is(err, io.ErrShortBuffer) {
			t.Errorf("Receive(%#v) = %d, %v; want an error matching io.ErrShortBuffer", p, n, err)
		}
	}
}

func TestPipeSendEmpty(t *testing.T) {
	ctx := context.Background()
	a, b := memstream.Pipe()
	defer a.Close()
	defer b.Close()
	if err := a.Send(ctx, nil); err != nil {
		t.Errorf("Send(nil) = %v, want nil", err)
	}
	a.SendEOF(ctx)
	if n, err := b.Receive(ctx, make([]byte, 4)); err != io.EOF {
		t.Errorf("Receive = %d, %v; want io.EOF: an empty Send sends nothing", n, err)
	}
}

func TestPipeSendEOF(t *testing.T) {
	ctx := context.Background()
	a, b := memstream.Pipe()
	defer a.Close()
	defer b.Close()
	a.Send(ctx, []byte("last words"))
	if err := a.SendEOF(ctx); err != nil {
		t.Fatalf("SendEOF = %v, want nil", err)
	}
	if err := a.SendEOF(ctx); err != nil {
		t.Errorf("second SendEOF = %v, want nil", err)
	}
	if err := a.Send(ctx, []byte("more")); !errors.Is(err, streams.ErrClosed) {
		t.Errorf("Send after SendEOF = %v, want ErrClosed", err)
	}
	got, err := receiveAll(ctx, b, 64)
	if string(got) != "last words" || err != nil {
		t.Errorf("received %q, %v; want \"last words\", nil", got, err)
	}
	if _, err := b.Receive(ctx, make([]byte, 1)); err != io.EOF {
		t.Errorf("Receive after EOF = %v, want io.EOF again", err)
	}
	// The other direction keeps working.
	if err := b.Send(ctx, []byte("reply")); err != nil {
		t.Fatalf("b.Send after a's SendEOF = %v, want nil", err)
	}
	buf := make([]byte, 16)
	if n, err := a.Receive(ctx, buf); string(buf[:n]) != "reply" || err != nil {
		t.Errorf("a.Receive = %q, %v; want reply, nil", buf[:n], err)
	}
}

func TestPipeClose(t *testing.T) {
	ctx := context.Background()
	a, b := memstream.Pipe()
	defer b.Close()
	a.Send(ctx, []byte("bye"))
	b.Send(ctx, []byte("dropped"))
	if err := a.Close(); err != nil {
		t.Fatalf("Close = %v, want nil", err)
	}
	if err := a.Close(); err != nil {
		t.Errorf("second Close = %v, want nil", err)
	}
	tests := []struct {
		name string
		call func() error
		want error
	}{
		{name: "Send on the closed end", call: func() error { return a.Send(ctx, []byte("x")) }, want: streams.ErrClosed},
		{name: "SendEOF on the closed end", call: func() error { return a.SendEOF(ctx) }, want: streams.ErrClosed},
		{name: "Receive on the closed end", call: func() error { _, err := a.Receive(ctx, make([]byte, 8)); return err }, want: streams.ErrClosed},
		{name: "Send to the closed end", call: func() error { return b.Send(ctx, []byte("x")) }, want: streams.ErrBroken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.call(); !errors.Is(err, tt.want) {
				t.Errorf("got %v, want %v", err, tt.want)
			}
		})
	}
	got, err := receiveAll(ctx, b, 8)
	if string(got) != "bye" || err != nil {
		t.Errorf("peer received %q, %v; want bye, nil", got, err)
	}
}

// Close wakes the calls blocked on both ends.
func TestPipeCloseWakes(t *testing.T) {
	full := make([]byte, memstream.PipeBufferSize)
	tests := []struct {
		name  string
		block func(ctx context.Context, closed, peer streams.ByteStream) error
		want  error
	}{
		{
			name: "Receive on the closed end",
			block: func(ctx context.Context, closed, peer streams.ByteStream) error {
				_, err := closed.Receive(ctx, make([]byte, 8))
				return err
			},
			want: streams.ErrClosed,
		},
		{
			name: "Send on the closed end",
			block: func(ctx context.Context, closed, peer streams.ByteStream) error {
				return closed.Send(ctx, append(full, 1))
			},
			want: streams.ErrClosed,
		},
		{
			name: "Receive on the peer",
			block: func(ctx context.Context, closed, peer streams.ByteStream) error {
				_, err := peer.Receive(ctx, make([]byte, 8))
				return err
			},
			want: io.EOF,
		},
		{
			name: "Send on the peer",
			block: func(ctx context.Context, closed, peer streams.ByteStream) error {
				return peer.Send(ctx, append(full, 1))
			},
			want: streams.ErrBroken,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				a, b := memstream.Pipe()
				defer b.Close()
				call := asyncErr(func() error { return tt.block(context.Background(), a, b) })
				synctest.Wait()
				if !pending(call) {
					t.Fatal("the call did not block")
				}
				a.Close()
				if err := <-call; !errors.Is(err, tt.want) {
					t.Errorf("blocked call = %v, want %v", err, tt.want)
				}
			})
		})
	}
}

func TestPipeBusy(t *testing.T) {
	t.Run("receive", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			ctx := context.Background()
			a, b := memstream.Pipe()
			defer a.Close()
			defer b.Close()
			first := async(func() (int, error) { return b.Receive(ctx, make([]byte, 8)) })
			synctest.Wait()
			if n, err := b.Receive(ctx, make([]byte, 8)); !errors.Is(err, streams.ErrBusy) {
				t.Errorf("second Receive = %d, %v; want ErrBusy", n, err)
			}
			a.Send(ctx, []byte("x"))
			if res := <-first; res.v != 1 || res.err != nil {
				t.Errorf("first Receive = %d, %v; want 1, nil", res.v, res.err)
			}
		})
	})
	t.Run("send", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			ctx := context.Background()
			a, b := memstream.Pipe()
			defer a.Close()
			defer b.Close()
			big := make([]byte, memstream.PipeBufferSize+1)
			first := asyncErr(func() error { return a.Send(ctx, big) })
			synctest.Wait()
			if err := a.Send(ctx, []byte("x")); !errors.Is(err, streams.ErrBusy) {
				t.Errorf("second Send = %v, want ErrBusy", err)
			}
			if err := a.SendEOF(ctx); !errors.Is(err, streams.ErrBusy) {
				t.Errorf("SendEOF during a Send = %v, want ErrBusy", err)
			}
			got := async(func() ([]byte, error) { return receiveAll(ctx, b, 1000) })
			if err := <-first; err != nil {
				t.Errorf("first Send = %v, want nil", err)
			}
			a.SendEOF(ctx)
			if res := <-got; len(res.v) != len(big) || res.err != nil {
				t.Errorf("received %d bytes, %v; want %d, nil", len(res.v), res.err, len(big))
			}
		})
	})
}

// A Send that fits in the buffer returns without waiting for the peer.
func TestPipeSendBuffers(t *testing.T) {
	ctx := context.Background()
	a, b := memstream.Pipe()
	defer a.Close()
	defer b.Close()
	msg := bytes.Repeat([]byte("z"), memstream.PipeBufferSize)
	if err := a.Send(ctx, msg); err != nil {
		t.Fatalf("Send of a full buffer = %v, want nil", err)
	}
	a.SendEOF(ctx)
	got, err := receiveAll(ctx, b, 1<<20)
	if !bytes.Equal(got, msg) || err != nil {
		t.Errorf("received %d bytes, %v; want %d, nil", len(got), err, len(msg))
	}
}

func TestPipeReceiveCancelled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b := memstream.Pipe()
		defer a.Close()
		defer b.Close()
		ctx, cancelCtx := context.WithCancel(context.Background())
		got := async(func() (int, error) { return b.Receive(ctx, make([]byte, 8)) })
		synctest.Wait()
		cancelCtx()
		if res := <-got; !cancel.IsCancelled(res.err) {
			t.Fatalf("cancelled Receive = %d, %v; want a cancellation error", res.v, res.err)
		}
		bg := context.Background()
		a.Send(bg, []byte("kept"))
		if n, err := b.Receive(ctx, make([]byte, 8)); !cancel.IsCancelled(err) {
			t.Errorf("Receive with a done ctx and data ready = %d, %v; want a cancellation error", n, err)
		}
		buf := make([]byte, 8)
		if n, err := b.Receive(bg, buf); string(buf[:n]) != "kept" || err != nil {
			t.Errorf("Receive = %q, %v; want kept, nil: a cancelled Receive consumes nothing", buf[:n], err)
		}
	})
}

// A Send cancelled while it waits has sent a prefix of p: what fit.
func TestPipeSendCancelled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b := memstream.Pipe()
		defer a.Close()
		defer b.Close()
		msg := make([]byte, memstream.PipeBufferSize+100)
		for i := range msg {
			msg[i] = byte(i % 251)
		}
		cause := errors.New("gave up")
		ctx, cancelCtx := context.WithCancelCause(context.Background())
		sent := asyncErr(func() error { return a.Send(ctx, msg) })
		synctest.Wait()
		cancelCtx(cause)
		if err := <-sent; !cancel.IsCancelled(err) || !errors.Is(err, cause) {
			t.Fatalf("cancelled Send = %v, want a cancellation error with its cause", err)
		}
		bg := context.Background()
		if err := a.Send(ctx, []byte("x")); !cancel.IsCancelled(err) {
			t.Errorf("Send with a done ctx = %v, want a cancellation error", err)
		}
		a.SendEOF(bg)
		got, err := receiveAll(bg, b, 4096)
		if err != nil || !bytes.Equal(got, msg[:memstream.PipeBufferSize]) {
			t.Errorf("received %d bytes, %v; want the first %d bytes of p", len(got), err, memstream.PipeBufferSize)
		}
	})
}

func TestPipeDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b := memstream.Pipe()
		defer a.Close()
		defer b.Close()
		err := cancel.FailAfter(context.Background(), time.Second, func(ctx context.Context) error {
			_, err := b.Receive(ctx, make([]byte, 8))
			return err
		})
		if !errors.Is(err, cancel.ErrTimeout) {
			t.Errorf("Receive under FailAfter = %v, want ErrTimeout", err)
		}
	})
}

// Send copies p: changing p afterwards changes nothing received.
func TestPipeDoesNotRetain(t *testing.T) {
	ctx := context.Background()
	a, b := memstream.Pipe()
	defer a.Close()
	defer b.Close()
	p := []byte("original")
	a.Send(ctx, p)
	copy(p, "CHANGED!")
	buf := make([]byte, 16)
	if n, _ := b.Receive(ctx, buf); string(buf[:n]) != "original" {
		t.Errorf("received %q, want original", buf[:n])
	}
}

// Bytes arrive in order and whole, whatever the sizes of the sends and
// receives, with both sides running at once.
func TestPipeTransfer(t *testing.T) {
	tests := []struct {
		name    string
		maxSend int
		recvBuf int
	}{
		{name: "small", maxSend: 100, recvBuf: 7},
		{name: "chunks", maxSend: 40000, recvBuf: 16384},
		{name: "larger than the buffer", maxSend: 3 * memstream.PipeBufferSize, recvBuf: 100000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			rng := rand.New(rand.NewPCG(1, uint64(tt.maxSend)))
			data := make([]byte, 1<<20)
			for i := range data {
				data[i] = byte(rng.Uint32())
			}
			a, b := memstream.Pipe()
			defer b.Close()
			sent := asyncErr(func() error {
				defer a.Close()
				for rest := data; len(rest) > 0; {
					n := min(len(rest), 1+rng.IntN(tt.maxSend))
					if err := a.Send(ctx, rest[:n]); err != nil {
						return err
					}
					rest = rest[n:]
				}
				return nil
			})
			got, err := receiveAll(ctx, b, tt.recvBuf)
			if err := <-sent; err != nil {
				t.Fatalf("Send = %v", err)
			}
			if err != nil || !bytes.Equal(got, data) {
				t.Errorf("received %d bytes (equal: %v), %v; want the %d bytes sent", len(got), bytes.Equal(got, data), err, len(data))
			}
		})
	}
}

// Bytes copied into a waiting Receive are its, even if its ctx is done
// before it wakes up.
func TestPipeCancelAfterDelivery(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b := memstream.Pipe()
		defer a.Close()
		defer b.Close()
		ctx, cancelCtx := context.WithCancel(context.Background())
		buf := make([]byte, 8)
		got := async(func() (int, error) { return b.Receive(ctx, buf) })
		synctest.Wait()
		if err := a.Send(context.Background(), []byte("mine")); err != nil {
			t.Fatalf("Send = %v", err)
		}
		cancelCtx()
		if res := <-got; string(buf[:res.v]) != "mine" || res.err != nil {
			t.Errorf("Receive = %q, %v; want mine, nil", buf[:res.v], res.err)
		}
	})
}

// Closing an end while its Send waits: the peer gets what was in the
// buffer, then the end of the stream, and nothing of the rest of p.
func TestPipeCloseDuringSend(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		a, b := memstream.Pipe()
		defer b.Close()
		msg := bytes.Repeat([]byte("y"), memstream.PipeBufferSize+100)
		sent := asyncErr(func() error { return a.Send(ctx, msg) })
		synctest.Wait()
		a.Close()
		if err := <-sent; !errors.Is(err, streams.ErrClosed) {
			t.Errorf("Send = %v, want ErrClosed", err)
		}
		got, err := receiveAll(ctx, b, 1000)
		if len(got) != memstream.PipeBufferSize || err != nil {
			t.Errorf("peer received %d bytes, %v; want %d, nil", len(got), err, memstream.PipeBufferSize)
		}
	})
}

// Receives cancelled at random while data flows lose nothing and
// duplicate nothing.
func TestPipeTransferCancelledReceives(t *testing.T) {
	bg := context.Background()
	rng := rand.New(rand.NewPCG(7, 7))
	data := make([]byte, 1<<20)
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	a, b := memstream.Pipe()
	defer b.Close()
	sent := asyncErr(func() error {
		defer a.Close()
		for rest := data; len(rest) > 0; {
			n := min(len(rest), 1+rng.IntN(50000))
			if err := a.Send(bg, rest[:n]); err != nil {
				return err
			}
			rest = rest[n:]
		}
		return nil
	})
	var cancellers sync.WaitGroup
	defer cancellers.Wait()
	rrng := rand.New(rand.NewPCG(8, 8))
	var got []byte
	buf := make([]byte, 30000)
	for {
		ctx, cancelCtx := randomCtx(rrng, &cancellers)
		n, err := b.Receive(ctx, buf)
		cancelCtx()
		if cancel.IsCancelled(err) {
			if n != 0 {
				t.Fatalf("cancelled Receive returned %d bytes", n)
			}
			continue
		}
		got = append(got, buf[:n]...)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("Receive = %v", err)
		}
	}
	if err := <-sent; err != nil {
		t.Fatalf("Send = %v", err)
	}
	if !bytes.Equal(got, data) {
		t.Errorf("received %d bytes, not the %d bytes sent in order", len(got), len(data))
	}
}
