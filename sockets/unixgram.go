package sockets

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"net"
	"os"
	"syscall"

	"github.com/tether-go/tether/cancel"
	"github.com/tether-go/tether/streams"
)

// UnixPacket is a datagram received by [UnixDatagramSocket.Packets]: its
// payload, and the path of the socket that sent it ("" when the sender is
// not bound to one, and cannot be answered).
type UnixPacket struct {
	Data []byte
	Path string
}

// LocalPath binds the local end of [ConnectUnixDatagram] to path (a file,
// or an abstract name beginning with '@' or NUL), so that the peer can
// answer; without it the socket is not bound. Given to a TCP or UDP
// constructor, it is an error that names it. An empty path is the zero
// Option.
func LocalPath(path string) Option {
	if path == "" {
		return Option{}
	}
	return Option{func(c *config) error { c.localPath = path; return nil }}
}

// UnixDatagramSocket is a UNIX datagram socket that is not connected: it
// receives datagrams sent to its path and sends them to any path. Make
// one with [ListenUnixDatagram]; the zero value is not usable.
//
// A receive and a send may run at once from two goroutines; a second
// receive (or send) while one runs returns an error matching
// [streams.ErrBusy]. Close may be called from any goroutine, at any time;
// the socket is not reusable after it. The kernel's queue is the only
// one: nothing is buffered on top of it. A send to a socket whose queue is
// full waits (and is cancellable).
//
// Cost: a receive or send is the net.UnixConn call, which allocates the
// sender's address on receive and the destination's on send, plus the
// cancellation machinery of [UDPSocket] (nothing per call with a reused
// ctx).
type UnixDatagramSocket struct {
	dgram
	uc *net.UnixConn
}

// ListenUnixDatagram opens a UNIX datagram socket bound to path: a file,
// or on Linux an abstract name (beginning with '@' or NUL, no file). As
// for [ListenUnix], a socket file left over from a socket that is gone is
// replaced, a live one is an error matching syscall.EADDRINUSE, and the
// file is removed on Close. An empty or too long path is an error that
// says so.
//
// Options: [Mode] sets the file's permissions (right after bind: a
// datagram can come in between), [ReceiveBufferSize] and
// [SendBufferSize]; others are ignored.
func ListenUnixDatagram(path string, opts ...Option) (*UnixDatagramSocket, error) {
	const op = "ListenUnixDatagram"
	name, abstract, err := unixName(op, path)
	if err != nil {
		return nil, err
	}
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	lc := net.ListenConfig{Control: cfg.control} // buffer sizes
	pc, err := lc.ListenPacket(context.Background(), "unixgram", name)
	if errors.Is(err, syscall.EADDRINUSE) && !abstract {
		if serr := staleSocket(op, name); serr != nil {
			return nil, serr
		}
		pc, err = lc.ListenPacket(context.Background(), "unixgram", name)
	}
	if err != nil {
		return nil, fmt.Errorf("sockets: %s: %w", op, err)
	}
	uc := pc.(*net.UnixConn)
	s := newUnixDatagramSocket(uc)
	if !abstract {
		s.onClose = removeOnClose(name)
	}
	if err := setMode(cfg, name, abstract); err != nil {
		s.Close()
		return nil, fmt.Errorf("sockets: %s: %w", op, err)
	}
	return s, nil
}

// setMode applies the Mode option to the socket file just bound at name
// ("" if not bound).
func setMode(cfg *config, name string, abstract bool) error {
	if cfg.mode != 0 && name != "" && !abstract {
		if err := os.Chmod(name, cfg.mode); err != nil {
			return fmt.Errorf("option Mode: %w", err)
		}
	}
	return nil
}

func newUnixDatagramSocket(uc *net.UnixConn) *UnixDatagramSocket {
	s := &UnixDatagramSocket{uc: uc}
	s.init(uc, uc, syscall.AF_UNIX)
	return s
}

func newConnectedUnixDatagramSocket(uc *net.UnixConn) *ConnectedUnixDatagramSocket {
	s := &ConnectedUnixDatagramSocket{uc: uc}
	s.init(uc, uc, syscall.AF_UNIX)
	return s
}

