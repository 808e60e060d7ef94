package tlsstream_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tether-go/tether/cancel"
	"github.com/tether-go/tether/memstream"
	"github.com/tether-go/tether/streams"
	"github.com/tether-go/tether/streams/tlsstream"
	"github.com/tether-go/tether/streams/tlsstream/tlstest"
)

func TestRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name string
		pair func(*testing.T, []tlsstream.Option, []tlsstream.Option) (*tlsstream.Stream, *tlsstream.Stream)
	}{
		{"pipe", pipePair},
		{"tcp", tcpPair},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := testContext(t)
			c, s := tc.pair(t, nil, nil)
			if err := c.Send(ctx, []byte("hello")); err != nil {
				t.Fatalf("client Send: %v", err)
			}
			buf := make([]byte, 10)
			n, err := s.Receive(ctx, buf)
			if err != nil || string(buf[:n]) != "hello" {
				t.Fatalf("server Receive = %q, %v; want %q, nil", buf[:n], err, "hello")
			}
			if err := s.Send(ctx, []byte("olleh")); err != nil {
				t.Fatalf("server Send: %v", err)
			}
			n, err = c.Receive(ctx, buf)
			if err != nil || string(buf[:n]) != "olleh" {
				t.Fatalf("client Receive = %q, %v; want %q, nil", buf[:n], err, "olleh")
			}
		})
	}
}

func TestAttributes(t *testing.T) {
	ca := tlstest.NewCA(t)
	scfg := ca.ServerConfig(t, "localhost")
	scfg.NextProtos = []string{"dummy1", "dummy2"}
	ccfg := ca.ClientConfig("localhost")
	ccfg.NextProtos = []string{"dummy2", "dummy3"}
	a, b := tcpConns(t)
	c, s := mustPair(t, a, b, ccfg, scfg, nil, nil)

	for _, tc := range []struct {
		name   string
		stream *tlsstream.Stream
		under  *streams.ConnStream
		peer   string // common name of the peer's certificate, "" for none
	}{
		{"client", c, a, "localhost"},
		{"server", s, b, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := tc.stream.ConnectionState()
			if !st.HandshakeComplete {
				t.Errorf("ConnectionState().HandshakeComplete = false, want true")
			}
			got, ok := streams.Extra(tc.stream, tlsstream.ConnectionState)
			if !ok || got.Version != st.Version || got.CipherSuite != st.CipherSuite {
				t.Errorf("Extra(ConnectionState) = version %x suite %x, %v; want %x %x, true", got.Version, got.CipherSuite, ok, st.Version, st.CipherSuite)
			}
			if p, ok := streams.Extra(tc.stream, tlsstream.ALPNProtocol); p != "dummy2" || !ok {
				t.Errorf("Extra(ALPNProtocol) = %q, %v; want %q, true", p, ok, "dummy2")
			}
			if n, ok := streams.Extra(tc.stream, tlsstream.ServerName); n != "localhost" || !ok {
				t.Errorf("Extra(ServerName) = %q, %v; want %q, true", n, ok, "localhost")
			}
			certs, ok := streams.Extra(tc.stream, tlsstream.PeerCertificates)
			switch {
			case !ok:
				t.Errorf("Extra(PeerCertificates) ok = false, want true")
			case tc.peer == "" && len(certs) != 0:
				t.Errorf("Extra(PeerCertificates) has %d certificates, want none", len(certs))
			case tc.peer != "" && (len(certs) == 0 || certs[0].Subject.CommonName != tc.peer):
				t.Errorf("Extra(PeerCertificates) = %d certificates, want a leaf for %q", len(certs), tc.peer)
			}
			// The transport's attributes pass through.
			for _, key := range []streams.Attr[net.Addr]{streams.LocalAddr, streams.RemoteAddr} {
				got, ok := streams.Extra(tc.stream, key)
				want, _ := streams.Extra(tc.under, key)
				if !ok || got.String() != want.String() {
					t.Errorf("Extra(%v) = %v, %v; want %v, true", key, got, ok, want)
				}
			}
			if got := tc.stream.RemoteAddr().String(); got != tc.under.NetConn().RemoteAddr().String() {
				t.Errorf("RemoteAddr() = %v, want %v", got, tc.under.NetConn().RemoteAddr())
			}
		})
	}
}

