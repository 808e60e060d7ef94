package memstream_test

import (
	"context"
	"fmt"
	"io"

	"github.com/tether-go/tether/memstream"
)

func ExampleNew() {
	ctx := context.Background()
	send, recv := memstream.New[string](4)

	// A producer sends, then closes its end: the stream ends once the
	// consumer has received everything buffered.
	for _, job := range []string{"wash", "dry", "fold"} {
		if err := send.Send(ctx, job); err != nil {
			fmt.Println("send:", err)
		}
	}
	send.Close()

	for job := range recv.All(ctx) {
		fmt.Println("job:", job)
	}
	_, err := recv.Receive(ctx)
	fmt.Println("then:", err)
	recv.Close()
	// Output:
	// job: wash
	// job: dry
	// job: fold
	// then: EOF
}

func ExamplePipe() {
	ctx := context.Background()
	client, server := memstream.Pipe()
	defer client.Close()
	defer server.Close()

	// The pipe buffers, so one goroutine can play both sides.
	client.Send(ctx, []byte("GET /"))
	client.SendEOF(ctx) // the request is complete; the reply can still come

	buf := make([]byte, 64)
	n, _ := server.Receive(ctx, buf)
	fmt.Printf("server got %q\n", buf[:n])
	_, err := server.Receive(ctx, buf)
	fmt.Println("then:", err == io.EOF)

	server.Send(ctx, []byte("200 OK"))
	n, _ = client.Receive(ctx, buf)
	fmt.Printf("client got %q\n", buf[:n])
	// Output:
	// server got "GET /"
	// then: true
	// client got "200 OK"
}

func ExampleListen() {
	ctx := context.Background()
	l := memstream.Listen()
	defer l.Close()

	// A server that echoes what one connection sends.
	served := make(chan error, 1)
	go func() {
		conn, err := l.Accept(ctx)
		if err != nil {
			served <- err
			return
		}
		defer conn.Close()
		buf := make([]byte, 64)
		n, err := conn.Receive(ctx, buf)
		if err == nil {
			err = conn.Send(ctx, buf[:n])
		}
		served <- err
	}()

	conn, err := l.Dial(ctx)
	if err != nil {
		fmt.Println("dial:", err)
		return
	}
	defer conn.Close()
	conn.Send(ctx, []byte("echo?"))
	buf := make([]byte, 64)
	n, _ := conn.Receive(ctx, buf)
	fmt.Printf("%s %v\n", buf[:n], <-served)
	// Output:
	// echo? <nil>
}
