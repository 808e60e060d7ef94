package sockets

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"
)

// MaxFDs is the most descriptors one message of [UnixStream.SendFDs] can
// carry: Linux's SCM_MAX_FD.
const MaxFDs = 253

// SendFDs sends msg with the descriptors of files attached (SCM_RIGHTS):
// the peer's [UnixStream.ReceiveFDs] gets msg's bytes and a new
// descriptor for each file, open on the same file description. The files
// stay open here; each may appear more than once. msg must not be empty
// (a stream carries descriptors with bytes), and 1 to [MaxFDs] files are
// allowed: anything else is an error, and nothing is sent.
//
// SendFDs is a send: it takes the stream's send direction ([streams.ErrBusy]
// while a Send runs), and follows Send's contract. When ctx is done before
// anything went out, it returns the cancellation error and sent nothing;
// when ctx is done after the descriptors and part of msg went out, it
// returns the cancellation error, and the stream should be treated as
// broken. The files must stay open until SendFDs returns.
func (s *UnixStream) SendFDs(ctx context.Context, msg []byte, files ...*os.File) error {
	if len(msg) == 0 {
		return errors.New("sockets: SendFDs: empty message (descriptors travel with at least one byte)")
	}
	if len(files) == 0 {
		return errors.New("sockets: SendFDs: no files")
	}
	if len(files) > MaxFDs {
		return fmt.Errorf("sockets: SendFDs: %d files; a message carries at most %d", len(files), MaxFDs)
	}
	fds := make([]int, len(files))
	for i, f := range files {
		fd, err := fileFD(f)
		if err != nil {
			return fmt.Errorf("sockets: SendFDs: file %d: %w", i, err)
		}
		fds[i] = fd
	}
	defer runtime.KeepAlive(files) // no finalizer closes a file meanwhile
	oob := unix.UnixRights(fds...)

	if err := s.core.BeginSend(ctx); err != nil {
		return err
	}
	defer s.core.ReleaseSend()
	// On a stream, sendmsg may send part of msg (the descriptors go with
	// the first byte); Write sends the rest.
	uc := s.unixConn()
	n, _, err := uc.WriteMsgUnix(msg, oob, nil)
	if err == nil && n < len(msg) {
		_, err = uc.Write(msg[n:])
	}
	return s.core.EndSend(ctx, err)
}

// ReceiveFDs receives a message of at most msgLen bytes (at least one) and
// the descriptors that came with it, at most maxFDs, as files. The files
// are the caller's to close; they are close-on-exec. msgLen and maxFDs
// must be at least 1, and maxFDs at most [MaxFDs]: anything else is an
// error, and nothing is received. Bytes sent without descriptors are
// received as well (with no files): a stream does not keep messages
// apart, so the protocol must say where descriptors come.
//
// A message that carried more than maxFDs descriptors is an error (the
// kernel said MSG_CTRUNC, and discarded those that did not fit): the
// descriptors that did arrive are closed, never lost open, and the
// message's bytes are returned with the error, so the stream's bytes stay
// in order.
//
// ReceiveFDs is a receive: it takes the stream's receive direction
// ([streams.ErrBusy] while a Receive runs) and follows Receive's
// contract: the end of the stream is io.EOF, and when ctx is done first it
// returns the cancellation error and consumed nothing. On every error
// path, every descriptor received is closed.
func (s *UnixStream) ReceiveFDs(ctx context.Context, msgLen, maxFDs int) ([]byte, []*os.File, error) {
	if msgLen < 1 {
		return nil, nil, fmt.Errorf("sockets: ReceiveFDs: msgLen %d is less than 1", msgLen)
	}
	if maxFDs < 1 || maxFDs > MaxFDs {
		return nil, nil, fmt.Errorf("sockets: ReceiveFDs: maxFDs %d is out of range 1 to %d", maxFDs, MaxFDs)
	}
	buf := make([]byte, msgLen)
	oob := make([]byte, unix.CmsgSpace(maxFDs*4))
	if err := s.core.BeginReceive(ctx); err != nil {
		return nil, nil, err
	}
	defer s.core.ReleaseReceive()
	n, oobn, flags, _, err := s.unixConn().ReadMsgUnix(buf, oob)
	// Bytes that came are returned (an error with them waits for the next
	// call); no bytes is the end of the stream, ctx's error, or err.
	n, err = s.core.EndReceive(ctx, max(n, 0), err) // the syscall's -1 on some errors
	fds, perr := parseRights(oob[:max(oobn, 0)])
	switch {
	case perr != nil:
		closeFDs(fds)
		return buf[:n], nil, perr
	case flags&unix.MSG_CTRUNC != 0:
		closeFDs(fds)
		return buf[:n], nil, fmt.Errorf("sockets: ReceiveFDs: more than %d descriptors came with the message; the %d that fit were closed, the rest discarded by the system (MSG_CTRUNC)", maxFDs, len(fds))
	case err != nil:
		closeFDs(fds) // none can come without a byte; be safe anyway
		return nil, nil, err
	}
	files := make([]*os.File, len(fds))
	for i, fd := range fds {
		files[i] = os.NewFile(uintptr(fd), "passed fd "+strconv.Itoa(fd))
	}
	return buf[:n], files, nil
}

// fileFD returns f's descriptor without f.Fd's side effect (Fd puts the
// file in blocking mode).
func fileFD(f *os.File) (int, error) {
	if f == nil {
		return 0, errors.New("nil *os.File")
	}
	rc, err := f.SyscallConn()
	if err != nil {
		return 0, fmt.Errorf("%s: %w", f.Name(), err)
	}
	var fd int
	if err := rc.Control(func(d uintptr) { fd = int(d) }); err != nil {
		return 0, fmt.Errorf("%s: %w", f.Name(), err)
	}
	return fd, nil
}

// parseRights returns the descriptors of the SCM_RIGHTS messages in oob.
// On a malformed message it returns those it found and an error, so that
// the caller can close them.
func parseRights(oob []byte) ([]int, error) {
	if len(oob) == 0 {
		return nil, nil
	}
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return nil, fmt.Errorf("sockets: ReceiveFDs: %w", os.NewSyscallError("parse control message", err))
	}
	var fds []int
	for _, m := range msgs {
		if m.Header.Level != unix.SOL_SOCKET || m.Header.Type != unix.SCM_RIGHTS {
			continue // SCM_CREDENTIALS, say, with SO_PASSCRED set
		}
		more, err := unix.ParseUnixRights(&m)
		if err != nil {
			return fds, fmt.Errorf("sockets: ReceiveFDs: %w", os.NewSyscallError("parse SCM_RIGHTS", err))
		}
		fds = append(fds, more...)
	}
	return fds, nil
}

func closeFDs(fds []int) {
	for _, fd := range fds {
		syscall.Close(fd)
	}
}
