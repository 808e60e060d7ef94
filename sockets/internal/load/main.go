// Command load is the program behind make load: it holds many concurrent
// TCP connections on loopback with sockets' Serve, echoes on each, then
// cancels with streams.Drain(0), and prints the memory per idle
// connection beside a bare goroutine-per-connection net server measured
// the same way, and the time from cancel to Serve returning.
//
// Each server is measured in a fresh process of its own (the program
// runs itself with -only), with both ends of every connection in that
// process: the clients cost the same in both runs, and are counted in
// both. It stops by itself
// (every step is bounded by -timeout) and checks that no goroutine is
// left.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"runtime"
	"runtime/pprof"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/tether-go/tether/cancel"
	"github.com/tether-go/tether/sockets"
	"github.com/tether-go/tether/streams"
)

const bufSize = 512 // each handler's receive buffer, on both sides

var memProfile = flag.String("memprofile", "", "write a heap profile of the tether server, idle, to this file")

func main() {
	n := flag.Int("n", 9000, "concurrent connections")
	timeout := flag.Duration("timeout", 2*time.Minute, "bound on the whole run")
	only := flag.String("only", "", "measure one server (tether or net) in this process, and print the result as JSON")
	flag.Parse()
	if *memProfile != "" {
		runtime.MemProfileRate = 1 // every allocation, for exact figures
	}
	var err error
	if *only != "" {
		err = measureOne(*only, *n, *timeout)
	} else {
		err = run(*n, *timeout)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(1)
	}
}

// run measures each server in a process of its own, one after the other:
// in one process the second would be measured in the first's leftovers
// (the runtime keeps every goroutine descriptor it ever made, and reuses
// them), and look cheaper than it is.
func run(n int, timeout time.Duration) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	var results [2]result
	for i, which := range []string{"tether", "net"} {
		args := []string{"-only", which, "-n", strconv.Itoa(n), "-timeout", timeout.String()}
		if which == "tether" && *memProfile != "" {
			args = append(args, "-memprofile", *memProfile)
		}
		cmd := exec.Command(self, args...)
		cmd.Stderr = os.Stderr
		out, err := cmd.Output()
		if err != nil {
			return fmt.Errorf("%s: %w", which, err)
		}
		if err := json.Unmarshal(out, &results[i]); err != nil {
			return fmt.Errorf("%s: reading its result %q: %w", which, out, err)
		}
	}
	tether, bare := results[0], results[1]
	fmt.Printf("connections: %d (both ends in one process, a fresh one for each server)\n", tether.N)
	fmt.Printf("%-34s %12s %12s\n", "", "tether", "net")
	fmt.Printf("%-34s %12.0f %12.0f   ratio %.2fx (target <= 1.10x)\n", "bytes per idle connection",
		tether.PerConn, bare.PerConn, tether.PerConn/bare.PerConn)
	fmt.Printf("%-34s %12.0f %12.0f\n", "  of which heap", tether.Heap, bare.Heap)
	fmt.Printf("%-34s %12.0f %12.0f\n", "  of which goroutine stacks", tether.Stack, bare.Stack)
	fmt.Printf("%-34s %12v %12v   (target < 1s)\n", "cancel to Serve returning", tether.Shutdown.Round(time.Microsecond), bare.Shutdown.Round(time.Microsecond))
	fmt.Println("goroutines left: none")
	return nil
}

// measureOne measures one server in this process, checks that no
// goroutine is left, and prints the result as JSON.
func measureOne(which string, n int, timeout time.Duration) error {
	limit, err := raiseFileLimit()
	if err != nil {
		return err
	}
	if need := uint64(2*n + 200); limit < need {
		fewer := int(limit-200) / 2
		fmt.Fprintf(os.Stderr, "the descriptor limit is %d: %d connections need %d; using %d\n", limit, n, need, fewer)
		n = fewer
	}
	ctx, cancelFn := context.WithTimeout(context.Background(), timeout)
	defer cancelFn()
	base := runtime.NumGoroutine()
	var r result
	switch which {
	case "tether":
		r, err = measureTether(ctx, n)
	case "net":
		r, err = measureBare(ctx, n)
	default:
		err = fmt.Errorf("-only %q: want tether or net", which)
	}
	if err != nil {
		return err
	}
	if err := goroutinesBack(base); err != nil {
		return err
	}
	r.N = n
	return json.NewEncoder(os.Stdout).Encode(r)
}

// raiseFileLimit raises the soft RLIMIT_NOFILE to the hard one and
// returns it.
func raiseFileLimit() (uint64, error) {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return 0, err
	}
	rl.Cur = rl.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return 0, err
	}
	return rl.Cur, nil
}

type result struct {
	N        int           // connections
	PerConn  float64       // bytes of Go memory per connection, both ends
	Heap     float64       // of which heap objects
	Stack    float64       // and goroutine stacks
	Shutdown time.Duration // from cancel (or Close) to the server returning
}

