package tlsstream_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/tether-go/tether/memstream"
	"github.com/tether-go/tether/streams"
	"github.com/tether-go/tether/streams/tlsstream"
	"github.com/tether-go/tether/streams/tlsstream/tlstest"
	"github.com/tether-go/tether/taskgroup"
)

// exampleConfigs makes a throwaway CA and the two sides' configurations,
// as a test would; a real server loads its certificate instead.
func exampleConfigs() (server, client *tls.Config) {
	tb := &testing.T{}
	ca := tlstest.NewCA(tb)
	return ca.ServerConfig(tb, "localhost"), ca.ClientConfig("localhost")
}

// A TLS client and server over an in-memory pipe: each side runs its
// handshake, then the client sends a request and half-closes, and the
// server answers until the end of the stream.
func Example() {
	serverCfg, clientCfg := exampleConfigs()
	serverCfg.NextProtos = []string{"echo/1"}
	clientCfg.NextProtos = []string{"echo/1"}
	a, b := memstream.Pipe()

	err := taskgroup.Run(context.Background(), func(ctx context.Context, g *taskgroup.Group) error {
		g.Go(func(ctx context.Context) error {
			s, err := tlsstream.Server(ctx, b, serverCfg)
			if err != nil {
				return err
			}
			defer s.Close() // sends close_notify
			req, err := io.ReadAll(streams.Reader(ctx, s))
			if err != nil {
				return err
			}
			return s.Send(ctx, []byte("echo: "+string(req)))
		})

		c, err := tlsstream.Client(ctx, a, clientCfg)
		if err != nil {
			return err
		}
		defer c.Close()
		proto, _ := streams.Extra(c, tlsstream.ALPNProtocol)
		fmt.Println("protocol:", proto)
		if err := c.Send(ctx, []byte("hello")); err != nil {
			return err
		}
		if err := c.SendEOF(ctx); err != nil { // close_notify; c still receives
			return err
		}
		reply, err := io.ReadAll(streams.Reader(ctx, c))
		fmt.Printf("reply: %s\n", reply)
		return err
	})
	if err != nil {
		fmt.Println("error:", err)
	}
	// Output:
	// protocol: echo/1
	// reply: echo: hello
}

// A client that does not trust the server's certificate: the handshake
// fails, the stream under it is closed, and crypto/tls's error is there.
func ExampleClient_untrusted() {
	serverCfg, _ := exampleConfigs()
	a, b := memstream.Pipe()
	served := make(chan error, 1)
	go func() {
		_, err := tlsstream.Server(context.Background(), b, serverCfg)
		served <- err
	}()
	_, err := tlsstream.Client(context.Background(), a, &tls.Config{ServerName: "localhost", RootCAs: x509.NewCertPool()})
	var verr *tls.CertificateVerificationError
	fmt.Println("client rejected the certificate:", errors.As(err, &verr))
	fmt.Println("server saw the alert:", <-served != nil)
	// Output:
	// client rejected the certificate: true
	// server saw the alert: true
}

// A TLS server over an in-memory listener: NewListener runs each
// handshake in a task of its own, and Serve gets only the connections
// whose handshake succeeded. The client that sends garbage is reported
// and never reaches the handler.
func ExampleNewListener() {
	serverCfg, clientCfg := exampleConfigs()
	ml := memstream.Listen()
	failed := make(chan error, 1)
	l := tlsstream.NewListener(ml, serverCfg, tlsstream.OnError(func(err error) { failed <- err }))
	defer l.Close()

	err := taskgroup.Run(context.Background(), func(ctx context.Context, g *taskgroup.Group) error {
		serveCtx, stop := context.WithCancel(ctx)
		defer stop()
		g.Go(func(context.Context) error {
			return l.Serve(serveCtx, func(ctx context.Context, s *tlsstream.Stream) error {
				name, _ := streams.Extra(s, tlsstream.ServerName)
				return s.Send(ctx, []byte("hello, "+name))
			}, nil)
		})

		bad, err := ml.Dial(ctx)
		if err != nil {
			return err
		}
		bad.Send(ctx, []byte("not a ClientHello"))
		var he *tlsstream.HandshakeError
		fmt.Println("reported a handshake error:", errors.As(<-failed, &he))
		bad.Close()

		raw, err := ml.Dial(ctx)
		if err != nil {
			return err
		}
		c, err := tlsstream.Client(ctx, raw, clientCfg)
		if err != nil {
			return err
		}
		defer c.Close()
		reply, err := io.ReadAll(streams.Reader(ctx, c))
		fmt.Printf("client got %q\n", reply)
		return err
	})
	if err != nil {
		fmt.Println("error:", err)
	}
	// Output:
	// reported a handshake error: true
	// client got "hello, localhost"
}
