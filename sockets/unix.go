package sockets

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"syscall"

	"github.com/tether-go/tether/cancel"
	"github.com/tether-go/tether/streams"
	"github.com/tether-go/tether/taskgroup"
)

// maxUnixPath is the longest path a UNIX socket address holds: sun_path
// is 108 bytes on Linux, with room for the terminating NUL.
const maxUnixPath = 107

// unixName checks a UNIX socket path and returns the name package net
// takes: an abstract name (a leading '@' or NUL) begins with '@'.
func unixName(op, path string) (name string, abstract bool, err error) {
	if path == "" {
		return "", false, fmt.Errorf("sockets: %s: empty UNIX socket path", op)
	}
	if path[0] == 0 {
		path = "@" + path[1:]
	}
	abstract = path[0] == '@'
	if len(path) > maxUnixPath {
		return "", false, fmt.Errorf("sockets: %s: UNIX socket path %q is %d bytes, longer than the %d the system allows",
			op, path, len(path), maxUnixPath)
	}
	if !abstract && strings.IndexByte(path, 0) >= 0 {
		return "", false, fmt.Errorf("sockets: %s: UNIX socket path %q contains a NUL byte", op, path)
	}
	return path, abstract, nil
}

// ConnectUnix connects to the UNIX stream socket at path (a file, or an
// abstract name beginning with '@' or NUL) and returns the connection as a
// [*UnixStream]. Nobody listening is an error matching
// syscall.ECONNREFUSED (a socket file whose server is gone) or
// syscall.ENOENT (no such file); an empty or too long path is an error
// that says so.
//
// Cancellation: when ctx is done first, ConnectUnix returns its
// cancellation error and no connection.
func ConnectUnix(ctx context.Context, path string, opts ...Option) (*UnixStream, error) {
	name, _, err := unixName("ConnectUnix", path)
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
	d := net.Dialer{}
	if cfg.recvBuf > 0 || cfg.sendBuf > 0 {
		d.Control = cfg.control
	}
	c, err := d.DialContext(ctx, "unix", name)
	if err != nil {
		if cerr := cancel.Checkpoint(ctx); cerr != nil {
			return nil, cerr
		}
		return nil, fmt.Errorf("sockets: ConnectUnix: %w", err)
	}
	return newUnixStream(c.(*net.UnixConn)), nil
}

// UnixListener listens on a UNIX stream socket; [ListenUnix] makes one.
// It implements streams.Listener[*UnixStream]; the zero value is not
// usable. One Accept (or Serve) runs at a time; a second concurrent one
// returns [streams.ErrBusy]. Close may be called at any time, from any
// goroutine; the listener is not reusable after it. Accept costs what
// net.UnixListener's does, plus ioctx's machinery (no allocation when the
// same ctx is used again).
type UnixListener struct {
	acceptor
	ul   *net.UnixListener
	path string      // the socket file to remove on Close; "" for an abstract name
	file os.FileInfo // the file as bound, so Close removes only our own
}

var _ streams.Listener[*UnixStream] = (*UnixListener)(nil)

func newUnixListener(ul *net.UnixListener) *UnixListener {
	l := &UnixListener{ul: ul}
	l.init(ul, ul, ul.SetDeadline)
	return l
}

// ListenUnix listens on the UNIX stream socket path: a file, or on Linux
// an abstract name (beginning with '@' or NUL, no file). A socket file
// that is left over from a listener that is gone (nothing accepts on it)
// is replaced; one with a live listener is an error matching
// syscall.EADDRINUSE that says so, and so is a path that exists and is
// not a socket. The file is removed on Close.
//
// Options: [Mode] sets the file's permissions before anyone can connect
// (between bind and listen); [Backlog], [ReceiveBufferSize] and
// [SendBufferSize] as for TCP.
func ListenUnix(path string, opts ...Option) (*UnixListener, error) {
	name, abstract, err := unixName("ListenUnix", path)
	if err != nil {
		return nil, err
	}
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	fd, err := bindUnix(name, abstract)
	if err != nil {
		return nil, err
	}
	l, err := cfg.listenUnixFD(fd, name, abstract)
	if err != nil {
		if !abstract {
			os.Remove(name)
		}
		return nil, err
	}
	return l, nil
}

// bindUnix makes a UNIX stream socket bound to name, replacing a stale
// socket file.
func bindUnix(name string, abstract bool) (int, error) {
	fd, err := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC|syscall.SOCK_NONBLOCK, 0)
	if err != nil {
		return -1, fmt.Errorf("sockets: ListenUnix: %w", os.NewSyscallError("socket", err))
	}
	sa := &syscall.SockaddrUnix{Name: name}
	err = syscall.Bind(fd, sa)
	if errors.Is(err, syscall.EADDRINUSE) && !abstract {
		if serr := staleSocket("ListenUnix", name); serr != nil {
			syscall.Close(fd)
			return -1, serr
		}
		err = syscall.Bind(fd, sa)
	}
	if err != nil {
		syscall.Close(fd)
		return -1, fmt.Errorf("sockets: ListenUnix: bind %s: %w", name, os.NewSyscallError("bind", err))
	}
	return fd, nil
}