// memory is the Go memory in use after a full collection.
type memory struct{ heap, stack uint64 }

func (m memory) total() uint64 { return m.heap + m.stack }

// inUse returns the Go memory in use after a full collection: heap
// objects and goroutine stacks.
func inUse() memory {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return memory{m.HeapAlloc, m.StackInuse}
}

// dialAll opens n connections to addr and echoes one message on each, so
// that each server handler has run and now waits, idle.
func dialAll(ctx context.Context, addr string, n int) ([]net.Conn, error) {
	var d net.Dialer
	conns := make([]net.Conn, 0, n)
	msg, buf := []byte("ping"), make([]byte, 4)
	for i := range n {
		c, err := d.DialContext(ctx, "tcp4", addr)
		if err != nil {
			closeAll(conns)
			return nil, fmt.Errorf("connection %d: %w", i, err)
		}
		conns = append(conns, c)
		c.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := c.Write(msg); err != nil {
			closeAll(conns)
			return nil, fmt.Errorf("echo on connection %d: %w", i, err)
		}
		if _, err := io.ReadFull(c, buf); err != nil {
			closeAll(conns)
			return nil, fmt.Errorf("echo on connection %d: %w", i, err)
		}
		c.SetDeadline(time.Time{})
	}
	return conns, nil
}

func closeAll(conns []net.Conn) {
	for _, c := range conns {
		c.Close()
	}
}

func perConn(before, after memory, n int, took time.Duration) result {
	return result{
		PerConn:  (float64(after.total()) - float64(before.total())) / float64(n),
		Heap:     (float64(after.heap) - float64(before.heap)) / float64(n),
		Stack:    (float64(after.stack) - float64(before.stack)) / float64(n),
		Shutdown: took,
	}
}

func measureTether(ctx context.Context, n int) (result, error) {
	l, err := sockets.ListenTCP(sockets.LocalHost("127.0.0.1"))
	if err != nil {
		return result{}, err
	}
	defer l.Close()
	var failures sync.Map
	handler := func(ctx context.Context, s *sockets.SocketStream) error {
		buf := make([]byte, bufSize)
		for {
			k, err := s.Receive(ctx, buf)
			if err != nil {
				return err
			}
			if err := s.Send(ctx, buf[:k]); err != nil {
				return err
			}
		}
	}
	before := inUse()
	sctx, stop := context.WithCancel(ctx)
	defer stop()
	served := make(chan error, 1)
	go func() {
		served <- l.Serve(sctx, handler, nil, streams.Drain(0), streams.OnError(func(err error) {
			if !cancel.IsCancelled(err) && !errors.Is(err, io.EOF) {
				failures.Store(err.Error(), true)
			}
		}))
	}()
	conns, err := dialAll(ctx, net.JoinHostPort("127.0.0.1", strconv.Itoa(l.Port())), n)
	if err != nil {
		stop()
		<-served
		return result{}, err
	}
	after := inUse()
	if *memProfile != "" {
		if f, err := os.Create(*memProfile); err == nil {
			pprof.Lookup("heap").WriteTo(f, 0)
			f.Close()
		}
	}
	start := time.Now()
	stop()
	err = <-served
	took := time.Since(start)
	closeAll(conns)
	if err != nil {
		return result{}, fmt.Errorf("serve: %w", err)
	}
	var firstFailure error
	failures.Range(func(k, _ any) bool { firstFailure = errors.New(k.(string)); return false })
	if firstFailure != nil {
		return result{}, fmt.Errorf("a handler failed: %w", firstFailure)
	}
	return perConn(before, after, n, took), nil
}

func measureBare(ctx context.Context, n int) (result, error) {
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		return result{}, err
	}
	before := inUse()
	var (
		mu       sync.Mutex
		accepted []net.Conn
		wg       sync.WaitGroup
	)
	served := make(chan struct{})
	go func() {
		defer close(served)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			accepted = append(accepted, c)
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				buf := make([]byte, bufSize)
				for {
					k, err := c.Read(buf)
					if err != nil {
						return
					}
					if _, err := c.Write(buf[:k]); err != nil {
						return
					}
				}
			}()
		}
	}()
	conns, err := dialAll(ctx, l.Addr().String(), n)
	after := inUse()
	// The bare server's shutdown: close the listener and every
	// connection it holds, and wait for its goroutines.
	start := time.Now()
	l.Close()
	<-served
	mu.Lock()
	closeAll(accepted)
	mu.Unlock()
	wg.Wait()
	took := time.Since(start)
	closeAll(conns)
	if err != nil {
		return result{}, err
	}
	return perConn(before, after, n, took), nil
}

// goroutinesBack waits (bounded) for the goroutine count to come back to
// base: closed connections' pollers and timers end asynchronously.
func goroutinesBack(base int) error {
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > base {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			buf = buf[:runtime.Stack(buf, true)]
			return fmt.Errorf("%d goroutines left, want %d:\n%s", runtime.NumGoroutine(), base, buf)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return nil
}
