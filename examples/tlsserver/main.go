// Command tlsserver is the TCP server of the seed over TLS: it greets each
// client with "Hello, <name>", where name is the first bytes that the
// client sends, on a TLS listener (AnyIO's TLSListener).
//
//	go run ./examples/tlsserver                  # 127.0.0.1:1234, a certificate made at start
//	go run ./examples/tlsserver -cert cert.pem -key key.pem
//
// Without -cert and -key it makes a self-signed certificate for
// localhost, 127.0.0.1 and ::1 and writes it (not the key) to -cafile-out,
// for clients to trust. Ctrl-C stops it.
//
// Try it with the Go client, or with a Python client (AnyIO,
// python3-anyio), from a second terminal at the module's root:
//
//	go run ./examples/tlsclient
//	/usr/bin/python3 testdata/tls_client.py 1234 /tmp/tether-example-cert.pem
//
// A handshake that fails (a plain-TCP client, a client that does not
// trust the certificate) is reported and never reaches the handler, nor
// stops the server.
//
// The AnyIO original: TLSListener(await create_tcp_listener(local_port=1234),
// context), then listener.serve(handle).
package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/tether-go/tether"
	"github.com/tether-go/tether/examples/internal/selfsigned"
	"github.com/tether-go/tether/sockets"
	"github.com/tether-go/tether/streams"
	"github.com/tether-go/tether/streams/tlsstream"
	"github.com/tether-go/tether/taskgroup"
)

func main() {
	tether.Main(func(ctx context.Context, _ *taskgroup.Group) error {
		return run(ctx, os.Args[1:], os.Stdout)
	})
}

// handle greets one client; Serve closes the connection when it returns,
// with a TLS close_notify.
func handle(ctx context.Context, client *tlsstream.Stream) error {
	name := make([]byte, 1024)
	n, err := client.Receive(ctx, name)
	if err != nil {
		return err
	}
	return client.Send(ctx, fmt.Appendf(nil, "Hello, %s\n", name[:n]))
}

// run loads or makes the certificate, listens, prints "tlsserver:
// listening on ADDR", and serves until ctx is cancelled.
func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("tlsserver", flag.ContinueOnError)
	host := fs.String("host", "127.0.0.1", "address to listen on")
	port := fs.Int("port", 1234, "port to listen on (0: any free port)")
	certFile := fs.String("cert", "", "certificate file (PEM); with -key")
	keyFile := fs.String("key", "", "private key file (PEM); with -cert")
	caOut := fs.String("cafile-out", filepath.Join(os.TempDir(), "tether-example-cert.pem"),
		"where to write the certificate made at start, for clients to trust")
	switch err := fs.Parse(args); {
	case errors.Is(err, flag.ErrHelp):
		return nil // -h: fs printed the usage
	case err != nil:
		return err
	}
	cert, err := certificate(*certFile, *keyFile, *caOut, stdout)
	if err != nil {
		return err
	}
	tcp, err := sockets.ListenTCP(sockets.LocalHost(*host), sockets.Port(*port))
	if err != nil {
		return err
	}
	defer tcp.Close()
	listener := tlsstream.NewListener(tcp, &tls.Config{Certificates: []tls.Certificate{cert}})
	addr, _ := streams.Extra(tcp, sockets.LocalAddr)
	fmt.Fprintf(stdout, "tlsserver: listening on %v\n", addr)

	if err := listener.Serve(ctx, handle, nil); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "tlsserver: %v: shut down cleanly\n", context.Cause(ctx))
	return nil
}

// certificate loads the certificate from certFile and keyFile, or makes
// one and writes it to caOut when both are empty.
func certificate(certFile, keyFile, caOut string, stdout io.Writer) (tls.Certificate, error) {
	switch {
	case certFile != "" && keyFile != "":
		return tls.LoadX509KeyPair(certFile, keyFile)
	case certFile != "" || keyFile != "":
		return tls.Certificate{}, errors.New("tlsserver: give both -cert and -key, or neither")
	}
	pair, err := selfsigned.Generate()
	if err != nil {
		return tls.Certificate{}, err
	}
	if err := os.WriteFile(caOut, pair.CertPEM, 0o644); err != nil {
		return tls.Certificate{}, err
	}
	fmt.Fprintf(stdout, "tlsserver: made a self-signed certificate for localhost, 127.0.0.1 and ::1; clients trust it with -cafile %s\n", caOut)
	return pair.Certificate()
}
