package sockets_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"testing"

	"github.com/tether-go/tether/sockets"
	"github.com/tether-go/tether/streams"
	"github.com/tether-go/tether/streams/tlsstream"
	"github.com/tether-go/tether/streams/tlsstream/tlstest"
)

// tlsServer serves an echo over TLS on 127.0.0.1 with a certificate for
// hosts, until the end of the test, and returns its port.
func tlsServer(t *testing.T, ca *tlstest.CA, hosts ...string) int {
	t.Helper()
	l, err := sockets.ListenTCP(sockets.LocalHost("127.0.0.1"))
	if err != nil {
		t.Fatalf("ListenTCP: %v", err)
	}
	port, _ := streams.Extra(l, sockets.LocalPort)
	tl := tlsstream.NewListener(l, ca.ServerConfig(t, hosts...), tlsstream.OnError(func(error) {}))
	if got, ok := streams.Extra(tl, sockets.LocalPort); got != port || !ok {
		t.Errorf("Extra(TLS listener, LocalPort) = %d, %v; want %d, true", got, ok, port)
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- tl.Serve(ctx, func(ctx context.Context, s *tlsstream.Stream) error {
			buf := make([]byte, 1024)
			for {
				n, err := s.Receive(ctx, buf)
				if err != nil {
					return nil
				}
				if err := s.Send(ctx, buf[:n]); err != nil {
					return err
				}
			}
		}, nil)
	}()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
		tl.Close()
	})
	return port
}

func TestConnectTLS(t *testing.T) {
	ca := tlstest.NewCA(t)
	for _, tc := range []struct {
		name  string
		host  string
		certs []string
		cfg   *tls.Config
	}{
		{"IP address", "127.0.0.1", []string{"127.0.0.1"}, &tls.Config{RootCAs: ca.Pool()}},
		{"name", "localhost", []string{"localhost"}, &tls.Config{RootCAs: ca.Pool()}},
		{"explicit server name", "127.0.0.1", []string{"other.test"}, &tls.Config{RootCAs: ca.Pool(), ServerName: "other.test"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := t.Context()
			port := tlsServer(t, ca, tc.certs...)
			name := tc.cfg.ServerName
			s, err := sockets.ConnectTLS(ctx, tc.host, port, tc.cfg)
			if err != nil {
				t.Fatalf("ConnectTLS: %v", err)
			}
			defer s.Close()
			if tc.cfg.ServerName != name {
				t.Errorf("ConnectTLS changed the caller's ServerName to %q, want %q", tc.cfg.ServerName, name)
			}
			if err := s.Send(ctx, []byte("ping")); err != nil {
				t.Fatalf("Send: %v", err)
			}
			buf := make([]byte, 4)
			if _, err := io.ReadFull(streams.Reader(ctx, s), buf); err != nil || string(buf) != "ping" {
				t.Fatalf("echo = %q, %v; want %q", buf, err, "ping")
			}
			if got, _ := streams.Extra(s, sockets.RemotePort); got != port {
				t.Errorf("Extra(RemotePort) = %d, want %d", got, port)
			}
		})
	}
}

func TestConnectTLSHostnameMismatch(t *testing.T) {
	ca := tlstest.NewCA(t)
	port := tlsServer(t, ca, "localhost")
	cfg := &tls.Config{RootCAs: ca.Pool()}
	_, err := sockets.ConnectTLS(t.Context(), "127.0.0.1", port, cfg)
	var he *tlsstream.HandshakeError
	var hostErr x509.HostnameError
	if !errors.As(err, &he) || !errors.As(err, &hostErr) {
		t.Fatalf("ConnectTLS: %v; want a *tlsstream.HandshakeError with an x509.HostnameError", err)
	}
	if cfg.ServerName != "" {
		t.Errorf("ConnectTLS set ServerName %q on the caller's config", cfg.ServerName)
	}
}

func TestConnectTLSBadPort(t *testing.T) {
	if _, err := sockets.ConnectTLS(t.Context(), "127.0.0.1", 0, nil); err == nil {
		t.Fatal("ConnectTLS to port 0 succeeded, want an error")
	}
}

// TestTLSListenerGarbageOverTCP: over real sockets, a client that sends
// garbage and one that connects and says nothing are reported or left
// waiting, while ConnectTLS clients are served.
func TestTLSListenerGarbageOverTCP(t *testing.T) {
	ctx := t.Context()
	ca := tlstest.NewCA(t)
	l, err := sockets.ListenTCP(sockets.LocalHost("127.0.0.1"))
	if err != nil {
		t.Fatalf("ListenTCP: %v", err)
	}
	port, _ := streams.Extra(l, sockets.LocalPort)
	reported := make(chan error, 10)
	tl := tlsstream.NewListener(l, ca.ServerConfig(t, "127.0.0.1"), tlsstream.OnError(func(err error) { reported <- err }))
	defer tl.Close()
	serveCtx, stop := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() {
		served <- tl.Serve(serveCtx, func(ctx context.Context, s *tlsstream.Stream) error {
			return s.Send(ctx, []byte("hi"))
		}, nil)
	}()
	defer func() {
		stop()
		if err := <-served; err != nil {
			t.Errorf("Serve: %v", err)
		}
	}()

	silent, err := sockets.ConnectTCP(ctx, "127.0.0.1", port)
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	garbage, err := sockets.ConnectTCP(ctx, "127.0.0.1", port)
	if err != nil {
		t.Fatal(err)
	}
	defer garbage.Close()
	if err := garbage.Send(ctx, []byte("\x00\x01garbage, not a ClientHello\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	var he *tlsstream.HandshakeError
	if err := <-reported; !errors.As(err, &he) || he.Addr == nil {
		t.Errorf("reported %v; want a *tlsstream.HandshakeError with the peer's address", err)
	}
	for i := range 3 {
		s, err := sockets.ConnectTLS(ctx, "127.0.0.1", port, &tls.Config{RootCAs: ca.Pool()})
		if err != nil {
			t.Fatalf("client %d: %v", i, err)
		}
		buf := make([]byte, 2)
		_, err = io.ReadFull(streams.Reader(ctx, s), buf)
		s.Close()
		if err != nil || string(buf) != "hi" {
			t.Fatalf("client %d got %q, %v; want %q", i, buf, err, "hi")
		}
	}
}