// removeOnClose returns a function that removes the socket file just
// bound at name if it is still that file (another socket may have
// replaced it since).
func removeOnClose(name string) func() error {
	bound, err := os.Lstat(name)
	if err != nil {
		return nil
	}
	return func() error {
		fi, err := os.Lstat(name)
		if err != nil || !os.SameFile(fi, bound) {
			return nil
		}
		if err := os.Remove(name); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		return nil
	}
}

// ReceiveFrom waits for a datagram, copies it into p, and returns its
// length and the path of its sender ("" when the sender is not bound).
// An empty datagram is n == 0 with a nil error. A datagram larger than p
// is a [*TruncatedError] (matching io.ErrShortBuffer), with p holding its
// first len(p) bytes; an empty p is an error too.
//
// When ctx is done first ReceiveFrom returns its cancellation error and
// has consumed nothing; the socket stays usable. A Close from another
// goroutine wakes it with [streams.ErrClosed].
func (s *UnixDatagramSocket) ReceiveFrom(ctx context.Context, p []byte) (n int, from string, err error) {
	return receiveUnix(ctx, &s.dgram, s.uc, p)
}

// SendTo sends data as one datagram to the socket bound at path. A path
// where no socket is bound is an error matching syscall.ECONNREFUSED (a
// file with nothing behind it) or syscall.ENOENT; a datagram larger than
// the system allows is one matching syscall.EMSGSIZE. When the
// receiver's queue is full, SendTo waits.
//
// When ctx is done first SendTo returns its cancellation error and sent
// nothing; the socket stays usable. A Close from another goroutine wakes
// it with [streams.ErrClosed].
func (s *UnixDatagramSocket) SendTo(ctx context.Context, data []byte, path string) error {
	name, _, err := unixName("SendTo", path)
	if err != nil {
		return err
	}
	if err := s.begin(ctx, &s.send, errSendBusy); err != nil {
		return err
	}
	_, err = s.uc.WriteToUnix(data, &net.UnixAddr{Name: name, Net: "unixgram"})
	return s.end(ctx, &s.send, err)
}

// Packets returns an iterator over the datagrams the socket receives, for
// a range loop, as [UDPSocket.Packets] does: each Data is the loop's to
// keep. A datagram larger than 64 KiB is yielded with its first 64 KiB and
// a [*TruncatedError], and the iteration goes on; any other error is
// yielded once and ends it.
func (s *UnixDatagramSocket) Packets(ctx context.Context) iter.Seq2[UnixPacket, error] {
	return packets(ctx, s.ReceiveFrom, func(data []byte, from string) UnixPacket {
		return UnixPacket{Data: data, Path: from}
	})
}

// Close closes the socket, waking any blocked call with
// [streams.ErrClosed], and removes its socket file if it is still the one
// ListenUnixDatagram made. Calling it again does nothing and returns nil.
func (s *UnixDatagramSocket) Close() error { return s.close() }

// LocalAddr returns the address the socket is bound to, a *net.UnixAddr.
func (s *UnixDatagramSocket) LocalAddr() net.Addr { return s.uc.LocalAddr() }

// Attribute answers [LocalAddr], [Family] (syscall.AF_UNIX) and [RawConn];
// see [streams.Extra].
func (s *UnixDatagramSocket) Attribute(key any) (any, bool) { return s.attribute(key) }

// ConnectedUnixDatagramSocket is a UNIX datagram socket connected to one
// peer: it sends only to that peer and receives only from it. Make one
// with [ConnectUnixDatagram]; the zero value is not usable. Its
// concurrency, reuse and cost are those of [UnixDatagramSocket].
type ConnectedUnixDatagramSocket struct {
	dgram
	uc *net.UnixConn
}

