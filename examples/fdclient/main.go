// Command fdclient is the seed's file descriptor client: it connects to a
// UNIX socket, receives the descriptor of a file that the server opened
// (SCM_RIGHTS), and prints the file's contents.
//
//	go run ./examples/fdclient                   # $TMPDIR/tether-fd.sock
//	go run ./examples/fdclient -path /tmp/mysock
//
// Run the Go server, or the seed's own Python server (AnyIO,
// python3-anyio), first, in another terminal at the module's root:
//
//	go run ./examples/fdserver
//	/usr/bin/python3 testdata/fd_server.py /tmp/tether-fd.sock /tmp/tether-examplefile
//
// It prints "Test file".
//
// The AnyIO original: client.receive_fds(0, 1), then os.fdopen(fds[0]).
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

// run connects, receives one descriptor, and prints what the file holds.
func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("fdclient", flag.ContinueOnError)
	path := fs.String("path", filepath.Join(os.TempDir(), "tether-fd.sock"), "socket file to connect to")
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
	// The message that comes with the descriptor is ignored, as in the
	// seed: room for one byte of it, and for one descriptor.
	_, files, err := client.ReceiveFDs(ctx, 1, 1)
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return errors.New("fdclient: the server sent no descriptor")
	}
	file := files[0]
	defer file.Close()
	contents, err := io.ReadAll(file)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, string(contents))
	return nil
}
