package streamtest_test

import (
	"net"
	"os"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tether-go/tether/streams"
	"github.com/tether-go/tether/streams/streamtest"
)

// The suite on correct streams: every check must pass (or, for a stream
// that cannot half-close, skip the half-close check).

func TestByteStreamMemoryPipe(t *testing.T) {
	streamtest.TestByteStream(t, func(t *testing.T) (a, b streams.ByteStream) {
		return newPipe(byteFaults{})
	})
}

// newConnPipe returns streams.FromConn over net.Pipe: unbuffered and
// synchronous (every Send waits for the peer's Receive), and unable to
// half-close, so the suite skips that check.
func newConnPipe() (a, b streams.ByteStream) {
	c1, c2 := net.Pipe()
	return streams.FromConn(c1), streams.FromConn(c2)
}

func TestByteStreamFromConnNetPipe(t *testing.T) {
	streamtest.TestByteStream(t, func(t *testing.T) (a, b streams.ByteStream) {
		return newConnPipe()
	})
}

// record is a struct type of the kind an application sends: its fields
// are exported, so testing/quick can fill them.
type record struct {
	ID    int
	Name  string
	Tags  []string
	Attrs map[string]float64
	Next  *record
}

func TestObjectStreamQueue(t *testing.T) {
	for _, tc := range []struct {
		name     string
		capacity int
	}{
		{"rendezvous", 0},
		{"buffered", 4},
		{"unbounded", unbounded},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Run("int", func(t *testing.T) { testQueue[int](t, tc.capacity) })
			t.Run("record", func(t *testing.T) { testQueue[record](t, tc.capacity) })
		})
	}
	t.Run("more types", func(t *testing.T) {
		t.Run("string", func(t *testing.T) { testQueue[string](t, 1) })
		t.Run("pointer", func(t *testing.T) { testQueue[*int](t, 1) })
		t.Run("bytes", func(t *testing.T) { testQueue[[]byte](t, 1) })
		t.Run("any", func(t *testing.T) { testQueue[any](t, 1) })
		t.Run("bool", func(t *testing.T) { testQueue[bool](t, 1) })
	})
}

func testQueue[T any](t *testing.T, capacity int) {
	streamtest.TestObjectStream(t, func(t *testing.T) (streams.ObjectSender[T], streams.ObjectReceiver[T]) {
		return newQueue[T](capacity, objectFaults{})
	})
}

// TestChecksPassInBubble runs every check on the correct streams inside a
// synctest bubble, where time is fake and a goroutine blocked for good is
// detected: the checks must pass there too, and leave no goroutine behind.
func TestChecksPassInBubble(t *testing.T) {
	for _, name := range streamtest.ByteCheckNames() {
		t.Run("bytes/"+name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				r := streamtest.RunByteCheck(t, name, 10*time.Second, func(t *testing.T) (a, b streams.ByteStream) {
					return newPipe(byteFaults{})
				})
				if r.Failed || r.Skipped {
					t.Errorf("check %s on a correct pipe: failed=%v skipped=%v, want a pass; it reported:\n%s",
						name, r.Failed, r.Skipped, strings.Join(r.Messages, "\n"))
				}
			})
		})
	}
	for _, name := range streamtest.ObjectCheckNames() {
		for _, capacity := range []int{0, 1, unbounded} {
			t.Run("objects/"+name, func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					r := streamtest.RunObjectCheck(t, name, 10*time.Second, func(t *testing.T) (streams.ObjectSender[int], streams.ObjectReceiver[int]) {
						return newQueue[int](capacity, objectFaults{})
					})
					if r.Failed || r.Skipped {
						t.Errorf("check %s on a correct queue of capacity %d: failed=%v skipped=%v, want a pass; it reported:\n%s",
							name, capacity, r.Failed, r.Skipped, strings.Join(r.Messages, "\n"))
					}
				})
			})
		}
	}
}

// TestHalfCloseSkipped checks that a stream whose SendEOF is unsupported
// skips the half-close check rather than failing it.
func TestHalfCloseSkipped(t *testing.T) {
	r := streamtest.RunByteCheck(t, "HalfClose", 10*time.Second, func(t *testing.T) (a, b streams.ByteStream) {
		return newConnPipe()
	})
	if r.Failed || !r.Skipped {
		t.Errorf("HalfClose on FromConn(net.Pipe()): failed=%v skipped=%v, want skipped; it reported:\n%s",
			r.Failed, r.Skipped, strings.Join(r.Messages, "\n"))
	}
}

// TestCheckNamesDocumented checks that the doc comments of TestByteStream
// and TestObjectStream list exactly their subtests, so that -run patterns
// can be written from the documentation.
func TestCheckNamesDocumented(t *testing.T) {
	for _, tc := range []struct {
		name  string
		file  string
		names []string
	}{
		{"TestByteStream", "bytestream.go", streamtest.ByteCheckNames()},
		{"TestObjectStream", "objectstream.go", streamtest.ObjectCheckNames()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src, err := os.ReadFile(tc.file)
			if err != nil {
				t.Fatal(err)
			}
			documented := subtestsParagraph(string(src))
			slices.Sort(documented)
			names := slices.Sorted(slices.Values(tc.names))
			if !slices.Equal(documented, names) {
				t.Errorf("doc comment of %s lists subtests\n%v\nwant\n%v", tc.name, documented, names)
			}
		})
	}
}

// subtestsParagraph returns the names listed after "// The subtests:" in
// src, up to the end of that sentence, without parenthesised remarks.
func subtestsParagraph(src string) []string {
	_, after, ok := strings.Cut(src, "// The subtests:")
	if !ok {
		return nil
	}
	text, _, _ := strings.Cut(strings.ReplaceAll(after, "\n//", ""), ".\n")
	for {
		open, rest, ok := strings.Cut(text, "(")
		if !ok {
			break
		}
		_, rest, _ = strings.Cut(rest, ")")
		text = open + rest
	}
	var names []string
	for _, f := range strings.FieldsFunc(text, func(r rune) bool { return r == ',' || r == ' ' }) {
		if f != "and" {
			names = append(names, f)
		}
	}
	return names
}
