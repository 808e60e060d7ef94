package sockets_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/tether-go/tether/sockets"
	"github.com/tether-go/tether/streams"
	"golang.org/x/sys/unix"
)

// tempFile returns a file of t.TempDir() holding text, open for reading
// and closed at the end of the test.
func tempFile(t *testing.T, name, text string) *os.File {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// openFDs counts the process's open descriptors.
func openFDs(t *testing.T) int {
	t.Helper()
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("cannot count descriptors: %v", err)
	}
	return len(entries)
}

// fileText reads f from its start.
func fileText(t *testing.T, f *os.File) string {
	t.Helper()
	b, err := io.ReadAll(io.NewSectionReader(f, 0, 1<<20))
	if err != nil {
		t.Fatalf("reading %s: %v", f.Name(), err)
	}
	return string(b)
}

func TestFDPassingBothWays(t *testing.T) {
	client, server := unixPair(t)
	hello := tempFile(t, "hello", "Hello, ")
	world := tempFile(t, "world", "World!")
	tests := []struct {
		name     string
		from, to *sockets.UnixStream
	}{
		{"client to server", client, server},
		{"server to client", server, client},
	}
	ctx := context.Background()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.from.SendFDs(ctx, []byte("test"), hello, world); err != nil {
				t.Fatalf("SendFDs: %v", err)
			}
			msg, files, err := tt.to.ReceiveFDs(ctx, 10, 2)
			if err != nil {
				t.Fatalf("ReceiveFDs: %v", err)
			}
			defer closeFiles(files)
			if string(msg) != "test" {
				t.Errorf("message: got %q, want %q", msg, "test")
			}
			if len(files) != 2 {
				t.Fatalf("got %d files, want 2", len(files))
			}
			if got := fileText(t, files[0]) + fileText(t, files[1]); got != "Hello, World!" {
				t.Errorf("the files hold %q, want %q", got, "Hello, World!")
			}
			for _, f := range files {
				flags, err := unix.FcntlInt(f.Fd(), unix.F_GETFD, 0)
				if err != nil {
					t.Fatalf("fcntl: %v", err)
				}
				if flags&unix.FD_CLOEXEC == 0 {
					t.Errorf("%s: FD_CLOEXEC is not set", f.Name())
				}
			}
		})
	}
}

func closeFiles(files []*os.File) {
	for _, f := range files {
		f.Close()
	}
}

func TestFDPassingLimit(t *testing.T) {
	client, server := unixPair(t)
	f := tempFile(t, "f", "x")
	ctx := context.Background()

	t.Run("253 descriptors", func(t *testing.T) {
		files := make([]*os.File, sockets.MaxFDs)
		for i := range files {
			files[i] = f
		}
		if err := client.SendFDs(ctx, []byte("m"), files...); err != nil {
			t.Fatalf("SendFDs of %d files: %v", len(files), err)
		}
		msg, got, err := server.ReceiveFDs(ctx, 1, sockets.MaxFDs)
		if err != nil {
			t.Fatalf("ReceiveFDs: %v", err)
		}
		closeFiles(got)
		if string(msg) != "m" || len(got) != sockets.MaxFDs {
			t.Errorf("got %q with %d files, want %q with %d", msg, len(got), "m", sockets.MaxFDs)
		}
	})

	t.Run("254 descriptors", func(t *testing.T) {
		files := make([]*os.File, sockets.MaxFDs+1)
		for i := range files {
			files[i] = f
		}
		err := client.SendFDs(ctx, []byte("m"), files...)
		if err == nil || !strings.Contains(err.Error(), "at most 253") {
			t.Fatalf("SendFDs of 254 files: got %v, want an error saying at most 253", err)
		}
		// Nothing went out: the next message is the first the peer sees.
		if err := client.SendFDs(ctx, []byte("n"), f); err != nil {
			t.Fatalf("SendFDs: %v", err)
		}
		msg, got, err := server.ReceiveFDs(ctx, 10, 1)
		closeFiles(got)
		if err != nil || string(msg) != "n" || len(got) != 1 {
			t.Errorf("ReceiveFDs: got %q, %d files, %v; want %q, 1 file, nil", msg, len(got), err, "n")
		}
	})
}

