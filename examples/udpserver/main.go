// Command udpserver is the seed's UDP "hello" service: it reads packets
// and answers each with its contents after "Hello, ", sent back to the
// packet's sender.
//
//	go run ./examples/udpserver                  # 127.0.0.1:1234
//	go run ./examples/udpserver -port 4000
//
// Ctrl-C stops it.
//
// Try it with the Go client, or with the seed's own Python client (AnyIO,
// python3-anyio), from a second terminal at the module's root:
//
//	go run ./examples/udpclient
//	/usr/bin/python3 testdata/udp_client.py 1234
//
// The server prints each packet it answers.
//
// The AnyIO original: create_udp_socket(local_port=1234), then
// "async for packet, (host, port) in udp: await udp.sendto(...)".
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/tether-go/tether"
	"github.com/tether-go/tether/cancel"
	"github.com/tether-go/tether/sockets"
	"github.com/tether-go/tether/streams"
	"github.com/tether-go/tether/taskgroup"
)

func main() {
	tether.Main(func(ctx context.Context, _ *taskgroup.Group) error {
		return run(ctx, os.Args[1:], os.Stdout)
	})
}

// run binds, prints "udpserver: listening on ADDR", and answers packets
// until ctx is cancelled.
func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("udpserver", flag.ContinueOnError)
	host := fs.String("host", "127.0.0.1", "address to bind")
	port := fs.Int("port", 1234, "port to bind (0: any free port)")
	switch err := fs.Parse(args); {
	case errors.Is(err, flag.ErrHelp):
		return nil // -h: fs printed the usage
	case err != nil:
		return err
	}
	udp, err := sockets.ListenUDP(sockets.LocalHost(*host), sockets.Port(*port))
	if err != nil {
		return err
	}
	defer udp.Close()
	addr, _ := streams.Extra(udp, sockets.LocalAddr)
	fmt.Fprintf(stdout, "udpserver: listening on %v\n", addr)

	for packet, err := range udp.Packets(ctx) {
		if err != nil {
			if cancel.IsCancelled(err) && ctx.Err() != nil {
				break
			}
			return err
		}
		fmt.Fprintf(stdout, "udpserver: %v sent %q\n", packet.Addr, packet.Data)
		reply := append([]byte("Hello, "), packet.Data...)
		if err := udp.SendToAddr(ctx, reply, packet.Addr); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "udpserver: %v: shut down cleanly\n", context.Cause(ctx))
	return nil
}
