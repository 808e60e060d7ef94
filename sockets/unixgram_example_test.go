package sockets_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/tether-go/tether/sockets"
)

// A UNIX datagram server and a client bound to a path of its own, so that
// the server can answer it.
func ExampleConnectUnixDatagram() {
	dir, err := os.MkdirTemp("", "example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()

	server, err := sockets.ListenUnixDatagram(filepath.Join(dir, "server.sock"))
	if err != nil {
		panic(err)
	}
	defer server.Close()
	client, err := sockets.ConnectUnixDatagram(ctx, filepath.Join(dir, "server.sock"),
		sockets.LocalPath(filepath.Join(dir, "client.sock")))
	if err != nil {
		panic(err)
	}
	defer client.Close()

	if err := client.Send(ctx, []byte("ping")); err != nil {
		panic(err)
	}
	buf := make([]byte, 64)
	n, from, err := server.ReceiveFrom(ctx, buf)
	if err != nil {
		panic(err)
	}
	fmt.Printf("server got %q from %s\n", buf[:n], filepath.Base(from))
	if err := server.SendTo(ctx, []byte("pong"), from); err != nil {
		panic(err)
	}
	n, err = client.Receive(ctx, buf)
	if err != nil {
		panic(err)
	}
	fmt.Printf("client got %q\n", buf[:n])
	// Output:
	// server got "ping" from client.sock
	// client got "pong"
}