// TestReceiveFDsTruncated sends more descriptors than the receiver makes
// room for: the kernel keeps what fits and says MSG_CTRUNC; ReceiveFDs
// must fail, and close the ones that came.
func TestReceiveFDsTruncated(t *testing.T) {
	client, server := unixPair(t)
	f := tempFile(t, "f", "x")
	ctx := context.Background()
	if err := client.SendFDs(ctx, []byte("abc"), f, f, f, f); err != nil {
		t.Fatalf("SendFDs: %v", err)
	}
	before := openFDs(t)
	msg, files, err := server.ReceiveFDs(ctx, 3, 1)
	if err == nil || !strings.Contains(err.Error(), "MSG_CTRUNC") {
		t.Fatalf("ReceiveFDs: got %v, want an MSG_CTRUNC error", err)
	}
	if files != nil {
		t.Errorf("got %d files with the error, want none", len(files))
	}
	if string(msg) != "abc" {
		t.Errorf("message: got %q, want %q (its bytes are not lost)", msg, "abc")
	}
	if after := openFDs(t); after != before {
		t.Errorf("open descriptors: got %d after, want %d as before: the received ones were not closed", after, before)
	}
	// The stream goes on.
	if err := client.Send(ctx, []byte("next")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 10)
	n, err := server.Receive(ctx, buf)
	if err != nil || string(buf[:n]) != "next" {
		t.Errorf("Receive: got %q, %v; want %q, nil", buf[:n], err, "next")
	}
}

