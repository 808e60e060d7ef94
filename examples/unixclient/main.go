// Command unixclient is the seed's UNIX socket client: the TCP client on a
// socket file. It connects, sends "Client\n", and prints the response.
//
//	go run ./examples/unixclient                 # $TMPDIR/tether-example.sock
//	go run ./examples/unixclient -path /tmp/mysock
//
// Run the Go server, or the seed's own Python server (AnyIO,
// python3-anyio), first, in another terminal at the module's root:
//
//	go run ./examples/unixserver
//	/usr/bin/python3 testdata/unix_server.py /tmp/tether-example.sock
//
// It prints "Hello, Client\n\n" (quoted, as Python prints bytes).
//
// The AnyIO original: connect_unix('/tmp/mysock'), client.send,
// client.receive(1024).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

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
	fs := flag.NewFlagSet("unixclient", flag.ContinueOnError)
	path := fs.String("path", filepath.Join(os.TempDir(), "tether-example.sock"), "socket file to connect to")
	switch err := fs.Parse(args); {
	case errors.Is(err, flag.ErrHelp):
		return nil // -h: fs printed the usage
	case err != nil:
		return err
	}
	client, err := sockets.ConnectUnix(ctx, *path)
	if err != nil {
		return err
	}
	defer client.Close()
	if err := client.Send(ctx, []byte("Client\n")); err != nil {
		return err
	}
	response, err := io.ReadAll(streams.Reader(ctx, client))
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%q\n", response)
	return nil
}
