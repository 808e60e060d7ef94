package memstream_test

import (
	"fmt"
	"net"
	"testing"

	"golang.org/x/net/nettest"

	"github.com/tether-go/tether/memstream"
	"github.com/tether-go/tether/streams"
	"github.com/tether-go/tether/streams/streamtest"
)

// The conformance suite, run on every stream this package makes.

func TestPipeConformance(t *testing.T) {
	streamtest.TestByteStream(t, func(t *testing.T) (a, b streams.ByteStream) {
		return memstream.Pipe()
	})
}

func TestListenerConnConformance(t *testing.T) {
	streamtest.TestByteStream(t, func(t *testing.T) (a, b streams.ByteStream) {
		l := memstream.Listen()
		t.Cleanup(func() { l.Close() })
		accepted := make(chan streams.ByteStream, 1)
		go func() {
			c, err := l.Accept(t.Context())
			if err != nil {
				t.Errorf("Accept: %v", err)
			}
			accepted <- c
		}()
		c, err := l.Dial(t.Context())
		if err != nil {
			t.Fatalf("Dial: %v", err)
		}
		s := <-accepted
		if s == nil {
			t.FailNow()
		}
		return c, s
	})
}

func TestObjectStreamConformance(t *testing.T) {
	for _, capacity := range []int{0, 1, 16, memstream.Unbounded} {
		t.Run(fmt.Sprintf("capacity=%d", capacity), func(t *testing.T) {
			streamtest.TestObjectStream(t, func(t *testing.T) (streams.ObjectSender[int], streams.ObjectReceiver[int]) {
				return memstream.New[int](capacity)
			})
		})
		t.Run(fmt.Sprintf("capacity=%d/struct", capacity), func(t *testing.T) {
			type item struct {
				N    int
				Name string
				Tags []string
			}
			streamtest.TestObjectStream(t, func(t *testing.T) (streams.ObjectSender[item], streams.ObjectReceiver[item]) {
				return memstream.New[item](capacity)
			})
		})
	}
}

// TestPipeNetConn runs x/net's net.Conn conformance tests on the pipe seen
// through streams.AsConn, as crypto/tls and net/http would see it.
func TestPipeNetConn(t *testing.T) {
	nettest.TestConn(t, func() (c1, c2 net.Conn, stop func(), err error) {
		a, b := memstream.Pipe()
		c1, c2 = streams.AsConn(a), streams.AsConn(b)
		stop = func() {
			c1.Close()
			c2.Close()
		}
		return c1, c2, stop, nil
	})
}