func TestFDPassingBadInput(t *testing.T) {
	client, _ := unixPair(t)
	f := tempFile(t, "f", "x")
	closed := tempFile(t, "closed", "x")
	closed.Close()
	ctx := context.Background()
	sends := []struct {
		name  string
		msg   []byte
		files []*os.File
		want  string
	}{
		{"empty message", nil, []*os.File{f}, "empty message"},
		{"no files", []byte("m"), nil, "no files"},
		{"nil file", []byte("m"), []*os.File{f, nil}, "file 1: nil"},
		{"closed file", []byte("m"), []*os.File{closed}, "file 0:"},
	}
	for _, tt := range sends {
		t.Run("SendFDs/"+tt.name, func(t *testing.T) {
			err := client.SendFDs(ctx, tt.msg, tt.files...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}
	receives := []struct {
		name           string
		msgLen, maxFDs int
		want           string
	}{
		{"msgLen 0", 0, 1, "msgLen 0"},
		{"maxFDs 0", 1, 0, "maxFDs 0"},
		{"maxFDs 254", 1, 254, "maxFDs 254"},
	}
	for _, tt := range receives {
		t.Run("ReceiveFDs/"+tt.name, func(t *testing.T) {
			_, _, err := client.ReceiveFDs(ctx, tt.msgLen, tt.maxFDs)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestReceiveFDsWithoutDescriptors(t *testing.T) {
	client, server := unixPair(t)
	ctx := context.Background()
	if err := client.Send(ctx, []byte("plain")); err != nil {
		t.Fatal(err)
	}
	msg, files, err := server.ReceiveFDs(ctx, 10, 1)
	if err != nil || string(msg) != "plain" || len(files) != 0 {
		t.Errorf("got %q, %d files, %v; want %q, no files, nil", msg, len(files), err, "plain")
	}
}

func TestReceiveFDsEndOfStream(t *testing.T) {
	client, server := unixPair(t)
	client.Close()
	_, _, err := server.ReceiveFDs(context.Background(), 10, 1)
	if !errors.Is(err, io.EOF) {
		t.Errorf("got %v, want io.EOF", err)
	}
}

func TestSendFDsAfterSendEOF(t *testing.T) {
	client, _ := unixPair(t)
	f := tempFile(t, "f", "x")
	ctx := context.Background()
	if err := client.SendEOF(ctx); err != nil {
		t.Fatal(err)
	}
	if err := client.SendFDs(ctx, []byte("m"), f); !errors.Is(err, streams.ErrClosed) {
		t.Errorf("got %v, want ErrClosed", err)
	}
}

// TestReceiveFDsCancel cancels a blocked ReceiveFDs, and passes files
// after it: the stream is usable.
func TestReceiveFDsCancel(t *testing.T) {
	client, server := unixPair(t)
	f := tempFile(t, "f", "content")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, _, err := server.ReceiveFDs(ctx, 10, 1)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v, want context.DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("returned after %v", d)
	}
	bg := context.Background()
	if err := client.SendFDs(bg, []byte("m"), f); err != nil {
		t.Fatalf("SendFDs after the cancellation: %v", err)
	}
	msg, files, err := server.ReceiveFDs(bg, 10, 1)
	defer closeFiles(files)
	if err != nil || !bytes.Equal(msg, []byte("m")) || len(files) != 1 {
		t.Fatalf("ReceiveFDs after the cancellation: got %q, %d files, %v", msg, len(files), err)
	}
	if got := fileText(t, files[0]); got != "content" {
		t.Errorf("got %q, want %q", got, "content")
	}
}

// TestReceiveFDsBusyAndClose blocks a Receive, checks that ReceiveFDs is
// refused while it runs, then closes the stream under it.
func TestReceiveFDsBusyAndClose(t *testing.T) {
	_, server := unixPair(t)
	done := startBlocked(t, func(ctx context.Context) error {
		_, _, err := server.ReceiveFDs(ctx, 10, 1)
		return err
	})
	// Receive and ReceiveFDs share the receive direction.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := server.Receive(ctx, make([]byte, 1)); !errors.Is(err, streams.ErrBusy) {
		t.Errorf("Receive during ReceiveFDs: got %v, want ErrBusy", err)
	}
	server.Close()
	if err := <-done; !errors.Is(err, streams.ErrClosed) {
		t.Errorf("blocked ReceiveFDs after Close: got %v, want ErrClosed", err)
	}
}

// startBlocked runs call, with a context that is never done, in a
// goroutine, and returns once the call holds its direction (it is
// blocked, or about to block); the call's error comes on the channel.
// The probe that tells (waitBusy) holds the direction for a moment, so a
// call refused with ErrBusy by it is made again.
func startBlocked(t *testing.T, call func(ctx context.Context) error) <-chan error {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		for {
			err := call(context.Background())
			if !errors.Is(err, streams.ErrBusy) {
				done <- err
				return
			}
			runtime.Gosched()
		}
	}()
	waitBusy(t, call)
	return done
}

// waitBusy calls try with a cancelled context until it reports ErrBusy,
// that is, until a call running in another goroutine holds the direction
// try uses (a direction is claimed before the context is looked at, so a
// free one gives context.Canceled).
func waitBusy(t *testing.T, try func(ctx context.Context) error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := try(ctx)
		if errors.Is(err, streams.ErrBusy) {
			return
		}
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("got %v, want ErrBusy or context.Canceled", err)
		}
		if time.Now().After(deadline) {
			t.Fatal("the other call never started")
		}
		runtime.Gosched()
	}
}

// TestSendFDsCancel fills the stream's buffers so that SendFDs blocks,
// cancels it (nothing was sent), and passes the file once there is room.
func TestSendFDsCancel(t *testing.T) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	streamOf := func(fd int) *sockets.UnixStream {
		f := os.NewFile(uintptr(fd), "socketpair")
		defer f.Close() // AdoptFile has a duplicate
		s, err := sockets.AdoptFile(f)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s.(*sockets.UnixStream)
	}
	raw, err := unix.Dup(fds[0]) // the sender's socket, to fill it
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(raw)
	sender, receiver := streamOf(fds[0]), streamOf(fds[1])
	filled := 0
	chunk := make([]byte, 4096)
	for {
		n, err := unix.Write(raw, chunk)
		if errors.Is(err, unix.EAGAIN) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		filled += n
	}
	f := tempFile(t, "f", "passed")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := sender.SendFDs(ctx, []byte("m"), f); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("SendFDs into a full stream: got %v, want context.DeadlineExceeded", err)
	}
	bg := context.Background()
	buf := make([]byte, 64<<10)
	for got := 0; got < filled; {
		n, err := receiver.Receive(bg, buf[:min(len(buf), filled-got)])
		if err != nil {
			t.Fatalf("draining: %v", err)
		}
		got += n
	}
	if err := sender.SendFDs(bg, []byte("m"), f); err != nil {
		t.Fatalf("SendFDs after the cancellation: %v", err)
	}
	msg, files, err := receiver.ReceiveFDs(bg, 10, 1)
	defer closeFiles(files)
	if err != nil || string(msg) != "m" || len(files) != 1 {
		t.Fatalf("got %q, %d files, %v; want %q and 1 file (the cancelled message was not sent)", msg, len(files), err, "m")
	}
	if got := fileText(t, files[0]); got != "passed" {
		t.Errorf("got %q, want %q", got, "passed")
	}
}

// TestSendFDsBusy blocks a Send on a stream whose peer does not read:
// SendFDs, which takes the same direction, is refused meanwhile.
func TestSendFDsBusy(t *testing.T) {
	client, _ := unixPair(t)
	f := tempFile(t, "f", "x")
	big := make([]byte, 16<<20) // more than the socket buffers hold
	done := startBlocked(t, func(ctx context.Context) error { return client.Send(ctx, big) })
	if err := client.SendFDs(context.Background(), []byte("m"), f); !errors.Is(err, streams.ErrBusy) {
		t.Errorf("SendFDs during a Send: got %v, want ErrBusy", err)
	}
	client.Close()
	if err := <-done; !errors.Is(err, streams.ErrClosed) {
		t.Errorf("the blocked Send after Close: got %v, want ErrClosed", err)
	}
}
