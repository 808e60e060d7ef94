package streams_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/tether-go/tether/memstream"
	"github.com/tether-go/tether/streams"
	"github.com/tether-go/tether/taskgroup"
)

// An echo server on an in-memory listener: Serve runs each connection's
// handler as a task of the group, and stops, draining its handlers, when
// its context is cancelled.
func ExampleServe() {
	l := memstream.Listen()
	defer l.Close()

	echo := func(ctx context.Context, conn streams.ByteStream) error {
		buf := make([]byte, 1024)
		for {
			n, err := conn.Receive(ctx, buf)
			if errors.Is(err, streams.ErrEndOfStream) {
				return conn.SendEOF(ctx)
			}
			if err != nil {
				return err
			}
			if err := conn.Send(ctx, buf[:n]); err != nil {
				return err
			}
		}
	}

	err := taskgroup.Run(context.Background(), func(ctx context.Context, g *taskgroup.Group) error {
		serveCtx, stop := context.WithCancel(ctx)
		defer stop()
		g.Go(func(context.Context) error {
			return streams.Serve(serveCtx, l, echo, g, streams.Drain(5*time.Second))
		})

		conn, err := l.Dial(ctx)
		if err != nil {
			return err
		}
		defer conn.Close()
		if err := conn.Send(ctx, []byte("hello, tether")); err != nil {
			return err
		}
		if err := conn.SendEOF(ctx); err != nil {
			return err
		}
		var reply []byte
		buf := make([]byte, 1024)
		for {
			n, err := conn.Receive(ctx, buf)
			if errors.Is(err, streams.ErrEndOfStream) {
				break
			}
			if err != nil {
				return err
			}
			reply = append(reply, buf[:n]...)
		}
		fmt.Printf("%s\n", reply)
		return nil // stop, deferred, shuts the server down
	})
	fmt.Println("server stopped:", err)
	// Output:
	// hello, tether
	// server stopped: <nil>
}
