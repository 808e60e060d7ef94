package streams_test

import (
	"context"
	"net"
	"testing"

	"github.com/tether-go/tether/streams"
)

// attributed is an ObjectReceiver and ObjectSender of strings with
// attributes.
type attributed struct {
	objects
	attrs map[any]any
}

func (a *attributed) Attribute(key any) (any, bool) {
	v, ok := a.attrs[key]
	return v, ok
}

// TestWrappersUnwrap: every wrapper returns what it wraps from Unwrap, and
// Extra answers the attributes of what it wraps through it.
func TestWrappersUnwrap(t *testing.T) {
	inner := newFakeStream("inner", nil)
	inner.attrs = map[any]any{keyName: "inner"}
	buffered := streams.NewBuffered(inner)
	objs := &attributed{attrs: map[any]any{keyName: "inner"}}
	ctx := context.Background()
	tests := []struct {
		name    string
		wrapper any
		want    []any // what Unwrap returns
	}{
		{name: "Staple", wrapper: streams.Staple(inner, buffered), want: []any{inner, buffered}},
		{name: "StapleObjects", wrapper: streams.StapleObjects[string](objs, &objects{}), want: []any{objs, &objects{}}},
		{name: "Buffered", wrapper: buffered, want: []any{inner}},
		{name: "Text", wrapper: streams.NewText(inner), want: []any{inner}},
		{name: "TextReceiver", wrapper: streams.NewTextReceiver(inner), want: []any{inner}},
		{name: "TextSender", wrapper: streams.NewTextSender(inner), want: []any{inner}},
		{name: "Reader", wrapper: streams.Reader(ctx, inner), want: []any{inner}},
		{name: "Writer", wrapper: streams.Writer(ctx, inner), want: []any{inner}},
		{name: "AsConn", wrapper: streams.AsConn(inner), want: []any{inner}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := unwrapOnce(tt.wrapper)
			if len(got) != len(tt.want) {
				t.Fatalf("Unwrap() = %v, want %v", got, tt.want)
			}
			for i := range got {
				if _, isObjects := tt.want[i].(*objects); isObjects {
					if _, ok := got[i].(*objects); !ok {
						t.Errorf("Unwrap()[%d] = %T, want *objects", i, got[i])
					}
					continue
				}
				if got[i] != tt.want[i] {
					t.Errorf("Unwrap()[%d] = %v, want %v", i, got[i], tt.want[i])
				}
			}
			if v, ok := streams.Extra(tt.wrapper, keyName); !ok || v != "inner" {
				t.Errorf("Extra(name) = %q, %v; want %q, true", v, ok, "inner")
			}
		})
	}
}

// unwrapOnce calls the Unwrap method of w, whatever its shape, and returns
// what it wraps, or nil if it has no Unwrap method.
func unwrapOnce(w any) []any {
	switch u := w.(type) {
	case interface{ Unwrap() streams.ByteStream }:
		return []any{u.Unwrap()}
	case interface{ Unwrap() streams.ByteReceiver }:
		return []any{u.Unwrap()}
	case interface{ Unwrap() streams.ByteSender }:
		return []any{u.Unwrap()}
	case interface{ Unwrap() []any }:
		return u.Unwrap()
	}
	return nil
}

// overlay wraps a stream and answers some keys itself.
type overlay struct {
	streams.ByteStream
	attrs map[any]any
}

func (o *overlay) Unwrap() streams.ByteStream { return o.ByteStream }

func (o *overlay) Attribute(key any) (any, bool) {
	v, ok := o.attrs[key]
	return v, ok
}

// anyWrapper and connWrapper have the other Unwrap shapes that Extra knows.
type anyWrapper struct{ inner any }

func (w anyWrapper) Unwrap() any { return w.inner }

type connWrapper struct{ net.Conn }

func (w connWrapper) Unwrap() net.Conn { return w.Conn }

