package tlstest_test

import (
	"crypto/x509"
	"encoding/pem"
	"net"
	"testing"

	"github.com/tether-go/tether/streams/tlsstream/tlstest"
)

func TestIssue(t *testing.T) {
	ca := tlstest.NewCA(t)
	leaf := ca.Issue(t, "localhost", "127.0.0.1", "::1")
	for _, tc := range []struct {
		name string
		host string
		ok   bool
	}{
		{"DNS name", "localhost", true},
		{"IPv4", "127.0.0.1", true},
		{"IPv6", "::1", true},
		{"other name", "example.com", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := leaf.TLS.Leaf.Verify(x509.VerifyOptions{DNSName: tc.host, Roots: ca.Pool()})
			if (err == nil) != tc.ok {
				t.Errorf("Verify(%q) = %v, want ok %v", tc.host, err, tc.ok)
			}
		})
	}
	if ip := net.ParseIP("127.0.0.1"); !leaf.TLS.Leaf.IPAddresses[0].Equal(ip) {
		t.Errorf("IP SAN %v, want %v", leaf.TLS.Leaf.IPAddresses[0], ip)
	}
	for name, data := range map[string][]byte{"CA": ca.PEM(), "cert": leaf.CertPEM, "key": leaf.KeyPEM} {
		if b, _ := pem.Decode(data); b == nil {
			t.Errorf("%s PEM does not decode", name)
		}
	}
	if other := tlstest.NewCA(t); other.Certificate.Equal(ca.Certificate) {
		t.Errorf("two CAs are the same")
	}
}
