// Command fdserver is the seed's file descriptor server: it writes
// "Test file" to a file, and sends each client that connects to its UNIX
// socket an open descriptor of that file (SCM_RIGHTS), which the client
// reads.
//
//	go run ./examples/fdserver      # $TMPDIR/tether-fd.sock, $TMPDIR/tether-examplefile
//	go run ./examples/fdserver -path /tmp/mysock -file /tmp/examplefile
//
// Ctrl-C stops it, and the socket file is removed.
//
// Try it with the Go client, or with the seed's own Python client (AnyIO,
// python3-anyio), from a second terminal at the module's root:
//
//	go run ./examples/fdclient
//	/usr/bin/python3 testdata/fd_client.py /tmp/tether-fd.sock
//
// The AnyIO original: path.open('r'), then client.send_fds(b'this message
// is ignored', [file]).
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

// run writes the file, listens, prints "fdserver: listening on PATH", and
// serves until ctx is cancelled.
func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("fdserver", flag.ContinueOnError)
	path := fs.String("path", filepath.Join(os.TempDir(), "tether-fd.sock"), "socket file to listen on")
	file := fs.String("file", filepath.Join(os.TempDir(), "tether-examplefile"), "file whose descriptor is sent")
	switch err := fs.Parse(args); {
	case errors.Is(err, flag.ErrHelp):
		return nil // -h: fs printed the usage
	case err != nil:
		return err
	}
	if err := os.WriteFile(*file, []byte("Test file"), 0o644); err != nil {
		return err
	}
	listener, err := sockets.ListenUnix(*path)
	if err != nil {
		return err
	}
	defer listener.Close()
	fmt.Fprintf(stdout, "fdserver: listening on %s, sending descriptors of %s\n", *path, *file)

	err = listener.Serve(ctx, func(ctx context.Context, client *sockets.UnixStream) error {
		f, err := os.Open(*file)
		if err != nil {
			return err
		}
		// The client gets a descriptor of its own: ours is closed at once.
		defer f.Close()
		return client.SendFDs(ctx, []byte("this message is ignored"), f)
	}, nil)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "fdserver: %v: shut down cleanly\n", context.Cause(ctx))
	return nil
}
