package tlsstream_test

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tether-go/tether/streams"
	"github.com/tether-go/tether/streams/tlsstream"
	"github.com/tether-go/tether/streams/tlsstream/tlstest"
)

// openssl returns the path of the openssl program, or skips the test
// (fails it when TETHER_REQUIRE_PEERS=1, as in CI).
func openssl(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("openssl")
	if err != nil {
		if os.Getenv("TETHER_REQUIRE_PEERS") == "1" {
			t.Fatalf("openssl is required (TETHER_REQUIRE_PEERS=1) but not found: install it with apt-get install openssl")
		}
		t.Skipf("openssl not found (%v): apt-get install openssl to run this test", err)
	}
	return path
}

// writePEM writes the CA and a leaf for localhost and 127.0.0.1 to files
// in a temporary directory, and returns their paths.
func writePEM(t *testing.T, ca *tlstest.CA) (caFile, certFile, keyFile string) {
	t.Helper()
	dir := t.TempDir()
	leaf := ca.Issue(t, "localhost", "127.0.0.1")
	caFile, certFile, keyFile = filepath.Join(dir, "ca.pem"), filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	for name, data := range map[string][]byte{caFile: ca.PEM(), certFile: leaf.CertPEM, keyFile: leaf.KeyPEM} {
		if err := os.WriteFile(name, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return caFile, certFile, keyFile
}

// freePort returns a loopback port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startSServer starts openssl s_server on a free loopback port, retrying
// on another port if that one was taken meanwhile, waits until it accepts
// connections, and kills it at the end of the test.
func startSServer(t *testing.T, bin, certFile, keyFile string, args ...string) int {
	t.Helper()
	for attempt := range 5 {
		port := freePort(t)
		var stderr bytes.Buffer
		cmd := exec.Command(bin, append([]string{"s_server", "-accept", "127.0.0.1:" + strconv.Itoa(port),
			"-cert", certFile, "-key", keyFile, "-quiet"}, args...)...)
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatalf("starting openssl s_server: %v", err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		stop := func() {
			cmd.Process.Kill()
			<-exited
		}
		// Poll until it listens, for at most 10 s.
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) {
			select {
			case err := <-exited:
				if attempt < 4 && strings.Contains(stderr.String(), "in use") {
					goto retry
				}
				t.Fatalf("openssl s_server exited: %v\n%s", err, stderr.String())
			default:
			}
			if c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), time.Second); err == nil {
				c.Close()
				t.Cleanup(stop)
				return port
			}
			time.Sleep(10 * time.Millisecond) // polling a process, not synchronising goroutines
		}
		stop()
		t.Fatalf("openssl s_server did not listen on port %d within 10 s\n%s", port, stderr.String())
	retry:
	}
	t.Fatal("openssl s_server: no free port after 5 attempts")
	return 0
}

// TestOpenSSLServer: a tether client talks to openssl s_server.
func TestOpenSSLServer(t *testing.T) {
	bin := openssl(t)
	ca := tlstest.NewCA(t)
	_, certFile, keyFile := writePEM(t, ca)
	port := startSServer(t, bin, certFile, keyFile, "-rev")
	for _, tc := range []struct {
		name    string
		version uint16
	}{
		{"TLS 1.3", 0x0304},
		{"TLS 1.2", 0x0303},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := testContext(t)
			conn, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(port))
			if err != nil {
				t.Fatal(err)
			}
			cfg := ca.ClientConfig("localhost")
			cfg.MaxVersion = tc.version
			c, err := tlsstream.Client(ctx, streams.FromConn(conn), cfg)
			if err != nil {
				t.Fatalf("Client: %v", err)
			}
			defer c.Close()
			if v := c.ConnectionState().Version; v != tc.version {
				t.Errorf("negotiated version %x, want %x", v, tc.version)
			}
			if err := c.Send(ctx, []byte("hello tether\n")); err != nil {
				t.Fatalf("Send: %v", err)
			}
			b := streams.NewBuffered(c)
			line, err := b.ReceiveUntil(ctx, []byte("\n"), 1024)
			if err != nil || string(line) != "rehtet olleh" {
				t.Fatalf("reply %q, %v; want %q", line, err, "rehtet olleh")
			}
		})
	}
}

// TestOpenSSLClient: openssl s_client talks to a tether server, verifies
// its certificate, and sees its close_notify.
func TestOpenSSLClient(t *testing.T) {
	bin := openssl(t)
	ca := tlstest.NewCA(t)
	caFile, _, _ := writePEM(t, ca)
	scfg := ca.ServerConfig(t, "localhost")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	ctx := testContext(t)
	served := make(chan error, 1)
	go func() {
		served <- func() error {
			conn, err := l.Accept()
			if err != nil {
				return err
			}
			s, err := tlsstream.Server(ctx, streams.FromConn(conn), scfg)
			if err != nil {
				return err
			}
			defer s.Close()
			line, err := streams.NewBuffered(s).ReceiveUntil(ctx, []byte("\n"), 1024)
			if err != nil {
				return fmt.Errorf("receiving the request: %w", err)
			}
			return s.Send(ctx, []byte(strings.ToUpper(string(line))+"\n"))
		}()
	}()
	cmd := exec.CommandContext(ctx, bin, "s_client", "-connect", l.Addr().String(),
		"-servername", "localhost", "-verify_hostname", "localhost", "-CAfile", caFile,
		"-verify_return_error", "-quiet")
	cmd.Stdin = strings.NewReader("hello openssl\n")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	if err := <-served; err != nil {
		t.Errorf("server: %v", err)
	}
	if runErr != nil {
		t.Fatalf("openssl s_client: %v\n%s", runErr, stderr.String())
	}
	if got := stdout.String(); got != "HELLO OPENSSL\n" {
		t.Errorf("s_client printed %q, want %q", got, "HELLO OPENSSL\n")
	}
}
