// Command unixserver is the seed's UNIX socket server: the TCP server on a
// socket file instead of a port. It greets each client with
// "Hello, <name>", where name is the first bytes (up to 1024) that the
// client sends.
//
//	go run ./examples/unixserver                 # $TMPDIR/tether-example.sock
//	go run ./examples/unixserver -path /tmp/mysock
//
// Ctrl-C stops it, and the socket file is removed (AnyIO's listener leaves
// it behind; tether's removes it on Close, and replaces a stale one).
//
// Try it with the Go client, or with the seed's own Python client (AnyIO,
// python3-anyio), from a second terminal at the module's root:
//
//	go run ./examples/unixclient
//	/usr/bin/python3 testdata/unix_client.py /tmp/tether-example.sock
//
// The AnyIO original: create_unix_listener('/tmp/mysock'), then
// listener.serve(handle).
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
	"github.com/tether-go/tether/taskgroup"
)

func main() {
	tether.Main(func(ctx context.Context, _ *taskgroup.Group) error {
		return run(ctx, os.Args[1:], os.Stdout)
	})
}

// handle greets one client; Serve closes the connection when it returns.
func handle(ctx context.Context, client *sockets.UnixStream) error {
	name := make([]byte, 1024)
	n, err := client.Receive(ctx, name)
	if err != nil {
		return err
	}
	return client.Send(ctx, fmt.Appendf(nil, "Hello, %s\n", name[:n]))
}

// run listens, prints "unixserver: listening on PATH", and serves until
// ctx is cancelled.
func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("unixserver", flag.ContinueOnError)
	path := fs.String("path", filepath.Join(os.TempDir(), "tether-example.sock"), "socket file to listen on")
	switch err := fs.Parse(args); {
	case errors.Is(err, flag.ErrHelp):
		return nil // -h: fs printed the usage
	case err != nil:
		return err
	}
	listener, err := sockets.ListenUnix(*path)
	if err != nil {
		return err
	}
	defer listener.Close()
	fmt.Fprintf(stdout, "unixserver: listening on %s\n", *path)

	if err := listener.Serve(ctx, handle, nil); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "unixserver: %v: shut down cleanly\n", context.Cause(ctx))
	return nil
}
