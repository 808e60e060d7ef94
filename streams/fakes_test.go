package streams_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"sync"

	"github.com/tether-go/tether/cancel"
	"github.com/tether-go/tether/streams"
)

// chunked is a ByteReceiver that returns its chunks in order, each cut to
// the caller's buffer, then the end of the stream. It never blocks.
type chunked struct {
	chunks [][]byte
	calls  int
	closed bool
}

func newChunked(chunks ...string) *chunked {
	c := &chunked{}
	for _, s := range chunks {
		c.chunks = append(c.chunks, []byte(s))
	}
	return c
}

func (c *chunked) Receive(ctx context.Context, p []byte) (int, error) {
	if len(p) == 0 {
		return 0, errors.New("chunked: empty buffer")
	}
	if c.closed {
		return 0, streams.ErrClosed
	}
	if err := cancel.Checkpoint(ctx); err != nil {
		return 0, err
	}
	c.calls++
	for len(c.chunks) > 0 && len(c.chunks[0]) == 0 {
		c.chunks = c.chunks[1:]
	}
	if len(c.chunks) == 0 {
		return 0, io.EOF
	}
	n := copy(p, c.chunks[0])
	c.chunks[0] = c.chunks[0][n:]
	return n, nil
}

func (c *chunked) Close() error {
	c.closed = true
	return nil
}

// chunkify cuts b into pieces whose sizes are taken from sizes in turn
// (a size of 0 counts as 1; no sizes means one piece).
func chunkify(b []byte, sizes []byte) [][]byte {
	if len(sizes) == 0 {
		return [][]byte{bytes.Clone(b)}
	}
	var out [][]byte
	for i := 0; len(b) > 0; i++ {
		n := min(max(int(sizes[i%len(sizes)]), 1), len(b))
		out = append(out, bytes.Clone(b[:n]))
		b = b[n:]
	}
	return out
}

// fakeStream is a ByteStream whose Receive waits for chunks on a channel
// (closed: end of stream) and whose Send records what it is given. Create
// it inside the synctest bubble that uses it.
type fakeStream struct {
	in      chan []byte
	pending []byte
	done    chan struct{}
	once    sync.Once
	name    string
	log     *[]string // where Close records its name
	attrs   map[any]any

	mu      sync.Mutex
	sent    bytes.Buffer
	eofSent bool
}

func newFakeStream(name string, log *[]string) *fakeStream {
	return &fakeStream{in: make(chan []byte, 16), done: make(chan struct{}), name: name, log: log}
}

func (f *fakeStream) Receive(ctx context.Context, p []byte) (int, error) {
	if len(p) == 0 {
		return 0, errors.New("fakeStream: empty buffer")
	}
	if err := cancel.Checkpoint(ctx); err != nil {
		return 0, err
	}
	if len(f.pending) == 0 {
		select {
		case b, ok := <-f.in:
			if !ok {
				return 0, io.EOF
			}
			f.pending = b
		case <-ctx.Done():
			return 0, cancel.Checkpoint(ctx)
		case <-f.done:
			return 0, streams.ErrClosed
		}
	}
	n := copy(p, f.pending)
	f.pending = f.pending[n:]
	return n, nil
}

func (f *fakeStream) Send(ctx context.Context, p []byte) error {
	if err := cancel.Checkpoint(ctx); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	select {
	case <-f.done:
		return streams.ErrClosed
	default:
	}
	if f.eofSent {
		return streams.ErrClosed
	}
	f.sent.Write(p)
	return nil
}

func (f *fakeStream) SendEOF(ctx context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.eofSent = true
	return nil
}

func (f *fakeStream) Close() error {
	f.once.Do(func() {
		close(f.done)
		if f.log != nil {
			*f.log = append(*f.log, f.name)
		}
	})
	return nil
}

func (f *fakeStream) Attribute(key any) (any, bool) {
	v, ok := f.attrs[key]
	return v, ok
}

func (f *fakeStream) Sent() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.sent.String()
}

// objects is an ObjectReceiver and ObjectSender of strings: Receive
// returns its items, then the end of the stream; Send records.
type objects struct {
	items  []string
	sent   []string
	closed bool
	name   string
	log    *[]string
	err    error // returned by Close
}

func (o *objects) Receive(ctx context.Context) (string, error) {
	if o.closed {
		return "", streams.ErrClosed
	}
	if len(o.items) == 0 {
		return "", io.EOF
	}
	v := o.items[0]
	o.items = o.items[1:]
	return v, nil
}

func (o *objects) Send(ctx context.Context, v string) error {
	if o.closed {
		return streams.ErrClosed
	}
	o.sent = append(o.sent, v)
	return nil
}

func (o *objects) Close() error {
	o.closed = true
	if o.log != nil {
		*o.log = append(*o.log, o.name)
	}
	return o.err
}
