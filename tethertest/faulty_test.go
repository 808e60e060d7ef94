package tethertest_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tether-go/tether/memstream"
	"github.com/tether-go/tether/streams"
	"github.com/tether-go/tether/taskgroup"
	"github.com/tether-go/tether/tethertest"
)

// errName names the errors that a handler meets, for the tables below.
func errName(err error) string {
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, streams.ErrEndOfStream):
		return "EOF"
	case errors.Is(err, streams.ErrBroken):
		return "broken"
	case errors.Is(err, streams.ErrClosed):
		return "closed"
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.Is(err, context.Canceled):
		return "cancelled"
	}
	return "error: " + err.Error()
}

// journal records what happens, at which time of a synctest bubble's
// clock (from the bubble's start).
type journal struct {
	start  time.Time
	mu     sync.Mutex
	events []string
}

func newJournal() *journal { return &journal{start: time.Now()} }

func (j *journal) add(format string, args ...any) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.events = append(j.events, fmt.Sprintf("%v ", time.Since(j.start))+fmt.Sprintf(format, args...))
}

// TestFaultsAsAHandlerSeesThem serves one connection of a FaultyAccepts
// listener with a handler that receives until the stream ends, while a
// client sends a line, ends its side and waits for the server to end
// its; each fault shows in what the handler receives, and when (on the
// bubble's clock: an hour of latency takes no time).
func TestFaultsAsAHandlerSeesThem(t *testing.T) {
	const line = "hello, world\n"
	tests := []struct {
		name   string
		faults []tethertest.Fault
		want   []string
	}{
		{
			name:   "no fault",
			faults: nil,
			want:   []string{`0s handler "hello, world\n"`, "0s handler EOF", "0s client EOF"},
		},
		{
			name:   "Chunked",
			faults: []tethertest.Fault{tethertest.Chunked(5)},
			want: []string{`0s handler "hello"`, `0s handler ", wor"`, `0s handler "ld\n"`,
				"0s handler EOF", "0s client EOF"},
		},
		{
			name:   "Latency",
			faults: []tethertest.Fault{tethertest.Latency(time.Hour)},
			want:   []string{`1h0m0s handler "hello, world\n"`, "2h0m0s handler EOF", "2h0m0s client EOF"},
		},
		{
			name:   "Bandwidth",
			faults: []tethertest.Fault{tethertest.Bandwidth(400)}, // 4 bytes every 10 ms
			want: []string{`0s handler "hell"`, `10ms handler "o, w"`, `20ms handler "orld"`,
				`30ms handler "\n"`, "32.5ms handler EOF", "32.5ms client EOF"},
		},
		{
			name:   "ResetAfter",
			faults: []tethertest.Fault{tethertest.ResetAfter(5)},
			want:   []string{`0s handler "hello"`, "0s handler broken", "0s client EOF"},
		},
		{
			name:   "EOFAfter",
			faults: []tethertest.Fault{tethertest.EOFAfter(5)},
			want:   []string{`0s handler "hello"`, "0s handler EOF", "0s client EOF"},
		},
		{
			name:   "StallAfter",
			faults: []tethertest.Fault{tethertest.StallAfter(5)},
			want:   []string{`0s handler "hello"`, "24h0m0s handler timeout", "24h0m0s client EOF"},
		},
		{
			name:   "SlowClose",
			faults: []tethertest.Fault{tethertest.SlowClose(time.Minute)},
			want:   []string{`0s handler "hello, world\n"`, "0s handler EOF", "1m0s client EOF"},
		},
		{
			name:   "the earliest cut applies",
			faults: []tethertest.Fault{tethertest.ResetAfter(9), tethertest.EOFAfter(3), tethertest.StallAfter(6)},
			want:   []string{`0s handler "hel"`, "0s handler EOF", "0s client EOF"},
		},
		{
			name:   "Chunked and Latency and EOFAfter",
			faults: []tethertest.Fault{tethertest.Chunked(4), tethertest.Latency(time.Second), tethertest.EOFAfter(6)},
			want:   []string{`1s handler "hell"`, `1s handler "o,"`, "1s handler EOF", "1s client EOF"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				j := newJournal()
				ml := memstream.Listen()
				l := tethertest.FaultyAccepts(ml, tt.faults...)
				defer l.Close()
				handler := func(ctx context.Context, c streams.ByteStream) error {
					// A handler that gives up on a silent client after a day.
					ctx, cancel := context.WithTimeout(ctx, 24*time.Hour)
					defer cancel()
					buf := make([]byte, 64)
					for {
						n, err := c.Receive(ctx, buf)
						if err != nil {
							j.add("handler %s", errName(err))
							return nil
						}
						j.add("handler %q", buf[:n])
					}
				}
				err := taskgroup.Run(t.Context(), func(ctx context.Context, g *taskgroup.Group) error {
					// The client records its end only after the handler's,
					// since a fault that breaks the connection may reach the
					// client before the handler's Receive returns.
					handlerDone := make(chan struct{})
					g.Go(func(ctx context.Context) error {
						defer close(handlerDone)
						c, err := l.Accept(ctx)
						if err != nil {
							return err
						}
						defer c.Close()
						return handler(ctx, c)
					})
					c, err := ml.Dial(ctx)
					if err != nil {
						return err
					}
					defer c.Close()
					if err := c.Send(ctx, []byte(line)); err != nil {
						return err
					}
					// The handler may be gone already (EOFAfter, ResetAfter),
					// and then SendEOF fails, as it would on a socket.
					_ = c.SendEOF(ctx)
					_, err = c.Receive(ctx, make([]byte, 1))
					<-handlerDone
					j.add("client %s", errName(err))
					return nil
				})
				if err != nil {
					t.Fatalf("Run: %v", err)
				}
				if !slices.Equal(j.events, tt.want) {
					t.Errorf("got events\n\t%q\nwant\n\t%q", j.events, tt.want)
				}
			})
		})
	}
}
