package tlstest_test

import (
	"crypto/tls"
	"fmt"
	"net"
	"testing"

	"github.com/tether-go/tether/streams/tlsstream/tlstest"
)

// A CA, a server certificate for localhost, and a client that trusts it,
// over net.Pipe.
func Example() {
	t := &testing.T{} // in a test, its own t
	ca := tlstest.NewCA(t)
	a, b := net.Pipe()
	server := tls.Server(b, ca.ServerConfig(t, "localhost", "127.0.0.1"))
	client := tls.Client(a, ca.ClientConfig("localhost"))
	done := make(chan error, 1)
	go func() { done <- server.Handshake() }()
	err := client.Handshake()
	fmt.Println("client:", err, "server:", <-done)
	fmt.Println("verified chain length:", len(client.ConnectionState().VerifiedChains[0]))
	// Close the pipe itself: tls.Conn's Close would wait (up to 5 s) for
	// a peer that reads its close_notify, and net.Pipe has no buffer.
	a.Close()
	b.Close()
	// Output:
	// client: <nil> server: <nil>
	// verified chain length: 2
}
