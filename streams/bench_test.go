package streams_test

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"testing"

	"github.com/tether-go/tether/streams"
)

// endless receives (and reads) the same lines over and over, at no cost
// but the copy.
type endless struct {
	data []byte
	off  int
}

func newEndless() *endless {
	line := append(bytes.Repeat([]byte("x"), 63), '\n')
	return &endless{data: bytes.Repeat(line, 1024)}
}

func (e *endless) Read(p []byte) (int, error) {
	n := copy(p, e.data[e.off:])
	e.off = (e.off + n) % len(e.data)
	return n, nil
}

func (e *endless) Receive(ctx context.Context, p []byte) (int, error) { return e.Read(p) }

// BenchmarkReceiveUntil reads 64-byte lines: Buffered.ReceiveUntil against
// bufio.Reader.ReadSlice plus the copy that ReceiveUntil makes.
func BenchmarkReceiveUntil(b *testing.B) {
	ctx, cancelFn := context.WithCancel(context.Background())
	defer cancelFn()
	b.Run("impl=tether", func(b *testing.B) {
		r := streams.NewBuffered(newEndless())
		delim := []byte("\n")
		b.ReportAllocs()
		b.SetBytes(64)
		for b.Loop() {
			line, err := r.ReceiveUntil(ctx, delim, 1024)
			if err != nil || len(line) != 63 {
				b.Fatalf("ReceiveUntil = %d bytes, %v", len(line), err)
			}
		}
	})
	b.Run("impl=bufio", func(b *testing.B) {
		r := bufio.NewReaderSize(newEndless(), 4096)
		b.ReportAllocs()
		b.SetBytes(64)
		for b.Loop() {
			line, err := r.ReadSlice('\n')
			out := bytes.Clone(line[:len(line)-1])
			if err != nil || len(out) != 63 {
				b.Fatalf("ReadSlice = %d bytes, %v", len(out), err)
			}
		}
	})
}

// BenchmarkConnRoundTrip sends 64 bytes over a net.Pipe and waits for the
// echo: FromConn streams with a cancellable context against the plain
// net.Conn.
func BenchmarkConnRoundTrip(b *testing.B) {
	const size = 64
	ctx, cancelFn := context.WithCancel(context.Background())
	defer cancelFn()
	b.Run("impl=tether", func(b *testing.B) {
		x, y := net.Pipe()
		client, server := streams.FromConn(x), streams.FromConn(y)
		defer client.Close()
		done := make(chan struct{})
		go func() {
			defer close(done)
			buf := make([]byte, size)
			for {
				n, err := server.Receive(ctx, buf)
				if err != nil || server.Send(ctx, buf[:n]) != nil {
					return
				}
			}
		}()
		msg, buf := make([]byte, size), make([]byte, size)
		r := streams.Reader(ctx, client)
		b.ReportAllocs()
		for b.Loop() {
			if err := client.Send(ctx, msg); err != nil {
				b.Fatal(err)
			}
			if _, err := io.ReadFull(r, buf); err != nil {
				b.Fatal(err)
			}
		}
		server.Close()
		<-done
	})
	b.Run("impl=netconn", func(b *testing.B) {
		client, server := net.Pipe()
		defer client.Close()
		done := make(chan struct{})
		go func() {
			defer close(done)
			buf := make([]byte, size)
			for {
				n, err := server.Read(buf)
				if err != nil {
					return
				}
				if _, err := server.Write(buf[:n]); err != nil {
					return
				}
			}
		}()
		msg, buf := make([]byte, size), make([]byte, size)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := client.Write(msg); err != nil {
				b.Fatal(err)
			}
			if _, err := io.ReadFull(client, buf); err != nil {
				b.Fatal(err)
			}
		}
		server.Close()
		<-done
	})
}
