// Command tcpserver is the seed's TCP server: it greets each client with
// "Hello, <name>", where name is the first bytes (up to 1024) that the
// client sends, each client in a handler of its own.
//
//	go run ./examples/tcpserver                  # listens on 127.0.0.1:1234
//	go run ./examples/tcpserver -port 4000
//
// Ctrl-C stops it: Serve stops accepting, the handlers are cancelled, and
// it says that it shut down cleanly.
//
// Try it with the Go client, or with the seed's own Python client (AnyIO,
// python3-anyio), from a second terminal at the module's root:
//
//	go run ./examples/tcpclient
//	/usr/bin/python3 testdata/tcp_client.py 1234
//
// The AnyIO original: create_tcp_listener(local_port=1234), then
// listener.serve(handle).
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

// handle greets one client; Serve closes the connection when it returns.
func handle(ctx context.Context, client *sockets.SocketStream) error {
	name := make([]byte, 1024)
	n, err := client.Receive(ctx, name)
	if err != nil {
		return err
	}
	return client.Send(ctx, fmt.Appendf(nil, "Hello, %s\n", name[:n]))
}

// run listens, prints "tcpserver: listening on ADDR", and serves until ctx
// is cancelled.
func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("tcpserver", flag.ContinueOnError)
	host := fs.String("host", "127.0.0.1", "address to listen on")
	port := fs.Int("port", 1234, "port to listen on (0: any free port)")
	switch err := fs.Parse(args); {
	case errors.Is(err, flag.ErrHelp):
		return nil // -h: fs printed the usage
	case err != nil:
		return err
	}
	listener, err := sockets.ListenTCP(sockets.LocalHost(*host), sockets.Port(*port))
	if err != nil {
		return err
	}
	defer listener.Close()
	addr, _ := streams.Extra(listener, sockets.LocalAddr)
	fmt.Fprintf(stdout, "tcpserver: listening on %v\n", addr)

	if err := listener.Serve(ctx, handle, nil); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "tcpserver: %v: shut down cleanly\n", context.Cause(ctx))
	return nil
}
