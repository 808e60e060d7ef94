package streams_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"time"

	"github.com/tether-go/tether/cancel"
	"github.com/tether-go/tether/streams"
)

// A line protocol over a net.Conn: Buffered cuts the lines, with a strict
// maximum, and FromConn makes every call cancellable.
func ExampleNewBuffered() {
	client, server := net.Pipe()
	go func() {
		client.Write([]byte("HELO example.com\r\nNOOP\r\nQUIT\r\n"))
		client.Close()
	}()

	ctx := context.Background()
	conn := streams.FromConn(server)
	defer conn.Close()
	in := streams.NewBuffered(conn)
	for {
		line, err := in.ReceiveUntil(ctx, []byte("\r\n"), 512)
		if err != nil {
			fmt.Println("error:", err)
			return
		}
		fmt.Printf("%q\n", line)
		if string(line) == "QUIT" {
			return
		}
	}
	// Output:
	// "HELO example.com"
	// "NOOP"
	// "QUIT"
}

// A Receive blocked on a net.Conn returns when its context is done, and
// the stream stays usable.
func ExampleFromConn() {
	a, b := net.Pipe()
	conn := streams.FromConn(a)
	defer conn.Close()
	defer b.Close()

	timedOut, err := cancel.MoveOnAfter(context.Background(), 10*time.Millisecond, func(ctx context.Context) error {
		_, err := conn.Receive(ctx, make([]byte, 16))
		return err // a cancellation error, which MoveOnAfter catches
	})
	fmt.Println("timed out:", timedOut, "error:", err)

	go b.Write([]byte("late"))
	buf := make([]byte, 16)
	n, err := conn.Receive(context.Background(), buf)
	fmt.Printf("then: %q %v\n", buf[:n], err)
	// Output:
	// timed out: true error: <nil>
	// then: "late" <nil>
}

// Text sends and receives strings; a character split between two
// receives comes out whole.
func ExampleNewText() {
	a, b := net.Pipe()
	go func() {
		b.Write([]byte("gr\xc3")) // the first half of "ü"
		b.Write([]byte("\xbc\xc3\x9fe"))
		b.Close()
	}()

	ctx := context.Background()
	text := streams.NewText(streams.FromConn(a))
	defer text.Close()
	for {
		s, err := text.Receive(ctx)
		if err != nil {
			fmt.Println("end:", err == io.EOF)
			return
		}
		fmt.Printf("%q\n", s)
	}
	// Output:
	// "gr"
	// "üße"
	// end: true
}

// Staple makes one stream of two one-way ones.
func ExampleStaple() {
	up, upPeer := net.Pipe()     // we send on up
	down, downPeer := net.Pipe() // we receive on down
	go func() {
		buf := make([]byte, 16)
		n, _ := upPeer.Read(buf)
		downPeer.Write([]byte("echo: " + string(buf[:n])))
		upPeer.Close()
		downPeer.Close()
	}()

	ctx := context.Background()
	s := streams.Staple(streams.FromConn(up), streams.FromConn(down))
	defer s.Close()
	s.Send(ctx, []byte("hi"))
	buf := make([]byte, 16)
	n, _ := s.Receive(ctx, buf)
	fmt.Println(string(buf[:n]))
	// Output: echo: hi
}

// AsConn hands any stream to code that wants a net.Conn; its deadlines
// cancel the stream's calls.
func ExampleAsConn() {
	a, b := net.Pipe()
	defer b.Close()
	conn := streams.AsConn(streams.FromConn(a))
	defer conn.Close()

	go b.Write([]byte("a line\n"))
	line, err := bufio.NewReader(conn).ReadString('\n')
	fmt.Printf("%q %v\n", line, err)

	conn.SetReadDeadline(time.Now().Add(10 * time.Millisecond))
	_, err = conn.Read(make([]byte, 1))
	fmt.Println("timeout:", errors.Is(err, os.ErrDeadlineExceeded))
	// Output:
	// "a line\n" <nil>
	// timeout: true
}

// Reader and Writer let io.Copy and friends use streams.
func ExampleReader() {
	a, b := net.Pipe()
	ctx := context.Background()
	go func() {
		io.WriteString(streams.Writer(ctx, streams.FromConn(b)), "copied through io.Copy\n")
		b.Close()
	}()
	conn := streams.FromConn(a)
	defer conn.Close()
	io.Copy(os.Stdout, streams.Reader(ctx, conn))
	// Output: copied through io.Copy
}

// Extra finds an attribute through the wrappers: the net.Conn that AsConn
// makes of a stapled, buffered connection still knows the connection's
// addresses.
func ExampleExtra() {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer l.Close()
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		fmt.Println(err)
		return
	}
	conn := streams.FromConn(c)
	defer conn.Close()

	wrapped := streams.AsConn(streams.Staple(conn, streams.NewBuffered(conn)))
	remote, ok := streams.Extra(wrapped, streams.RemoteAddr)
	fmt.Println(ok, remote.String() == l.Addr().String())
	fmt.Println(wrapped.RemoteAddr().String() == l.Addr().String())
	// Output:
	// true true
	// true
}