// TestExtraChain: how Extra walks down an Unwrap chain.
func TestExtraChain(t *testing.T) {
	inner := newFakeStream("inner", nil)
	inner.attrs = map[any]any{keyName: "inner", keyCount: 7}
	other := newFakeStream("other", nil)
	other.attrs = map[any]any{keyCount: 9}
	wrongType := newFakeStream("wrong", nil)
	wrongType.attrs = map[any]any{keyName: 42}
	tests := []struct {
		name      string
		s         any
		wantName  string
		wantOK    bool
		wantCount int
	}{
		{name: "AsConn of Staple of Buffered",
			s:        streams.AsConn(streams.Staple(inner, streams.NewBuffered(inner))),
			wantName: "inner", wantOK: true, wantCount: 7},
		{name: "Reader of Buffered of Text's stream",
			s:        streams.Reader(context.Background(), streams.NewBuffered(streams.NewText(inner).Unwrap())),
			wantName: "inner", wantOK: true, wantCount: 7},
		{name: "the outer answer wins, the rest comes from below",
			s:        streams.NewBuffered(&overlay{ByteStream: inner, attrs: map[any]any{keyName: "outer"}}),
			wantName: "outer", wantOK: true, wantCount: 7},
		{name: "Staple asks the send side first, then the receive side",
			s:        streams.Staple(other, inner),
			wantName: "inner", wantOK: true, wantCount: 9},
		{name: "Unwrap() any", s: anyWrapper{inner}, wantName: "inner", wantOK: true, wantCount: 7},
		{name: "Unwrap() net.Conn", s: connWrapper{streams.AsConn(inner)}, wantName: "inner", wantOK: true, wantCount: 7},
		{name: "Unwrap() returns nil", s: anyWrapper{nil}},
		{name: "no Unwrap, no attributes", s: newChunked()},
		{name: "nil", s: nil},
		{name: "a value of the wrong type", s: wrongType},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name, ok := streams.Extra(tt.s, keyName)
			if name != tt.wantName || ok != tt.wantOK {
				t.Errorf("Extra(name) = %q, %v; want %q, %v", name, ok, tt.wantName, tt.wantOK)
			}
			if count, _ := streams.Extra(tt.s, keyCount); count != tt.wantCount {
				t.Errorf("Extra(count) = %d, want %d", count, tt.wantCount)
			}
			if _, ok := streams.Extra(tt.s, streams.Attr[string]{}); ok {
				t.Error("Extra(zero key): ok = true, want false")
			}
		})
	}
}

// addrStream has LocalAddr and RemoteAddr methods, and no attributes.
type addrStream struct {
	streams.ByteStream
	local, remote net.Addr
}

func (s *addrStream) LocalAddr() net.Addr  { return s.local }
func (s *addrStream) RemoteAddr() net.Addr { return s.remote }

// TestAsConnAddrThroughWrappers: AsConn finds the addresses down the
// Unwrap chain, from the attributes or from LocalAddr and RemoteAddr
// methods.
func TestAsConnAddrThroughWrappers(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	conn := streams.FromConn(c)

	local := &net.UnixAddr{Name: "/tmp/local.sock", Net: "unix"}
	remote := &net.UnixAddr{Name: "/tmp/remote.sock", Net: "unix"}
	byMethod := &addrStream{ByteStream: newFakeStream("m", nil), local: local, remote: remote}
	byAttr := newFakeStream("a", nil)
	byAttr.attrs = map[any]any{streams.LocalAddr: net.Addr(local), streams.RemoteAddr: net.Addr(remote)}

	tests := []struct {
		name          string
		s             streams.ByteStream
		local, remote string
	}{
		{name: "Staple(conn, NewBuffered(conn))", s: streams.Staple(conn, streams.NewBuffered(conn)),
			local: c.LocalAddr().String(), remote: c.RemoteAddr().String()},
		{name: "methods, below a Staple", s: streams.Staple(byMethod, streams.NewBuffered(byMethod)),
			local: local.String(), remote: remote.String()},
		{name: "attributes, below a Staple", s: streams.Staple(byAttr, streams.NewBuffered(byAttr)),
			local: local.String(), remote: remote.String()},
		{name: "none", s: newFakeStream("none", nil), local: "stream", remote: "stream"},
		{name: "a placeholder below is no answer", s: streams.FromConn(streams.AsConn(newFakeStream("p", nil))),
			local: "stream", remote: "stream"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ac := streams.AsConn(tt.s)
			if got := ac.LocalAddr().String(); got != tt.local {
				t.Errorf("LocalAddr() = %s, want %s", got, tt.local)
			}
			if got := ac.RemoteAddr().String(); got != tt.remote {
				t.Errorf("RemoteAddr() = %s, want %s", got, tt.remote)
			}
			if a, ok := streams.Extra(ac, streams.LocalAddr); ok && a.String() != tt.local {
				t.Errorf("Extra(AsConn, LocalAddr) = %s, want %s", a, tt.local)
			}
		})
	}
}

// TestExtraAllocatesNothing: walking a chain costs no allocation, but
// for the slice that an Unwrap() []any returns (Staple's).
func TestExtraAllocatesNothing(t *testing.T) {
	inner := newFakeStream("inner", nil)
	inner.attrs = map[any]any{keyCount: 7}
	overlaid := &overlay{ByteStream: inner}
	for _, tt := range []struct {
		name string
		s    any
		want float64
	}{
		{name: "Reader of Buffered of a wrapper", s: streams.Reader(context.Background(), streams.NewBuffered(overlaid)), want: 0},
		{name: "AsConn of Staple", s: streams.AsConn(streams.Staple(sendOnly{}, overlaid)), want: 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			allocs := testing.AllocsPerRun(100, func() {
				if n, ok := streams.Extra(tt.s, keyCount); !ok || n != 7 {
					t.Fatalf("Extra = %d, %v; want 7, true", n, ok)
				}
			})
			if allocs != tt.want {
				t.Errorf("Extra: %v allocations, want %v", allocs, tt.want)
			}
		})
	}
}