func TestNoALPN(t *testing.T) {
	c, _ := pipePair(t, nil, nil)
	if p, ok := streams.Extra(c, tlsstream.ALPNProtocol); p != "" || !ok {
		t.Errorf("Extra(ALPNProtocol) = %q, %v; want \"\", true", p, ok)
	}
	if _, ok := streams.Extra(c, streams.RemoteAddr); ok {
		t.Errorf("Extra(RemoteAddr) over a pipe: ok = true, want false")
	}
}

func TestUnwrapAndClose(t *testing.T) {
	ctx := testContext(t)
	scfg, ccfg := configs(t)
	a, b := memstream.Pipe()
	c, s := mustPair(t, a, b, ccfg, scfg, nil, nil)
	if c.Unwrap() != a || s.Unwrap() != b {
		t.Fatalf("Unwrap() did not return the stream under the TLS stream")
	}
	if err := s.Send(ctx, []byte("encrypted")); err != nil {
		t.Fatalf("Send: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v, want nil", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v, want nil", err)
	}
	// Close closed the transport too.
	if _, err := b.Receive(ctx, make([]byte, 1)); !errors.Is(err, streams.ErrClosed) {
		t.Errorf("Receive on the transport after Close: %v, want ErrClosed", err)
	}
	// The client gets the data, then the close_notify.
	got, err := receiveAll(ctx, c)
	if string(got) != "encrypted" || err != io.EOF {
		t.Errorf("client received %q, %v; want %q, io.EOF", got, err, "encrypted")
	}
	for _, tc := range []struct {
		name string
		call func() error
	}{
		{"Send", func() error { return s.Send(ctx, []byte("x")) }},
		{"SendEOF", func() error { return s.SendEOF(ctx) }},
		{"Receive", func() error { _, err := s.Receive(ctx, make([]byte, 1)); return err }},
	} {
		if err := tc.call(); !errors.Is(err, streams.ErrClosed) {
			t.Errorf("%s after Close: %v, want ErrClosed", tc.name, err)
		}
	}
}

func TestBadCertificate(t *testing.T) {
	ca := tlstest.NewCA(t)
	other := tlstest.NewCA(t)
	for _, tc := range []struct {
		name    string
		server  *tls.Config
		client  *tls.Config
		x509Err any // a pointer to the x509 error type that the client sees
	}{
		{"unknown authority", ca.ServerConfig(t, "localhost"), other.ClientConfig("localhost"), new(x509.UnknownAuthorityError)},
		{"hostname mismatch", ca.ServerConfig(t, "localhost"), ca.ClientConfig("example.invalid"), new(x509.HostnameError)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := testContext(t)
			a, b := memstream.Pipe()
			c, s := handshake(ctx, a, b, tc.client, tc.server, nil, nil)
			if c.err == nil || s.err == nil {
				t.Fatalf("handshake errors: client %v, server %v; want both", c.err, s.err)
			}
			var he *tlsstream.HandshakeError
			if !errors.As(c.err, &he) || he.Server {
				t.Errorf("client error %v: want a client *HandshakeError", c.err)
			}
			var cve *tls.CertificateVerificationError
			if !errors.As(c.err, &cve) {
				t.Errorf("client error %v: want a *tls.CertificateVerificationError inside", c.err)
			}
			if !errors.As(c.err, tc.x509Err) {
				t.Errorf("client error %v: want a %T inside", c.err, tc.x509Err)
			}
			if !errors.As(s.err, &he) || !he.Server {
				t.Errorf("server error %v: want a server *HandshakeError", s.err)
			}
			var alert tls.AlertError
			if !errors.As(s.err, &alert) || !strings.Contains(s.err.Error(), "certificate") {
				t.Errorf("server error %v: want a tls.AlertError about the certificate", s.err)
			}
			// Both transports were closed.
			if _, err := a.Receive(ctx, make([]byte, 1)); !errors.Is(err, streams.ErrClosed) {
				t.Errorf("client transport after the failure: %v, want ErrClosed", err)
			}
			if _, err := b.Receive(ctx, make([]byte, 1)); !errors.Is(err, streams.ErrClosed) {
				t.Errorf("server transport after the failure: %v, want ErrClosed", err)
			}
		})
	}
}

