package sockets_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/tether-go/tether/sockets"
	"github.com/tether-go/tether/streams"
	"github.com/tether-go/tether/taskgroup"
)

// An echo server and its client: the server runs in the group, and
// cancelling the group stops it.
func Example() {
	err := taskgroup.Run(context.Background(), func(ctx context.Context, g *taskgroup.Group) error {
		l, err := sockets.ListenTCP(sockets.LocalHost("127.0.0.1"))
		if err != nil {
			return err
		}
		defer l.Close()
		g.Go(func(ctx context.Context) error {
			return l.Serve(ctx, func(ctx context.Context, s *sockets.SocketStream) error {
				buf := make([]byte, 64)
				n, err := s.Receive(ctx, buf)
				if err != nil {
					return err
				}
				return s.Send(ctx, buf[:n])
			}, g)
		})

		c, err := sockets.ConnectTCP(ctx, "127.0.0.1", l.Port())
		if err != nil {
			return err
		}
		defer c.Close()
		if err := c.Send(ctx, []byte("hello")); err != nil {
			return err
		}
		reply, err := streams.NewBuffered(c).ReceiveExactly(ctx, 5)
		if err != nil {
			return err
		}
		fmt.Printf("%s\n", reply)
		g.Cancel() // stops Serve; the group's own cancellation is no error
		return nil
	})
	fmt.Println("done:", err)
	// Output:
	// hello
	// done: <nil>
}

// A UNIX socket server whose file is removed on Close.
func ExampleListenUnix() {
	dir, err := os.MkdirTemp("", "example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "app.sock")

	l, err := sockets.ListenUnix(path, sockets.Mode(0o600))
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	go func() {
		s, err := l.Accept(ctx)
		if err != nil {
			return
		}
		defer s.Close()
		s.Send(ctx, []byte("welcome"))
	}()
	c, err := sockets.ConnectUnix(ctx, path)
	if err != nil {
		panic(err)
	}
	defer c.Close()
	got, err := streams.NewBuffered(c).ReceiveExactly(ctx, 7)
	fmt.Printf("%s %v\n", got, err)
	l.Close()
	_, err = os.Stat(path)
	fmt.Println("file removed:", os.IsNotExist(err))
	// Output:
	// welcome <nil>
	// file removed: true
}
