package streamtest_test

import (
	"net"
	"testing"

	"github.com/tether-go/tether/memstream"
	"github.com/tether-go/tether/streams"
	"github.com/tether-go/tether/streams/streamtest"
)

// In the tests of a package that implements a stream, one function per
// implementation runs the whole suite; go test -run selects single checks
// by name, such as TestConnStream/HalfClose.
func testConnStream(t *testing.T) {
	streamtest.TestByteStream(t, func(t *testing.T) (a, b streams.ByteStream) {
		c1, c2 := net.Pipe()
		return streams.FromConn(c1), streams.FromConn(c2)
	})
}

// An object stream passes a sender and the receiver it feeds; the type
// argument chooses the values sent (here made by testing/quick).
func testMemstream(t *testing.T) {
	streamtest.TestObjectStream(t, func(t *testing.T) (streams.ObjectSender[string], streams.ObjectReceiver[string]) {
		s, r := memstream.New[string](4)
		return s, r
	})
}

// Example shows how an implementation runs the suite from its own tests
// (in a _test.go file, as TestConnStream and TestMemstream). The suite
// needs a *testing.T, so this example is compiled but not run.
func Example() {
	_, _ = testConnStream, testMemstream
}