func TestNoSharedProtocol(t *testing.T) {
	scfg, ccfg := configs(t)
	scfg.NextProtos = []string{"h2"}
	ccfg.NextProtos = []string{"spdy/1"}
	a, b := memstream.Pipe()
	c, s := handshake(testContext(t), a, b, ccfg, scfg, nil, nil)
	if c.err == nil || s.err == nil {
		t.Fatalf("handshake errors: client %v, server %v; want both", c.err, s.err)
	}
	if !strings.Contains(s.err.Error(), "protocol") {
		t.Errorf("server error %q: want it to name the protocol", s.err)
	}
	var alert tls.AlertError
	if !errors.As(c.err, &alert) || alert != 120 { // no_application_protocol
		t.Errorf("client error %v: want tls.AlertError 120 (no_application_protocol), got %d", c.err, alert)
	}
}

// TestHandshakeTimeout runs in a synctest bubble: the timeout is fake
// time, and a client that never speaks leaves the server durably blocked.
func TestHandshakeTimeout(t *testing.T) {
	scfg, _ := configs(t)
	synctest.Test(t, func(t *testing.T) {
		a, b := memstream.Pipe() // a is a client that never says anything
		defer a.Close()
		start := time.Now()
		_, err := tlsstream.Server(t.Context(), b, scfg, tlsstream.HandshakeTimeout(3*time.Second))
		if !errors.Is(err, cancel.ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Server error %v: want one matching cancel.ErrTimeout and context.DeadlineExceeded", err)
		}
		if !strings.Contains(err.Error(), "3s") {
			t.Errorf("error %q: want it to name the timeout", err)
		}
		if d := time.Since(start); d != 3*time.Second {
			t.Errorf("Server took %v, want 3s", d)
		}
		if _, err := a.Receive(t.Context(), make([]byte, 1)); err != io.EOF {
			t.Errorf("the client's Receive after the timeout: %v, want io.EOF (transport closed)", err)
		}
	})
}

// TestDefaultHandshakeTimeout: without the option, a handshake gives up
// after DefaultHandshakeTimeout.
func TestDefaultHandshakeTimeout(t *testing.T) {
	_, ccfg := configs(t)
	synctest.Test(t, func(t *testing.T) {
		a, b := memstream.Pipe() // b is a server that never answers
		defer b.Close()
		start := time.Now()
		_, err := tlsstream.Client(t.Context(), a, ccfg)
		if !errors.Is(err, cancel.ErrTimeout) {
			t.Fatalf("Client error %v: want a timeout", err)
		}
		if d := time.Since(start); d != tlsstream.DefaultHandshakeTimeout {
			t.Errorf("Client took %v, want %v", d, tlsstream.DefaultHandshakeTimeout)
		}
	})
}

func TestHandshakeCancelled(t *testing.T) {
	_, ccfg := configs(t)
	a, b := memstream.Pipe() // b is a server that never answers
	defer b.Close()
	cause := errors.New("caller gave up")
	ctx, stop := context.WithCancelCause(testContext(t))
	go func() {
		// Wait for the ClientHello: the handshake is then blocked.
		b.Receive(ctx, make([]byte, 1))
		stop(cause)
	}()
	_, err := tlsstream.Client(ctx, a, ccfg, tlsstream.HandshakeTimeout(0))
	if !errors.Is(err, context.Canceled) || !errors.Is(err, cause) {
		t.Fatalf("Client error %v: want context.Canceled with the cause", err)
	}
}

func TestHandshakePeerCloses(t *testing.T) {
	_, ccfg := configs(t)
	a, b := memstream.Pipe()
	go func() {
		b.Receive(context.Background(), make([]byte, 1))
		b.Close()
	}()
	_, err := tlsstream.Client(testContext(t), a, ccfg)
	if !errors.Is(err, streams.ErrBroken) || errors.Is(err, io.EOF) {
		t.Fatalf("Client error %v: want ErrBroken, not io.EOF", err)
	}
}

