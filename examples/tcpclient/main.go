// Command tcpclient is the seed's TCP client: it connects, sends
// "Client\n", and prints the server's response.
//
//	go run ./examples/tcpclient                  # to localhost:1234
//	go run ./examples/tcpclient -host ::1 -port 4000
//
// Run the Go server, or the seed's own Python server (AnyIO,
// python3-anyio), first, in another terminal at the module's root:
//
//	go run ./examples/tcpserver
//	/usr/bin/python3 testdata/tcp_server.py 1234
//
// It prints "Hello, Client\n\n" (quoted, as Python prints the bytes
// b'Hello, Client\n\n'). "localhost" has two addresses, ::1 and 127.0.0.1:
// ConnectTCP tries them by Happy Eyeballs, and the one that answers wins.
//
// The AnyIO original: connect_tcp('hostname', 1234), client.send,
// client.receive.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/tether-go/tether"
	"github.com/tether-go/tether/sockets"
	"github.com/tether-go/tether/streams"
	"github.com/tether-go/tether/taskgroup"
)

func main() {
	tether.Main(func(ctx context.Context, _ *taskgroup.Group) error {
		return run(ctx, os.Args[1:], os.Stdout)
	})
}

// run connects, sends "Client\n", and prints what the server sends until
// it ends the stream.
func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("tcpclient", flag.ContinueOnError)
	host := fs.String("host", "localhost", "host to connect to")
	port := fs.Int("port", 1234, "port to connect to")
	switch err := fs.Parse(args); {
	case errors.Is(err, flag.ErrHelp):
		return nil // -h: fs printed the usage
	case err != nil:
		return err
	}
	client, err := sockets.ConnectTCP(ctx, *host, *port)
	if err != nil {
		return err
	}
	defer client.Close()
	if err := client.Send(ctx, []byte("Client\n")); err != nil {
		return err
	}
	// The seed's client receives once; reading to the end of the stream
	// does not depend on how the bytes were split on the way.
	response, err := io.ReadAll(streams.Reader(ctx, client))
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%q\n", response)
	return nil
}
