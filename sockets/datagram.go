package sockets

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"net"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/tether-go/tether/cancel"
	"github.com/tether-go/tether/internal/ioctx"
	"github.com/tether-go/tether/streams"
	"golang.org/x/sys/unix"
)

// maxDatagram is the buffer Packets receives into: the largest UDP
// payload (65,535 bytes less the headers) fits, so a UDP socket's Packets
// never meets a datagram too large for it.
const maxDatagram = 64 << 10

// The refusals of a datagram call that finds its direction taken.
var (
	errRecvBusy = fmt.Errorf("sockets: another goroutine is already receiving on this socket: %w", streams.ErrBusy)
	errSendBusy = fmt.Errorf("sockets: another goroutine is already sending on this socket: %w", streams.ErrBusy)
	errNoBuffer = fmt.Errorf("sockets: receive into an empty buffer: %w", io.ErrShortBuffer)
)

// TruncatedError is the error of a receive whose datagram was larger than
// the caller's buffer (the kernel said MSG_TRUNC): the buffer holds the
// datagram's first Size bytes and the rest is gone, since a datagram is
// read whole or not at all. errors.Is(err, io.ErrShortBuffer) holds.
type TruncatedError struct {
	Size int // the size of the caller's buffer
}

// Error says that the datagram did not fit, and the buffer's size.
func (e *TruncatedError) Error() string {
	return fmt.Sprintf("sockets: datagram larger than the %d-byte buffer; the rest of it was discarded", e.Size)
}

// Unwrap returns io.ErrShortBuffer.
func (e *TruncatedError) Unwrap() error { return io.ErrShortBuffer }

// dgram is the core every datagram socket shares (UDP and UNIX, connected
// or not): the closed flag and one ioctx.Side per direction, so that
// ErrBusy, ErrClosed and cancellation mean for datagrams what they mean
// for streams. A datagram is sent or received whole or not at all, which
// makes cancellation clean: a cancelled receive consumed nothing, and a
// cancelled send sent nothing.
type dgram struct {
	c      net.Conn // a *net.UDPConn or a *net.UnixConn
	sc     syscall.Conn
	family int // syscall.AF_INET, AF_INET6 or AF_UNIX
	closed atomic.Bool
	recv   ioctx.Side
	send   ioctx.Side
	// onClose runs once, after the socket is closed (a bound UNIX
	// socket's removal of its file); nil if nothing.
	onClose func() error
}

func (d *dgram) init(c net.Conn, sc syscall.Conn, family int) {
	d.c, d.sc, d.family = c, sc, family
	d.recv.Init((*dgramOwner)(d), false)
	d.send.Init((*dgramOwner)(d), true)
}

// dgramOwner is a dgram as its Sides' [ioctx.Owner].
type dgramOwner dgram

func (o *dgramOwner) Closed() bool                       { return o.closed.Load() }
func (o *dgramOwner) SetReadDeadline(t time.Time) error  { return o.c.SetReadDeadline(t) }
func (o *dgramOwner) SetWriteDeadline(t time.Time) error { return o.c.SetWriteDeadline(t) }

// begin claims side for one call under ctx, or says why it cannot: the
// socket is closed, another call holds the side, or ctx is done. After a
// nil error the caller makes its one blocking call and passes its error
// to end.
func (d *dgram) begin(ctx context.Context, side *ioctx.Side, busy error) error {
	if !side.Acquire() {
		if side.Closed() {
			return streams.ErrClosed
		}
		return busy
	}
	if err := cancel.Checkpoint(ctx); err != nil {
		side.Release()
		return err
	}
	side.Watch(ctx)
	return nil
}

// end releases side after the blocking call begin allowed, and returns
// the error to give the caller: nil if err is nil, the context's error
// (with its cause) if ctx interrupted the call, ErrClosed if Close did.
func (d *dgram) end(ctx context.Context, side *ioctx.Side, err error) error {
	cancelled := side.Finish(ctx, err)
	side.Release()
	switch {
	case err == nil:
		return nil
	case cancelled:
		return cancel.Checkpoint(ctx)
	case d.closed.Load(), errors.Is(err, net.ErrClosed):
		return streams.ErrClosed
	}
	return err
}

// close closes the socket once, waking blocked calls with ErrClosed.
func (d *dgram) close() error {
	if d.closed.Swap(true) {
		return nil
	}
	err := d.c.Close()
	d.recv.AfterClose()
	d.send.AfterClose()
	if d.onClose != nil {
		err = errors.Join(err, d.onClose())
	}
	return err
}

// attribute answers the socket attributes; a socket that is not connected
// has no remote ones, and a UNIX socket has no ports.
func (d *dgram) attribute(key any) (any, bool) {
	switch key {
	case LocalAddr:
		la := d.c.LocalAddr()
		return la, hasAddr(la)
	case LocalPort:
		return addrPort(d.c.LocalAddr())
	case Family:
		return d.family, true
	case RawConn:
		raw, err := d.sc.SyscallConn()
		return raw, err == nil
	}
	if ra := d.c.RemoteAddr(); hasAddr(ra) {
		switch key {
		case RemoteAddr:
			return ra, true
		case RemotePort:
			return addrPort(ra)
		}
	}
	return nil, false
}

// hasAddr reports whether a is an address: not nil, and not the empty
// name that stands for an unbound UNIX socket.
func hasAddr(a net.Addr) bool {
	switch a := a.(type) {
	case nil:
		return false
	case *net.UnixAddr:
		// An unbound socket's name is empty, or "@" as net reports it.
		return a != nil && a.Name != "" && a.Name != "@"
	}
	return true
}

// packets is the Packets iterator of a datagram socket whose ReceiveFrom
// is receive; packet makes the element from a datagram's own copy and its
// sender.
func packets[A, P any](ctx context.Context, receive func(context.Context, []byte) (int, A, error), packet func([]byte, A) P) iter.Seq2[P, error] {
	return func(yield func(P, error) bool) {
		buf := make([]byte, maxDatagram)
		for {
			n, from, err := receive(ctx, buf)
			var tooLarge *TruncatedError
			if err != nil && !errors.As(err, &tooLarge) {
				var zero P
				yield(zero, err)
				return
			}
			if !yield(packet(bytes.Clone(buf[:n]), from), err) {
				return
			}
		}
	}
}

// socketFamily asks the system for the family of c's socket (its local
// address does not tell: an IPv6 socket may be bound to an IPv4-mapped
// address), and falls back on the address.
func socketFamily(c *net.UDPConn) int {
	family := 0
	if rc, err := c.SyscallConn(); err == nil {
		rc.Control(func(fd uintptr) {
			family, _ = unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_DOMAIN)
		})
	}
	if family == 0 {
		family = addrFamily(c.LocalAddr())
	}
	return family
}