// TestRaggedEOF is AnyIO's ragged-EOF matrix, for either side as the one
// that closes: a close without close_notify is ErrBroken to a standard
// compatible receiver and the end of the stream to one that is not.
func TestRaggedEOF(t *testing.T) {
	for _, tc := range []struct {
		name                   string
		closerServer           bool // the server closes, the client receives
		closerStd, receiverStd bool
		want                   error
	}{
		{"server closes/both standard", true, true, true, io.EOF},
		{"server closes/receiver standard", true, false, true, streams.ErrBroken},
		{"server closes/closer standard", true, true, false, io.EOF},
		{"server closes/neither standard", true, false, false, io.EOF},
		{"client closes/both standard", false, true, true, io.EOF},
		{"client closes/receiver standard", false, false, true, streams.ErrBroken},
		{"client closes/closer standard", false, true, false, io.EOF},
		{"client closes/neither standard", false, false, false, io.EOF},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := testContext(t)
			copts := []tlsstream.Option{tlsstream.StandardCompatible(tc.receiverStd)}
			sopts := []tlsstream.Option{tlsstream.StandardCompatible(tc.closerStd)}
			if !tc.closerServer {
				copts, sopts = sopts, copts
			}
			c, s := tcpPair(t, copts, sopts)
			closer, receiver := s, c
			if !tc.closerServer {
				closer, receiver = c, s
			}
			if err := closer.Send(ctx, []byte("hello")); err != nil {
				t.Fatalf("Send: %v", err)
			}
			if err := closer.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			got, err := receiveAll(ctx, receiver)
			if string(got) != "hello" {
				t.Errorf("received %q, want %q", got, "hello")
			}
			if !errors.Is(err, tc.want) || (tc.want == io.EOF && err != io.EOF) {
				t.Errorf("Receive at the end: %v, want %v", err, tc.want)
			}
			if tc.want == streams.ErrBroken && !strings.Contains(err.Error(), "close_notify") {
				t.Errorf("error %q: want it to say that close_notify was missing", err)
			}
			// Level-triggered: the next call says the same.
			if _, err2 := receiver.Receive(ctx, make([]byte, 1)); !errors.Is(err2, tc.want) {
				t.Errorf("second Receive: %v, want %v", err2, tc.want)
			}
		})
	}
}

// TestTruncatedRecord: a transport that ends inside a record is ErrBroken,
// standard compatible or not.
func TestTruncatedRecord(t *testing.T) {
	for _, std := range []bool{true, false} {
		t.Run(map[bool]string{true: "standard", false: "not standard"}[std], func(t *testing.T) {
			ctx := testContext(t)
			opt := []tlsstream.Option{tlsstream.StandardCompatible(std)}
			c, s := pipePair(t, opt, opt)
			// An application data record header that promises 32 bytes,
			// then 5 of them, then the end.
			under := s.Unwrap()
			if err := under.Send(ctx, []byte{23, 3, 3, 0, 32, 1, 2, 3, 4, 5}); err != nil {
				t.Fatalf("Send on the transport: %v", err)
			}
			under.Close()
			_, err := c.Receive(ctx, make([]byte, 10))
			if !errors.Is(err, streams.ErrBroken) {
				t.Fatalf("Receive: %v, want ErrBroken", err)
			}
		})
	}
}

func TestCorruptRecord(t *testing.T) {
	ctx := testContext(t)
	c, s := pipePair(t, nil, nil)
	record := append([]byte{23, 3, 3, 0, 32}, bytes.Repeat([]byte{0xAA}, 32)...)
	if err := s.Unwrap().Send(ctx, record); err != nil {
		t.Fatalf("Send on the transport: %v", err)
	}
	_, err := c.Receive(ctx, make([]byte, 10))
	if !errors.Is(err, streams.ErrBroken) || !strings.Contains(err.Error(), "tls") {
		t.Fatalf("Receive: %v, want ErrBroken with crypto/tls's error", err)
	}
}

