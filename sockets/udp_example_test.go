package sockets_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/tether-go/tether/sockets"
	"github.com/tether-go/tether/streams"
	"github.com/tether-go/tether/taskgroup"
)

// An upper-casing UDP server that answers every datagram, and a client
// connected to it. Cancelling the group ends the server's range loop.
func ExampleUDPSocket_Packets() {
	// The server is closed after the group, so that its loop ends by
	// cancellation, not by Close.
	server, err := sockets.ListenUDP(sockets.LocalHost("127.0.0.1"))
	if err != nil {
		panic(err)
	}
	defer server.Close()
	err = taskgroup.Run(context.Background(), func(ctx context.Context, g *taskgroup.Group) error {
		g.Go(func(ctx context.Context) error {
			for p, err := range server.Packets(ctx) {
				if err != nil {
					return err // the group's cancellation, at the end
				}
				reply := strings.ToUpper(string(p.Data))
				if err := server.SendToAddr(ctx, []byte(reply), p.Addr); err != nil {
					return err
				}
			}
			return nil
		})

		port, _ := streams.Extra(server, sockets.LocalPort)
		client, err := sockets.ConnectUDP(ctx, "127.0.0.1", port)
		if err != nil {
			return err
		}
		defer client.Close()
		buf := make([]byte, 64)
		for _, word := range []string{"hello", "datagrams"} {
			if err := client.Send(ctx, []byte(word)); err != nil {
				return err
			}
			n, err := client.Receive(ctx, buf)
			if err != nil {
				return err
			}
			fmt.Println(string(buf[:n]))
		}
		g.Cancel() // ends Packets; the group's own cancellation is no error
		return nil
	})
	fmt.Println("error:", err)
	// Output:
	// HELLO
	// DATAGRAMS
	// error: <nil>
}
