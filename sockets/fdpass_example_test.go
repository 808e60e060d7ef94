package sockets_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/tether-go/tether/sockets"
	"github.com/tether-go/tether/taskgroup"
)

// A server passes the write end of a pipe to its client, which writes
// into it: the descriptor crosses the UNIX socket, the data does not.
func ExampleUnixStream_SendFDs() {
	dir, err := os.MkdirTemp("", "example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "fds.sock")

	r, w, err := os.Pipe()
	if err != nil {
		panic(err)
	}
	defer r.Close()

	err = taskgroup.Run(context.Background(), func(ctx context.Context, g *taskgroup.Group) error {
		l, err := sockets.ListenUnix(path)
		if err != nil {
			return err
		}
		defer l.Close()
		g.Go(func(ctx context.Context) error {
			s, err := l.Accept(ctx)
			if err != nil {
				return err
			}
			defer s.Close()
			defer w.Close() // the client has its own descriptor now
			return s.SendFDs(ctx, []byte("pipe"), w)
		})

		c, err := sockets.ConnectUnix(ctx, path)
		if err != nil {
			return err
		}
		defer c.Close()
		msg, files, err := c.ReceiveFDs(ctx, 16, 1)
		if err != nil {
			return err
		}
		fmt.Printf("got %q and %d file\n", msg, len(files))
		fmt.Fprint(files[0], "written through a passed descriptor")
		return files[0].Close()
	})
	if err != nil {
		panic(err)
	}
	b, _ := io.ReadAll(r) // the end of the pipe: every write end is closed
	fmt.Println(string(b))
	// Output:
	// got "pipe" and 1 file
	// written through a passed descriptor
}
