package streams_test

import (
	"context"
	"io"
	"net"
	"slices"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/tether-go/tether/cancel"
	"github.com/tether-go/tether/streams"
	"github.com/tether-go/tether/taskgroup"
)

// chanListener accepts the connections queued in conns, in order.
type chanListener[T any] struct {
	conns  chan T
	closed chan struct{}
	once   sync.Once
}

func newChanListener[T any](conns ...T) *chanListener[T] {
	l := &chanListener[T]{conns: make(chan T, len(conns)), closed: make(chan struct{})}
	for _, c := range conns {
		l.conns <- c
	}
	return l
}

func (l *chanListener[T]) Accept(ctx context.Context) (T, error) {
	var zero T
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.closed:
		return zero, streams.ErrClosed
	case <-ctx.Done():
		return zero, cancel.Checkpoint(ctx)
	}
}

func (l *chanListener[T]) Close() error {
	l.once.Do(func() { close(l.closed) })
	return nil
}

// peerMethodConn has a RemoteAddr method, as a net.Conn has.
type peerMethodConn struct {
	*srvConn
	addr net.Addr
}

func (c peerMethodConn) RemoteAddr() net.Addr { return c.addr }

// peerAttrConn answers the streams.RemoteAddr attribute, as a wrapper does.
type peerAttrConn struct {
	*srvConn
	addr net.Addr
}

func (c peerAttrConn) Attribute(key any) (any, bool) {
	if key == streams.RemoteAddr {
		return c.addr, true
	}
	return nil, false
}

// peerBothConn has a RemoteAddr method that knows nothing, and the attribute.
type peerBothConn struct {
	peerAttrConn
}

func (c peerBothConn) RemoteAddr() net.Addr { return nil }

// wrapper wraps a connection, and has an Unwrap method for streams.Extra.
type wrapper struct {
	io.Closer
}

func (w wrapper) Unwrap() any { return w.Closer }

// peerPanicConn's RemoteAddr panics.
type peerPanicConn struct {
	*srvConn
}

func (c peerPanicConn) RemoteAddr() net.Addr { panic("no address today") }

func tcpAddr(ip string, port int) *net.TCPAddr {
	return &net.TCPAddr{IP: net.ParseIP(ip), Port: port}
}

// TestServeNamesHandlers: each handler is a named task of the group,
// named after its connection's peer, or numbered when it has no address.
func TestServeNamesHandlers(t *testing.T) {
	c := func() *srvConn { return newSrvConn(0) }
	tests := []struct {
		name  string
		conns []io.Closer
		want  []string
	}{
		{
			name:  "RemoteAddr method",
			conns: []io.Closer{peerMethodConn{c(), tcpAddr("127.0.0.1", 4242)}},
			want:  []string{"handler 127.0.0.1:4242"},
		},
		{
			name:  "IPv6 peer",
			conns: []io.Closer{peerMethodConn{c(), tcpAddr("::1", 4242)}},
			want:  []string{"handler [::1]:4242"},
		},
		{
			name:  "RemoteAddr attribute",
			conns: []io.Closer{peerAttrConn{c(), tcpAddr("127.0.0.1", 4243)}},
			want:  []string{"handler 127.0.0.1:4243"},
		},
		{
			name:  "attribute of a wrapped connection",
			conns: []io.Closer{wrapper{peerAttrConn{c(), tcpAddr("127.0.0.1", 4244)}}},
			want:  []string{"handler 127.0.0.1:4244"},
		},
		{
			name:  "nil from the method, then the attribute",
			conns: []io.Closer{peerBothConn{peerAttrConn{c(), tcpAddr("127.0.0.1", 4245)}}},
			want:  []string{"handler 127.0.0.1:4245"},
		},
		{
			name:  "no address: numbered",
			conns: []io.Closer{c(), c(), c()},
			want:  []string{"handler #1", "handler #2", "handler #3"},
		},
		{
			name:  "numbers count every connection",
			conns: []io.Closer{c(), peerMethodConn{c(), tcpAddr("127.0.0.1", 4242)}, c()},
			want:  []string{"handler #1", "handler #3", "handler 127.0.0.1:4242"},
		},
		{
			name:  "nil *net.TCPAddr",
			conns: []io.Closer{peerMethodConn{c(), (*net.TCPAddr)(nil)}},
			want:  []string{"handler #1"},
		},
		{
			name:  "unnamed UNIX peer",
			conns: []io.Closer{peerMethodConn{c(), &net.UnixAddr{Net: "unix"}}},
			want:  []string{"handler #1"},
		},
		{
			name:  "named UNIX peer",
			conns: []io.Closer{peerMethodConn{c(), &net.UnixAddr{Name: "/run/client.sock", Net: "unix"}}},
			want:  []string{"handler /run/client.sock"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				l := newChanListener(tt.conns...)
				release := make(chan struct{})
				h := func(ctx context.Context, c io.Closer) error {
					<-release
					return nil
				}
				g, _ := taskgroup.New(t.Context(), taskgroup.Named("server"))
				done := serveAsync(t.Context(), l, h, g)
				synctest.Wait() // every connection accepted, every handler waiting

				if got := taskgroup.Tasks(g); !slices.Equal(got, tt.want) {
					t.Errorf("tasks: got %q, want %q", got, tt.want)
				}
				close(release)
				l.Close()
				if err := <-done; err != nil {
					t.Errorf("Serve: got %v, want nil", err)
				}
				if err := g.Wait(); err != nil {
					t.Errorf("g.Wait: got %v, want nil", err)
				}
				if got := taskgroup.Tasks(g); len(got) != 0 {
					t.Errorf("tasks after Wait: got %q, want none", got)
				}
			})
		})
	}
}

