package streams

import (
	"context"
	"io"
)

// Reader returns r as an io.Reader whose Read calls r.Receive(ctx, p), for
// code written for io.Reader (io.Copy, bufio, encoding/json). The end of
// the stream is io.EOF, since [ErrEndOfStream] is io.EOF. Once ctx is done
// every Read returns the cancellation error; the stream itself stays
// usable. A Read with an empty p returns 0, nil. The reader is as safe for
// concurrent use as r: concurrent Reads may return [ErrBusy]. It costs
// nothing more than the Receive call. It has an Unwrap method that returns
// r, so that [Extra] answers r's attributes.
func Reader(ctx context.Context, r ByteReceiver) io.Reader {
	if r == nil {
		panic("streams: Reader with a nil receiver")
	}
	return &reader{ctx: ctx, r: r}
}

type reader struct {
	ctx context.Context
	r   ByteReceiver
}

// Unwrap returns the receiver that r reads from.
func (r *reader) Unwrap() ByteReceiver { return r.r }

func (r *reader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	return r.r.Receive(r.ctx, p)
}

// Writer returns w as an io.Writer whose Write calls w.Send(ctx, p). A
// Write that fails returns 0 and the error, though part of p may have been
// sent (see the sender's documentation); once ctx is done every Write
// returns the cancellation error. The writer is as safe for concurrent use
// as w. It costs nothing more than the Send call. It has an Unwrap method
// that returns w, so that [Extra] answers w's attributes.
func Writer(ctx context.Context, w ByteSender) io.Writer {
	if w == nil {
		panic("streams: Writer with a nil sender")
	}
	return &writer{ctx: ctx, w: w}
}

type writer struct {
	ctx context.Context
	w   ByteSender
}

// Unwrap returns the sender that w writes to.
func (w *writer) Unwrap() ByteSender { return w.w }

func (w *writer) Write(p []byte) (int, error) {
	if err := w.w.Send(w.ctx, p); err != nil {
		return 0, err
	}
	return len(p), nil
}
