// Package tlstest makes certificates for tests of TLS code: a small
// certificate authority, made fresh in memory for each test, and leaf
// certificates that it signs for loopback names. Nothing is ever written
// to the source tree; write the PEM forms to t.TempDir() when a program
// such as openssl needs files.
//
// Keys are ECDSA P-256: a CA and a leaf cost well under a millisecond each.
// Certificates are valid from an hour ago to a day from now.
//
//	ca := tlstest.NewCA(t)
//	serverCfg := ca.ServerConfig(t, "localhost", "127.0.0.1")
//	clientCfg := ca.ClientConfig("localhost")
package tlstest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"testing"
	"time"
)

// CA is a certificate authority for one test. Make one with [NewCA]; the
// zero value is not usable. Its methods are safe for concurrent use.
type CA struct {
	// Certificate is the CA's self-signed certificate.
	Certificate *x509.Certificate
	key         *ecdsa.PrivateKey
}

// Cert is a leaf certificate signed by a [CA], in the forms that Go and
// other programs want.
type Cert struct {
	// TLS is the certificate and its key, for tls.Config.Certificates.
	TLS tls.Certificate
	// CertPEM is the leaf certificate, PEM-encoded.
	CertPEM []byte
	// KeyPEM is the private key, PEM-encoded (PKCS #8).
	KeyPEM []byte
}

// NewCA makes a new certificate authority, or fails tb.
func NewCA(tb testing.TB) *CA {
	tb.Helper()
	key := newKey(tb)
	tmpl := &x509.Certificate{
		SerialNumber:          serial(tb),
		Subject:               pkix.Name{CommonName: "tlstest CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		tb.Fatalf("tlstest: creating the CA certificate: %v", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		tb.Fatalf("tlstest: parsing the CA certificate: %v", err)
	}
	return &CA{Certificate: cert, key: key}
}

// Pool returns a pool that holds the CA's certificate only, for
// tls.Config.RootCAs (or ClientCAs).
func (ca *CA) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.Certificate)
	return p
}

// PEM returns the CA's certificate, PEM-encoded (openssl's -CAfile).
func (ca *CA) PEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Certificate.Raw})
}

// Issue makes a leaf certificate for hosts, each a DNS name or an IP
// address, usable by servers and clients alike, or fails tb. The first
// host is also the certificate's common name.
func (ca *CA) Issue(tb testing.TB, hosts ...string) *Cert {
	tb.Helper()
	key := newKey(tb)
	tmpl := &x509.Certificate{
		SerialNumber: serial(tb),
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	for i, h := range hosts {
		if i == 0 {
			tmpl.Subject.CommonName = h
		}
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Certificate, &key.PublicKey, ca.key)
	if err != nil {
		tb.Fatalf("tlstest: creating a certificate for %q: %v", hosts, err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		tb.Fatalf("tlstest: parsing the certificate for %q: %v", hosts, err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		tb.Fatalf("tlstest: encoding a key: %v", err)
	}
	return &Cert{
		TLS:     tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf},
		CertPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		KeyPEM:  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}),
	}
}

// ServerConfig returns a server configuration with a certificate that
// the CA issued for hosts, or fails tb.
func (ca *CA) ServerConfig(tb testing.TB, hosts ...string) *tls.Config {
	tb.Helper()
	return &tls.Config{Certificates: []tls.Certificate{ca.Issue(tb, hosts...).TLS}}
}

// ClientConfig returns a client configuration that trusts the CA only and
// expects serverName.
func (ca *CA) ClientConfig(serverName string) *tls.Config {
	return &tls.Config{RootCAs: ca.Pool(), ServerName: serverName}
}

func newKey(tb testing.TB) *ecdsa.PrivateKey {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatalf("tlstest: generating a key: %v", err)
	}
	return key
}

func serial(tb testing.TB) *big.Int {
	tb.Helper()
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		tb.Fatalf("tlstest: generating a serial number: %v", err)
	}
	return n
}