// TestHalfClose: SendEOF sends close_notify, and the other direction goes
// on, whichever side sends it.
func TestHalfClose(t *testing.T) {
	for _, tc := range []struct {
		name        string
		clientFirst bool
		version     uint16
	}{
		{"client/TLS 1.3", true, tls.VersionTLS13},
		{"server/TLS 1.3", false, tls.VersionTLS13},
		{"client/TLS 1.2", true, tls.VersionTLS12},
		{"server/TLS 1.2", false, tls.VersionTLS12},
	} {
		clientFirst := tc.clientFirst
		t.Run(tc.name, func(t *testing.T) {
			ctx := testContext(t)
			scfg, ccfg := configs(t)
			ccfg.MaxVersion = tc.version
			a, b := tcpConns(t)
			c, s := mustPair(t, a, b, ccfg, scfg, nil, nil)
			if v := c.ConnectionState().Version; v != tc.version {
				t.Fatalf("version %x, want %x", v, tc.version)
			}
			first, second := c, s
			if !clientFirst {
				first, second = s, c
			}
			if err := first.Send(ctx, []byte("request")); err != nil {
				t.Fatalf("Send: %v", err)
			}
			if err := first.SendEOF(ctx); err != nil {
				t.Fatalf("SendEOF: %v", err)
			}
			if err := first.SendEOF(ctx); err != nil {
				t.Fatalf("second SendEOF: %v, want nil", err)
			}
			if err := first.Send(ctx, []byte("x")); !errors.Is(err, streams.ErrClosed) {
				t.Errorf("Send after SendEOF: %v, want ErrClosed", err)
			}
			got, err := receiveAll(ctx, second)
			if string(got) != "request" || err != io.EOF {
				t.Fatalf("received %q, %v; want %q, io.EOF", got, err, "request")
			}
			if err := second.Send(ctx, []byte("response")); err != nil {
				t.Fatalf("Send after the peer's SendEOF: %v", err)
			}
			if err := second.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			got, err = receiveAll(ctx, first)
			if string(got) != "response" || err != io.EOF {
				t.Fatalf("received %q, %v; want %q, io.EOF", got, err, "response")
			}
		})
	}
}

func TestCancelledReceiveConsumesNothing(t *testing.T) {
	ctx := testContext(t)
	c, s := tcpPair(t, nil, nil)
	rctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		_, err := c.Receive(rctx, make([]byte, 10))
		done <- err
	}()
	stop()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled Receive: %v, want context.Canceled", err)
	}
	if err := s.Send(ctx, []byte("after")); err != nil {
		t.Fatalf("Send: %v", err)
	}
	buf := make([]byte, 10)
	n, err := c.Receive(ctx, buf)
	if err != nil || string(buf[:n]) != "after" {
		t.Fatalf("Receive after a cancelled one: %q, %v; want %q, nil", buf[:n], err, "after")
	}
}

// TestCancelledSendBreaks: a Send cancelled while blocked leaves the stream
// broken, and every later call says so.
func TestCancelledSendBreaks(t *testing.T) {
	ctx := testContext(t)
	c, s := pipePair(t, nil, nil)
	cause := errors.New("send abandoned")
	sctx, stop := context.WithCancelCause(ctx)
	done := make(chan error, 1)
	go func() { done <- c.Send(sctx, make([]byte, 1<<20)) }()
	// Once the server has a byte, the Send is under way; the pipe's
	// buffer is far smaller than 1 MiB, so it then blocks until the
	// cancellation.
	if _, err := s.Receive(ctx, make([]byte, 1)); err != nil {
		t.Fatalf("server Receive: %v", err)
	}
	stop(cause)
	err := <-done
	if !errors.Is(err, context.Canceled) || !errors.Is(err, cause) {
		t.Fatalf("cancelled Send: %v, want context.Canceled with its cause", err)
	}
	for _, tc := range []struct {
		name string
		call func() error
	}{
		{"Send", func() error { return c.Send(ctx, []byte("x")) }},
		{"SendEOF", func() error { return c.SendEOF(ctx) }},
		{"Receive", func() error { _, err := c.Receive(ctx, make([]byte, 1)); return err }},
	} {
		err := tc.call()
		if !errors.Is(err, streams.ErrBroken) || !strings.Contains(err.Error(), "cancelled") || errors.Is(err, context.Canceled) {
			t.Errorf("%s after a cancelled Send: %v; want ErrBroken saying a Send was cancelled, not a cancellation", tc.name, err)
		}
	}
	if err := c.Close(); err != nil {
		t.Errorf("Close of a broken stream: %v, want nil", err)
	}
}