// TestServeNamePanics: a connection whose RemoteAddr panics is closed,
// and the panic goes on up Serve's caller's stack once the handlers
// already running are cancelled.
func TestServeNamePanics(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		first, bad := newSrvConn(0), peerPanicConn{newSrvConn(1)}
		l := &chanListener[io.Closer]{conns: make(chan io.Closer, 1), closed: make(chan struct{})}
		var cancelled bool
		h := func(ctx context.Context, c io.Closer) error {
			<-ctx.Done()
			cancelled = true
			return ctx.Err()
		}
		g, _ := taskgroup.New(t.Context(), taskgroup.Named("server"))
		panicked := make(chan any, 1)
		go func() {
			defer func() { panicked <- recover() }()
			streams.Serve(t.Context(), l, h, g)
		}()
		l.conns <- first
		synctest.Wait() // first's handler runs
		l.conns <- bad
		if r := <-panicked; r != "no address today" {
			t.Errorf("Serve panicked with %v, want %q", r, "no address today")
		}
		if err := g.Wait(); err != nil {
			t.Errorf("g.Wait: got %v, want nil", err)
		}
		if !bad.isClosed() {
			t.Error("the connection whose RemoteAddr panicked was not closed")
		}
		if !cancelled || !first.isClosed() {
			t.Errorf("first handler: got cancelled %v, conn closed %v; want both", cancelled, first.isClosed())
		}
	})
}

// TestServeUnnamedGroup: in an unnamed group, and in Serve's own, the
// handlers are plain tasks: no name is asked of the connection (whose
// RemoteAddr would panic here), and none is listed.
func TestServeUnnamedGroup(t *testing.T) {
	for _, tc := range []struct {
		name  string
		group bool
	}{
		{name: "own group"},
		{name: "caller's unnamed group", group: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				conn := peerPanicConn{newSrvConn(0)}
				l := newChanListener[io.Closer](conn)
				served := make(chan struct{})
				h := func(ctx context.Context, c io.Closer) error {
					close(served)
					<-ctx.Done()
					return nil
				}
				var g *taskgroup.Group
				if tc.group {
					g, _ = taskgroup.New(t.Context())
				}
				ctx, stop := context.WithCancel(t.Context())
				done := serveAsync(ctx, l, h, g)
				<-served
				if g != nil {
					if got := taskgroup.Tasks(g); len(got) != 0 {
						t.Errorf("tasks: got %q, want none", got)
					}
				}
				stop()
				if err := <-done; err != nil {
					t.Errorf("Serve: got %v, want nil", err)
				}
				if g != nil {
					if err := g.Wait(); err != nil {
						t.Errorf("g.Wait: got %v, want nil", err)
					}
				}
				if !conn.isClosed() {
					t.Error("the connection was not closed")
				}
			})
		})
	}
}
