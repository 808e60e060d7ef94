package tlsstream_test

import (
	"flag"
	"testing"

	"go.uber.org/goleak"
)

// netConnSkip names the subtests of nettest.TestConn that no TLS stream
// can pass, tls.Conn over a net.Conn included: each goes on writing after
// a write was interrupted by its deadline, which leaves crypto/tls's
// record layer corrupt (crypto/tls documents it), so that this package
// breaks the stream on purpose (see Stream.Send). TestCancelledSendBreaks
// checks that behaviour instead.
const netConnSkip = `^TestNetConn$/^(RacyWrite|FutureTimeout|ConcurrentMethods)$`

func TestMain(m *testing.M) {
	flag.Parse()
	if f := flag.Lookup("test.skip"); f != nil && f.Value.String() == "" {
		f.Value.Set(netConnSkip)
	}
	goleak.VerifyTestMain(m)
}
