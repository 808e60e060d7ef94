package selfsigned_test

import (
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"testing"

	"github.com/tether-go/tether/examples/internal/selfsigned"
)

// TestGenerate checks that the certificate verifies, against its own pool,
// for every host it names, and for no other.
func TestGenerate(t *testing.T) {
	pair, err := selfsigned.Generate()
	if err != nil {
		t.Fatal(err)
	}
	tc, err := pair.Certificate()
	if err != nil {
		t.Fatalf("Certificate() = %v, want a usable key pair", err)
	}
	cert, err := x509.ParseCertificate(tc.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		host string
		ok   bool
	}{
		{name: "dns name", host: "localhost", ok: true},
		{name: "ipv4 loopback", host: "127.0.0.1", ok: true},
		{name: "ipv6 loopback", host: "::1", ok: true},
		{name: "another name", host: "example.com", ok: false},
		{name: "another address", host: "127.0.0.2", ok: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := cert.Verify(x509.VerifyOptions{DNSName: tt.host, Roots: pair.Pool()})
			if got := err == nil; got != tt.ok {
				t.Errorf("Verify for %q: got err=%v, want ok=%v", tt.host, err, tt.ok)
			}
		})
	}
}

func TestWriteFiles(t *testing.T) {
	pair, err := selfsigned.Generate()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := pair.WriteFiles(certFile, keyFile); err != nil {
		t.Fatal(err)
	}
	for _, f := range []struct {
		path      string
		blockType string
		perm      os.FileMode
	}{
		{certFile, "CERTIFICATE", 0o644},
		{keyFile, "PRIVATE KEY", 0o600},
	} {
		data, err := os.ReadFile(f.path)
		if err != nil {
			t.Fatal(err)
		}
		if b, _ := pem.Decode(data); b == nil || b.Type != f.blockType {
			t.Errorf("%s: got %q, want a PEM block of type %q", f.path, data, f.blockType)
		}
		fi, err := os.Stat(f.path)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got&^f.perm != 0 {
			t.Errorf("%s: got permissions %v, want at most %v", f.path, got, f.perm)
		}
	}
}