func TestSendCancelledBeforeStartKeepsStream(t *testing.T) {
	ctx := testContext(t)
	c, s := pipePair(t, nil, nil)
	done, stop := context.WithCancel(ctx)
	stop()
	if err := c.Send(done, []byte("lost")); !errors.Is(err, context.Canceled) {
		t.Fatalf("Send with a done ctx: %v, want context.Canceled", err)
	}
	if err := c.Send(ctx, []byte("kept")); err != nil {
		t.Fatalf("Send after: %v, want nil", err)
	}
	buf := make([]byte, 10)
	n, err := s.Receive(ctx, buf)
	if err != nil || string(buf[:n]) != "kept" {
		t.Fatalf("Receive: %q, %v; want %q, nil", buf[:n], err, "kept")
	}
}

// TestClosePrompt: Close returns soon even when the peer reads nothing and
// the transport is full, and wakes a blocked Send.
func TestClosePrompt(t *testing.T) {
	for _, tc := range []struct {
		name      string
		sendAlive bool // a Send is blocked when Close is called
	}{
		{"send blocked", true},
		{"transport full", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := testContext(t)
			c, s := tcpPair(t, nil, nil)
			sctx, stop := context.WithCancel(ctx)
			defer stop()
			done := make(chan error, 1)
			go func() { done <- c.Send(sctx, make([]byte, 64<<20)) }()
			// The server reads one byte, then no more: the Send is under
			// way, and blocks once the socket buffers are full.
			if _, err := s.Receive(ctx, make([]byte, 1)); err != nil {
				t.Fatalf("server Receive: %v", err)
			}
			if !tc.sendAlive {
				// Fill the transport, then end the Send: the stream is
				// broken, and Close has to give up on close_notify.
				stop()
				if err := <-done; !errors.Is(err, context.Canceled) {
					t.Fatalf("Send: %v, want context.Canceled", err)
				}
			}
			start := time.Now()
			if err := c.Close(); err != nil {
				t.Errorf("Close: %v, want nil", err)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("Close took %v; want it prompt", d)
			}
			if tc.sendAlive {
				if err := <-done; !errors.Is(err, streams.ErrClosed) {
					t.Errorf("Send woken by Close: %v, want ErrClosed", err)
				}
			}
		})
	}
}

// fullPipePair is pipePair whose client sends records of the full size
// from the start (crypto/tls otherwise starts with small ones).
func fullPipePair(t *testing.T) (client, server *tlsstream.Stream) {
	scfg, ccfg := configs(t)
	ccfg.DynamicRecordSizingDisabled = true
	a, b := memstream.Pipe()
	return mustPair(t, a, b, ccfg, scfg, nil, nil)
}

// fillPipe sends whole TLS 1.3 records from c until its memstream.Pipe
// has fewer free bytes than a close_notify record needs (24), without
// ever blocking, so the stream stays sound. It returns how many bytes of
// data it sent.
func fillPipe(t *testing.T, ctx context.Context, c *tlsstream.Stream) int {
	t.Helper()
	if v := c.ConnectionState().Version; v != tls.VersionTLS13 {
		t.Fatalf("TLS version %x; the record sizes below are TLS 1.3's", v)
	}
	const overhead = 5 + 1 + 16 // header, inner content type, AEAD tag
	free, sent := memstream.PipeBufferSize, 0
	for free > 10 {
		n := min(16384, free-overhead-10)
		if err := c.Send(ctx, make([]byte, n)); err != nil {
			t.Fatalf("filling the pipe: %v", err)
		}
		free -= n + overhead
		sent += n
	}
	return sent
}