// staleSocket removes the socket file at name if nothing listens on it,
// and otherwise says why it cannot be replaced; op is the caller's name
// for its errors.
func staleSocket(op, name string) error {
	fi, err := os.Lstat(name)
	if err != nil {
		return fmt.Errorf("sockets: %s: %w", op, err)
	}
	if fi.Mode().Type() != os.ModeSocket {
		return fmt.Errorf("sockets: %s: %s exists and is not a socket (%v): %w", op, name, fi.Mode().Type(), syscall.EADDRINUSE)
	}
	// Probe with a datagram socket: its connect queues nothing, where a
	// stream connect to a live listener would put a connection nobody
	// opened into that listener's accept queue. Refused means nobody is
	// bound there; a live stream socket answers EPROTOTYPE, a live
	// datagram socket accepts the connect: live either way.
	fd, err := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_DGRAM|syscall.SOCK_CLOEXEC|syscall.SOCK_NONBLOCK, 0)
	if err != nil {
		return fmt.Errorf("sockets: %s: %w", op, os.NewSyscallError("socket", err))
	}
	err = syscall.Connect(fd, &syscall.SockaddrUnix{Name: name})
	syscall.Close(fd)
	if !errors.Is(err, syscall.ECONNREFUSED) {
		return fmt.Errorf("sockets: %s: another socket is live on %s: %w", op, name, syscall.EADDRINUSE)
	}
	if err := os.Remove(name); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("sockets: %s: removing the stale socket: %w", op, err)
	}
	return nil
}

// listenUnixFD sets the options of the bound socket fd, listens, and
// hands it to package net.
func (c *config) listenUnixFD(fd int, name string, abstract bool) (*UnixListener, error) {
	f := os.NewFile(uintptr(fd), name) // owns fd from here
	defer f.Close()                    // net.FileListener dups it
	if c.mode != 0 && !abstract {
		if err := os.Chmod(name, c.mode); err != nil {
			return nil, fmt.Errorf("sockets: ListenUnix: option Mode: %w", err)
		}
	}
	if c.recvBuf > 0 || c.sendBuf > 0 {
		raw, err := f.SyscallConn()
		if err != nil {
			return nil, err
		}
		if err := c.control("unix", name, raw); err != nil {
			return nil, err
		}
	}
	backlog := c.backlog
	if backlog == 0 {
		backlog = 4096 // capped by the system's somaxconn
	}
	if err := syscall.Listen(fd, backlog); err != nil {
		return nil, fmt.Errorf("sockets: ListenUnix: %w", os.NewSyscallError("listen", err))
	}
	nl, err := net.FileListener(f)
	if err != nil {
		return nil, fmt.Errorf("sockets: ListenUnix: %w", err)
	}
	ul := nl.(*net.UnixListener)
	ul.SetUnlinkOnClose(false) // Close removes the file only if it is still ours
	l := newUnixListener(ul)
	if !abstract {
		l.path = name
		l.file, _ = os.Lstat(name)
	}
	return l, nil
}

// Accept waits for a connection and returns it as a [*UnixStream].
//
// Cancellation: when ctx is done, Accept returns ctx's cancellation error
// and leaves the listener usable. A Close from another goroutine wakes it
// with an error matching [streams.ErrClosed] and net.ErrClosed, the error
// of every Accept after Close.
func (l *UnixListener) Accept(ctx context.Context) (*UnixStream, error) {
	c, err := l.accept(ctx)
	if err != nil {
		return nil, err
	}
	return newUnixStream(c.(*net.UnixConn)), nil
}

// Serve accepts connections and runs handler for each as a task of g
// (its own group when g is nil); see [streams.Serve], whose contract it
// has. Serve does not close the listener.
func (l *UnixListener) Serve(ctx context.Context, handler func(ctx context.Context, s *UnixStream) error, g *taskgroup.Group, opts ...streams.ServeOption) error {
	return streams.Serve(ctx, l, handler, g, opts...)
}

// Close stops listening, waking a blocked Accept, and removes the socket
// file if it is still the one ListenUnix made. Calling it again does
// nothing and returns nil.
func (l *UnixListener) Close() error {
	if l.closed.Load() {
		return nil
	}
	err := l.close()
	if l.path != "" {
		if fi, serr := os.Lstat(l.path); serr == nil && l.file != nil && os.SameFile(fi, l.file) {
			if rerr := os.Remove(l.path); rerr != nil && err == nil {
				err = rerr
			}
		}
	}
	return err
}

// Addr returns the listener's address, a *net.UnixAddr.
func (l *UnixListener) Addr() net.Addr { return l.ul.Addr() }

// Attribute answers [LocalAddr], [Family] and [RawConn]; see
// [streams.Extra].
func (l *UnixListener) Attribute(key any) (any, bool) { return l.attribute(key) }
