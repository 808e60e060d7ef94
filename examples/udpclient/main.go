// Command udpclient is the seed's connected UDP client: a UDP socket
// "connected" to one peer, so that each send needs no address. It sends
// "Hi there!\n"; then, unlike the seed, which only sends, it waits for the
// answer (for -wait) and prints it, to show the round trip.
//
//	go run ./examples/udpclient                  # to 127.0.0.1:1234
//	go run ./examples/udpclient -port 4000 -wait 0
//
// Run the Go server, or the seed's own Python server (AnyIO,
// python3-anyio), first, in another terminal at the module's root:
//
//	go run ./examples/udpserver
//	/usr/bin/python3 testdata/udp_server.py 1234
//
// It prints "Hello, Hi there!\n". With no server, the system answers the
// packet with "port unreachable", and the client reports the connection
// refused.
//
// The AnyIO original: create_connected_udp_socket(remote_host='hostname',
// remote_port=1234), then udp.send(b'Hi there!\n').
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/tether-go/tether"
	"github.com/tether-go/tether/cancel"
	"github.com/tether-go/tether/sockets"
	"github.com/tether-go/tether/taskgroup"
)

func main() {
	tether.Main(func(ctx context.Context, _ *taskgroup.Group) error {
		return run(ctx, os.Args[1:], os.Stdout)
	})
}

// run sends one packet and, unless wait is 0, prints the answer.
func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("udpclient", flag.ContinueOnError)
	host := fs.String("host", "127.0.0.1", "host to send to")
	port := fs.Int("port", 1234, "port to send to")
	wait := fs.Duration("wait", 2*time.Second, "how long to wait for the answer (0: do not wait, as the seed)")
	switch err := fs.Parse(args); {
	case errors.Is(err, flag.ErrHelp):
		return nil // -h: fs printed the usage
	case err != nil:
		return err
	}
	udp, err := sockets.ConnectUDP(ctx, *host, *port)
	if err != nil {
		return err
	}
	defer udp.Close()
	if err := udp.Send(ctx, []byte("Hi there!\n")); err != nil {
		return err
	}
	if *wait <= 0 {
		return nil
	}
	return cancel.FailAfter(ctx, *wait, func(ctx context.Context) error {
		buf := make([]byte, 65535) // room for any UDP packet
		n, err := udp.Receive(ctx, buf)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%q\n", buf[:n])
		return nil
	})
}
