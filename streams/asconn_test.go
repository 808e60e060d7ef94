package streams_test

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"testing/synctest"
	"time"

	"golang.org/x/net/nettest"

	"github.com/tether-go/tether/streams"
)

// connPipe is AsConn over both ends of a net.Pipe.
func connPipe() (c1, c2 net.Conn, stop func(), err error) {
	a, b := net.Pipe()
	c1, c2 = streams.AsConn(streams.FromConn(a)), streams.AsConn(streams.FromConn(b))
	return c1, c2, func() { c1.Close(); c2.Close() }, nil
}

// staplePipe is AsConn over two stapled streams, each made of the sending
// end of one net.Pipe and the buffered receiving end of another.
func staplePipe() (c1, c2 net.Conn, stop func(), err error) {
	x1, y1 := net.Pipe() // 1 to 2
	x2, y2 := net.Pipe() // 2 to 1
	s1 := streams.Staple(streams.FromConn(x1), streams.NewBuffered(streams.FromConn(x2)))
	s2 := streams.Staple(streams.FromConn(y2), streams.NewBuffered(streams.FromConn(y1)))
	c1, c2 = streams.AsConn(s1), streams.AsConn(s2)
	return c1, c2, func() { c1.Close(); c2.Close() }, nil
}

func TestAsConnNettest(t *testing.T) {
	tests := []struct {
		name string
		mp   nettest.MakePipe
	}{
		{"FromConn", connPipe},
		{"Staple", staplePipe},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { nettest.TestConn(t, tt.mp) })
	}
}

// checkTimeout checks that err is what a passed deadline gives.
func checkTimeout(t *testing.T, what string, err error) {
	t.Helper()
	var ne net.Error
	if !errors.Is(err, os.ErrDeadlineExceeded) || !errors.As(err, &ne) || !ne.Timeout() {
		t.Errorf("%s = %v, want a timeout (os.ErrDeadlineExceeded, net.Error with Timeout)", what, err)
	}
}

func TestAsConnReadDeadline(t *testing.T) {
	tests := []struct {
		name string
		// moves runs while a Read is blocked (after 100ms), and returns
		// when the Read should fail.
		move func(c net.Conn, start time.Time) time.Time
	}{
		{"fixed", func(c net.Conn, start time.Time) time.Time { return start.Add(time.Second) }},
		{"extended", func(c net.Conn, start time.Time) time.Time {
			c.SetReadDeadline(start.Add(3 * time.Second))
			return start.Add(3 * time.Second)
		}},
		{"shortened", func(c net.Conn, start time.Time) time.Time {
			c.SetReadDeadline(start.Add(200 * time.Millisecond))
			return start.Add(200 * time.Millisecond)
		}},
		{"moved into the past", func(c net.Conn, start time.Time) time.Time {
			c.SetDeadline(start)
			return start.Add(100 * time.Millisecond)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c1, c2, stop, _ := connPipe()
				defer stop()
				start := time.Now()
				c1.SetReadDeadline(start.Add(time.Second))
				type result struct {
					err error
					at  time.Time
				}
				done := make(chan result, 1)
				go func() {
					_, err := c1.Read(make([]byte, 8))
					done <- result{err, time.Now()}
				}()
				time.Sleep(100 * time.Millisecond)
				want := tt.move(c1, start)
				r := <-done
				checkTimeout(t, "Read", r.err)
				if !r.at.Equal(want) {
					t.Errorf("Read failed after %v, want %v", r.at.Sub(start), want.Sub(start))
				}
				// The timeout spoilt nothing: with the deadline lifted,
				// data flows again.
				c1.SetDeadline(time.Time{})
				go c2.Write([]byte("after"))
				buf := make([]byte, 8)
				if n, err := c1.Read(buf); err != nil || string(buf[:n]) != "after" {
					t.Errorf("Read after the timeout = %q, %v; want %q, nil", buf[:n], err, "after")
				}
			})
		})
	}
}

func TestAsConnDeadlineCleared(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c1, c2, stop, _ := connPipe()
		defer stop()
		c1.SetReadDeadline(time.Now().Add(time.Second))
		done := make(chan error, 1)
		buf := make([]byte, 8)
		go func() {
			_, err := io.ReadFull(c1, buf[:4])
			done <- err
		}()
		time.Sleep(500 * time.Millisecond)
		c1.SetReadDeadline(time.Time{})
		time.Sleep(time.Hour)
		select {
		case err := <-done:
			t.Fatalf("Read returned %v after its deadline was cleared, want it still blocked", err)
		default:
		}
		c2.Write([]byte("late"))
		if err := <-done; err != nil || string(buf[:4]) != "late" {
			t.Errorf("Read = %q, %v; want %q, nil", buf[:4], err, "late")
		}
	})
}

func TestAsConnWriteDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c1, _, stop, _ := connPipe()
		defer stop()
		start := time.Now()
		c1.SetWriteDeadline(start.Add(time.Second))
		n, err := c1.Write([]byte("nobody reads this"))
		checkTimeout(t, "Write", err)
		if n != 0 || time.Since(start) != time.Second {
			t.Errorf("Write = %d after %v, want 0 after 1s", n, time.Since(start))
		}
		if n, err := c1.Write([]byte("x")); n != 0 {
			t.Errorf("Write past the deadline = %d, %v; want 0 and a timeout", n, err)
		}
	})
}

func TestAsConnEndAndClose(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c1, c2, stop, _ := connPipe()
		defer stop()
		done := make(chan error, 1)
		go func() {
			_, err := c1.Read(make([]byte, 8))
			done <- err
		}()
		synctest.Wait()
		c2.Close()
		if err := <-done; err != io.EOF {
			t.Errorf("Read after the peer closed = %v, want io.EOF itself", err)
		}
		if _, err := c1.Write([]byte("x")); !errors.Is(err, streams.ErrBroken) {
			t.Errorf("Write after the peer closed = %v, want ErrBroken", err)
		}

		c1, _, stop, _ = connPipe()
		defer stop()
		go func() {
			_, err := c1.Write([]byte("blocked"))
			done <- err
		}()
		synctest.Wait()
		if err := c1.Close(); err != nil {
			t.Fatalf("Close = %v, want nil", err)
		}
		if err := <-done; !errors.Is(err, net.ErrClosed) {
			t.Errorf("blocked Write after Close = %v, want net.ErrClosed", err)
		}
		if _, err := c1.Read(make([]byte, 1)); !errors.Is(err, net.ErrClosed) {
			t.Errorf("Read after Close = %v, want net.ErrClosed", err)
		}
		if err := c1.SetDeadline(time.Now()); !errors.Is(err, net.ErrClosed) {
			t.Errorf("SetDeadline after Close = %v, want net.ErrClosed", err)
		}
		if err := c1.Close(); !errors.Is(err, net.ErrClosed) {
			t.Errorf("second Close = %v, want net.ErrClosed", err)
		}
	})
}

func TestAsConnAddrAndCloseWrite(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeStream("f", nil)
		c := streams.AsConn(f)
		defer c.Close()
		if a := c.LocalAddr(); a.Network() != "stream" || a.String() != "stream" {
			t.Errorf("LocalAddr = %v/%v, want the placeholder stream/stream", a.Network(), a)
		}
		if a := c.RemoteAddr(); a.String() != "stream" {
			t.Errorf("RemoteAddr = %v, want the placeholder", a)
		}
		cw, ok := c.(interface{ CloseWrite() error })
		if !ok {
			t.Fatalf("AsConn result has no CloseWrite")
		}
		if err := cw.CloseWrite(); err != nil {
			t.Fatalf("CloseWrite = %v, want nil", err)
		}
		if _, err := c.Write([]byte("x")); !errors.Is(err, streams.ErrClosed) {
			t.Errorf("Write after CloseWrite = %v, want ErrClosed", err)
		}

		c1, _, stop, _ := connPipe()
		defer stop()
		if a := c1.LocalAddr(); a.Network() != "pipe" {
			t.Errorf("LocalAddr over FromConn(net.Pipe) = %v/%v, want the pipe's", a.Network(), a)
		}
	})
}

func TestAsConnNilPanics(t *testing.T) {
	wantPanic(t, func() { streams.AsConn(nil) })
}

func TestReaderWriter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b := pipe(t)
		ctx := t.Context()
		done := make(chan error, 1)
		go func() {
			_, err := io.WriteString(streams.Writer(ctx, a), "through io.Copy")
			a.Close()
			done <- err
		}()
		got, err := io.ReadAll(streams.Reader(ctx, b))
		if err != nil || string(got) != "through io.Copy" {
			t.Errorf("ReadAll = %q, %v; want %q, nil", got, err, "through io.Copy")
		}
		if err := <-done; err != nil {
			t.Errorf("WriteString = %v, want nil", err)
		}
		if n, err := streams.Reader(ctx, b).Read(nil); n != 0 || err != nil {
			t.Errorf("Read(empty) = %d, %v; want 0, nil", n, err)
		}

		c, d := pipe(t)
		cctx, cancelFn := context.WithCancel(ctx)
		go func() {
			_, err := streams.Writer(cctx, c).Write([]byte("nobody reads"))
			done <- err
		}()
		synctest.Wait()
		cancelFn()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled Write = %v, want context.Canceled", err)
		}
		if _, err := streams.Reader(cctx, d).Read(make([]byte, 1)); !errors.Is(err, context.Canceled) {
			t.Errorf("Read with a done context = %v, want context.Canceled", err)
		}
	})
}
