// Command tlsclient is the TCP client of the seed over TLS: it connects
// with sockets.ConnectTLS (AnyIO's connect_tcp(..., tls=True)), sends
// "Client\n", and prints the server's response.
//
//	go run ./examples/tlsclient                  # to localhost:1234
//	go run ./examples/tlsclient -cafile cert.pem -host 127.0.0.1 -port 4000
//
// It trusts the certificate in -cafile, by default the one that the Go
// server writes when it makes its own. Run the Go server, or a Python
// server (AnyIO, python3-anyio), first, in another terminal at the
// module's root:
//
//	go run ./examples/tlsserver
//	/usr/bin/python3 testdata/tls_server.py 1234 cert.pem key.pem
//
// It prints "Hello, Client\n\n" (quoted, as Python prints bytes).
//
// The AnyIO original: ssl.create_default_context(), load_verify_locations
// (cafile=...), then connect_tcp('localhost', 1234, ssl_context=context).
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

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

// run connects with TLS, sends "Client\n", and prints what the server
// sends until it ends the stream.
func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("tlsclient", flag.ContinueOnError)
	host := fs.String("host", "localhost", "host to connect to; the certificate must name it")
	port := fs.Int("port", 1234, "port to connect to")
	caFile := fs.String("cafile", filepath.Join(os.TempDir(), "tether-example-cert.pem"), "certificate to trust (PEM)")
	switch err := fs.Parse(args); {
	case errors.Is(err, flag.ErrHelp):
		return nil // -h: fs printed the usage
	case err != nil:
		return err
	}
	pem, err := os.ReadFile(*caFile)
	if err != nil {
		return err
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pem) {
		return fmt.Errorf("tlsclient: no certificate in %s", *caFile)
	}
	// The certificate is checked against host (cfg.ServerName is empty).
	client, err := sockets.ConnectTLS(ctx, *host, *port, &tls.Config{RootCAs: roots})
	if err != nil {
		return err
	}
	defer client.Close()
	if err := client.Send(ctx, []byte("Client\n")); err != nil {
		return err
	}
	response, err := io.ReadAll(streams.Reader(ctx, client))
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%q\n", response)
	return nil
}