// TestCloseNotifyWhenPeerNotReading: Close waits a little (100 ms, in a
// synctest bubble's fake time) for its close_notify when the transport is
// full, then closes anyway.
func TestCloseNotifyWhenPeerNotReading(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := t.Context()
		c, s := fullPipePair(t)
		sent := fillPipe(t, ctx, c)
		start := time.Now()
		if err := c.Close(); err != nil {
			t.Errorf("Close: %v, want nil", err)
		}
		if d := time.Since(start); d != 100*time.Millisecond {
			t.Errorf("Close took %v; want it to wait 100ms for the close_notify", d)
		}
		// The server gets the data, then a broken stream: no close_notify.
		got, err := receiveAll(ctx, s)
		if len(got) != sent || !errors.Is(err, streams.ErrBroken) {
			t.Errorf("server received %d bytes, %v; want %d bytes, ErrBroken", len(got), err, sent)
		}
	})
}

// TestSendEOFCancelled: a close_notify that cannot be written is
// cancellable, and leaves the stream broken.
func TestSendEOFCancelled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := t.Context()
		c, _ := fullPipePair(t)
		fillPipe(t, ctx, c)
		sctx, stop := context.WithTimeout(ctx, time.Second)
		defer stop()
		if err := c.SendEOF(sctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("SendEOF on a full transport: %v, want context.DeadlineExceeded", err)
		}
		if err := c.Send(ctx, []byte("x")); !errors.Is(err, streams.ErrBroken) || !strings.Contains(err.Error(), "SendEOF") {
			t.Errorf("Send after: %v, want ErrBroken naming SendEOF", err)
		}
	})
}

func TestConcurrentSendAndReceive(t *testing.T) {
	ctx := testContext(t)
	c, s := tcpPair(t, nil, nil)
	const n = 1 << 20
	want := bytes.Repeat([]byte("0123456789abcdef"), n/16)
	for _, st := range []*tlsstream.Stream{c, s} {
		go func() { st.Send(ctx, want); st.SendEOF(ctx) }()
	}
	for _, st := range []*tlsstream.Stream{c, s} {
		got, err := receiveAll(ctx, st)
		if err != io.EOF || !bytes.Equal(got, want) {
			t.Fatalf("received %d bytes, %v; want %d bytes, io.EOF", len(got), err, len(want))
		}
	}
}

func TestMisuse(t *testing.T) {
	scfg, _ := configs(t)
	a, b := memstream.Pipe()
	defer a.Close()
	defer b.Close()
	for _, tc := range []struct {
		name string
		call func()
		want string
	}{
		{"nil stream", func() { tlsstream.Client(context.Background(), nil, scfg) }, "nil stream"},
		{"nil config", func() { tlsstream.Server(context.Background(), b, nil) }, "nil *tls.Config"},
		{"negative timeout", func() { tlsstream.HandshakeTimeout(-1) }, "HandshakeTimeout"},
		{"nil OnError", func() { tlsstream.OnError(nil) }, "OnError"},
		{"nil listener", func() { tlsstream.NewListener[streams.ByteStream](nil, scfg) }, "nil listener"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				r := recover()
				if s, _ := r.(string); !strings.HasPrefix(s, "tlsstream: ") || !strings.Contains(s, tc.want) {
					t.Errorf("panic %v; want a \"tlsstream: \" message naming %q", r, tc.want)
				}
			}()
			tc.call()
		})
	}
}

func TestEmptyReceive(t *testing.T) {
	c, _ := pipePair(t, nil, nil)
	if _, err := c.Receive(testContext(t), nil); !errors.Is(err, io.ErrShortBuffer) {
		t.Fatalf("Receive(nil): %v, want io.ErrShortBuffer", err)
	}
}

func TestZeroOption(t *testing.T) {
	c, s := pipePair(t, []tlsstream.Option{{}}, []tlsstream.Option{{}})
	if c == nil || s == nil {
		t.Fatal("a zero Option stopped the handshake")
	}
}

func TestClientNeedsServerName(t *testing.T) {
	a, b := memstream.Pipe()
	defer b.Close()
	_, err := tlsstream.Client(testContext(t), a, &tls.Config{})
	if err == nil || !strings.Contains(err.Error(), "ServerName") {
		t.Fatalf("Client without ServerName: %v, want an error naming ServerName", err)
	}
	if err := a.Send(testContext(t), []byte("x")); !errors.Is(err, streams.ErrClosed) {
		t.Errorf("Send on the transport after the failure: %v, want ErrClosed", err)
	}
}