// ConnectUnixDatagram opens a UNIX datagram socket connected to the one
// bound at path (a file, or an abstract name beginning with '@' or NUL).
// A path where no socket is bound is an error matching
// syscall.ECONNREFUSED or syscall.ENOENT. [LocalPath] binds the local end
// (with ListenUnixDatagram's handling of a stale file, and its removal on
// Close), so that the peer can answer; [Mode], [ReceiveBufferSize] and
// [SendBufferSize] apply as for ListenUnixDatagram.
//
// Connecting does not block; when ctx is already done ConnectUnixDatagram
// returns its cancellation error.
func ConnectUnixDatagram(ctx context.Context, path string, opts ...Option) (*ConnectedUnixDatagramSocket, error) {
	const op = "ConnectUnixDatagram"
	name, _, err := unixName(op, path)
	if err != nil {
		return nil, err
	}
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	if err := cancel.Checkpoint(ctx); err != nil {
		return nil, err
	}
	d := net.Dialer{Control: cfg.control} // buffer sizes
	local, abstract := "", false
	if cfg.localPath != "" {
		local, abstract, err = unixName(op+": option LocalPath", cfg.localPath)
		if err != nil {
			return nil, err
		}
		d.LocalAddr = &net.UnixAddr{Name: local, Net: "unixgram"}
	}
	c, err := d.DialContext(ctx, "unixgram", name)
	if errors.Is(err, syscall.EADDRINUSE) && local != "" && !abstract {
		if serr := staleSocket(op, local); serr != nil {
			return nil, serr
		}
		c, err = d.DialContext(ctx, "unixgram", name)
	}
	if err != nil {
		if cerr := cancel.Checkpoint(ctx); cerr != nil {
			return nil, cerr
		}
		return nil, fmt.Errorf("sockets: %s: %w", op, err)
	}
	uc := c.(*net.UnixConn)
	s := newConnectedUnixDatagramSocket(uc)
	if local != "" && !abstract {
		s.onClose = removeOnClose(local)
	}
	if err := setMode(cfg, local, abstract); err != nil {
		s.Close()
		return nil, fmt.Errorf("sockets: %s: %w", op, err)
	}
	return s, nil
}

// Receive waits for a datagram from the peer and copies it into p, as
// [UnixDatagramSocket.ReceiveFrom] does, with the same errors for a
// datagram larger than p and the same cancellation contract.
func (s *ConnectedUnixDatagramSocket) Receive(ctx context.Context, p []byte) (int, error) {
	n, _, err := receiveUnix(ctx, &s.dgram, s.uc, p)
	return n, err
}

// Send sends data as one datagram to the peer, as
// [UnixDatagramSocket.SendTo] does, with the same cancellation contract.
// A peer that is gone is an error matching syscall.ECONNREFUSED.
func (s *ConnectedUnixDatagramSocket) Send(ctx context.Context, data []byte) error {
	if err := s.begin(ctx, &s.send, errSendBusy); err != nil {
		return err
	}
	_, err := s.uc.Write(data)
	return s.end(ctx, &s.send, err)
}

// Close closes the socket, waking any blocked call with
// [streams.ErrClosed], and removes the socket file LocalPath bound, if it
// is still that one. Calling it again does nothing and returns nil.
func (s *ConnectedUnixDatagramSocket) Close() error { return s.close() }

// LocalAddr returns the local address, a *net.UnixAddr (whose Name is
// empty when the socket is not bound).
func (s *ConnectedUnixDatagramSocket) LocalAddr() net.Addr { return s.uc.LocalAddr() }

// RemoteAddr returns the peer's address, a *net.UnixAddr.
func (s *ConnectedUnixDatagramSocket) RemoteAddr() net.Addr { return s.uc.RemoteAddr() }

// Attribute answers [LocalAddr] (when bound), [RemoteAddr], [Family]
// (syscall.AF_UNIX) and [RawConn]; see [streams.Extra].
func (s *ConnectedUnixDatagramSocket) Attribute(key any) (any, bool) { return s.attribute(key) }

var (
	_ streams.Attributer = (*UnixDatagramSocket)(nil)
	_ streams.Attributer = (*ConnectedUnixDatagramSocket)(nil)
)

// receiveUnix is the receive of both UNIX datagram sockets: d's, on uc.
func receiveUnix(ctx context.Context, d *dgram, uc *net.UnixConn, p []byte) (int, string, error) {
	if len(p) == 0 {
		return 0, "", errNoBuffer
	}
	if err := d.begin(ctx, &d.recv, errRecvBusy); err != nil {
		return 0, "", err
	}
	n, _, flags, addr, err := uc.ReadMsgUnix(p, nil)
	if err := d.end(ctx, &d.recv, err); err != nil {
		return 0, "", err
	}
	from := ""
	if addr != nil {
		from = addr.Name
	}
	if flags&syscall.MSG_TRUNC != 0 {
		return n, from, &TruncatedError{Size: len(p)}
	}
	return n, from, nil
}
