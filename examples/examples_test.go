// The examples' end-to-end tests: each program is built once, then each Go
// client runs against its Go server, against the seed's Python server
// (AnyIO), and each Go server against the seed's Python client, all on
// loopback or in a temporary directory. Servers are stopped with SIGINT,
// as Ctrl-C would, and must say that they shut down cleanly.
package examples_test

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tether-go/tether/examples/internal/extest"
	"github.com/tether-go/tether/examples/internal/selfsigned"
	"go.uber.org/goleak"
)

// bin is the directory that holds the built programs.
var bin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "tether-examples-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := extest.Build(dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	bin = dir
	// Every process is waited for, so no goroutine of os/exec is left.
	goleak.VerifyTestMain(removeAfter{m, dir})
}

// removeAfter runs the tests, then removes the folder of built programs,
// before goleak looks for goroutines left behind.
type removeAfter struct {
	m   *testing.M
	dir string
}

func (r removeAfter) Run() int {
	defer os.RemoveAll(r.dir)
	return r.m.Run()
}

func program(name string) string { return filepath.Join(bin, name) }

// fixture is what one test case's programs share: a temporary directory,
// for socket files, the fd example's file and certificates.
type fixture struct {
	dir  string
	cert selfsigned.Pair
	// ca is the certificate a TLS client trusts: cert.pem, which the
	// Python server uses, unless the Go server made its own.
	ca string
}

func newFixture(t *testing.T) *fixture {
	pair, err := selfsigned.Generate()
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{dir: t.TempDir(), cert: pair}
	f.ca = f.path("cert.pem")
	if err := pair.WriteFiles(f.path("cert.pem"), f.path("key.pem")); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) path(name string) string { return filepath.Join(f.dir, name) }

// hostPort splits a server's "listening on" address.
func hostPort(t *testing.T, addr string) (host, port string) {
	t.Helper()
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatalf("server address %q: %v", addr, err)
	}
	return host, port
}

// A pair is one seed example: its Go server and client, the seed's Python
// ones, and what each client prints.
type pair struct {
	name string

	server     string                                       // the Go server
	serverArgs func(f *fixture) []string                    // it listens on a free port or in f.dir
	client     string                                       // the Go client
	clientArgs func(f *fixture, host, port string) []string // to the server's address
	want       string                                       // what the Go client prints

	pyServer     string
	pyServerArgs func(f *fixture, port string) []string
	pyClient     string
	pyClientArgs func(f *fixture, host, port string) []string
	pyWant       string // what the Python client prints
	// serverSees, if set, is a line the Go server prints for the Python
	// client, whose own output says nothing (the UDP client only sends).
	serverSees string
	udp        bool // the Python server needs a free UDP port, not TCP
}

var pairs = []pair{
	{
		name:         "tcp",
		server:       "tcpserver",
		serverArgs:   func(*fixture) []string { return []string{"-port", "0"} },
		client:       "tcpclient",
		clientArgs:   func(_ *fixture, host, port string) []string { return []string{"-host", host, "-port", port} },
		want:         `"Hello, Client\n\n"`,
		pyServer:     "tcp_server.py",
		pyServerArgs: func(_ *fixture, port string) []string { return []string{port} },
		pyClient:     "tcp_client.py",
		pyClientArgs: func(_ *fixture, host, port string) []string { return []string{port, host} },
		pyWant:       `b'Hello, Client\n\n'`,
	},
	{
		name:         "unix",
		server:       "unixserver",
		serverArgs:   func(f *fixture) []string { return []string{"-path", f.path("sock")} },
		client:       "unixclient",
		clientArgs:   func(f *fixture, _, _ string) []string { return []string{"-path", f.path("sock")} },
		want:         `"Hello, Client\n\n"`,
		pyServer:     "unix_server.py",
		pyServerArgs: func(f *fixture, _ string) []string { return []string{f.path("sock")} },
		pyClient:     "unix_client.py",
		pyClientArgs: func(f *fixture, _, _ string) []string { return []string{f.path("sock")} },
		pyWant:       `b'Hello, Client\n\n'`,
	},
	{
		name:         "fd",
		server:       "fdserver",
		serverArgs:   func(f *fixture) []string { return []string{"-path", f.path("sock"), "-file", f.path("examplefile")} },
		client:       "fdclient",
		clientArgs:   func(f *fixture, _, _ string) []string { return []string{"-path", f.path("sock")} },
		want:         "Test file",
		pyServer:     "fd_server.py",
		pyServerArgs: func(f *fixture, _ string) []string { return []string{f.path("sock"), f.path("examplefile")} },
		pyClient:     "fd_client.py",
		pyClientArgs: func(f *fixture, _, _ string) []string { return []string{f.path("sock")} },
		pyWant:       "Test file",
	},
	{
		name:       "udp",
		server:     "udpserver",
		serverArgs: func(*fixture) []string { return []string{"-port", "0"} },
		client:     "udpclient",
		clientArgs: func(_ *fixture, host, port string) []string {
			// A loaded machine may be slow to answer; a closed port is
			// still refused at once.
			return []string{"-host", host, "-port", port, "-wait", "10s"}
		},
		want:         `"Hello, Hi there!\n"`,
		pyServer:     "udp_server.py",
		pyServerArgs: func(_ *fixture, port string) []string { return []string{port} },
		pyClient:     "udp_client.py",
		pyClientArgs: func(_ *fixture, host, port string) []string { return []string{port, host} },
		serverSees:   `sent "Hi there!\n"`,
		udp:          true,
	},
	{
		name:   "tls",
		server: "tlsserver",
		serverArgs: func(f *fixture) []string {
			f.ca = f.path("made-cert.pem") // the server makes its certificate
			return []string{"-port", "0", "-cafile-out", f.ca}
		},
		client: "tlsclient",
		clientArgs: func(f *fixture, _, port string) []string {
			return []string{"-host", "localhost", "-port", port, "-cafile", f.ca}
		},
		want:     `"Hello, Client\n\n"`,
		pyServer: "tls_server.py",
		pyServerArgs: func(f *fixture, port string) []string {
			return []string{port, f.path("cert.pem"), f.path("key.pem")}
		},
		pyClient: "tls_client.py",
		pyClientArgs: func(f *fixture, _, port string) []string {
			return []string{port, f.ca, "localhost"}
		},
		pyWant: `b'Hello, Client\n\n'`,
	},
}

// stop interrupts a Go server and checks that it said it shut down
// cleanly.
func stop(t *testing.T, server *extest.Proc) {
	t.Helper()
	out := server.Interrupt(t)
	if !strings.Contains(out, "received interrupt: shut down cleanly") {
		t.Errorf("server output after SIGINT:\n%s\nwant a line saying it received interrupt and shut down cleanly", out)
	}
}

func checkOutput(t *testing.T, who, got, want string) {
	t.Helper()
	if strings.TrimSpace(got) != want {
		t.Errorf("%s printed %q, want %q", who, strings.TrimSpace(got), want)
	}
}

// TestGoClientGoServer runs each Go client against its Go server.
func TestGoClientGoServer(t *testing.T) {
	for _, p := range pairs {
		t.Run(p.name, func(t *testing.T) {
			f := newFixture(t)
			server := extest.Start(t, program(p.server), p.serverArgs(f)...)
			host, port := "", ""
			if addr := server.Listening(t); !strings.HasPrefix(addr, "/") {
				host, port = hostPort(t, addr)
			}
			for i := range 2 { // a server serves more than one client
				out := extest.Start(t, program(p.client), p.clientArgs(f, host, port)...).Success(t)
				checkOutput(t, fmt.Sprintf("%s (run %d)", p.client, i+1), out, p.want)
			}
			stop(t, server)
		})
	}
}

// TestGoClientPythonServer runs each Go client against the seed's Python
// server.
func TestGoClientPythonServer(t *testing.T) {
	for _, p := range pairs {
		t.Run(p.name, func(t *testing.T) {
			extest.RequirePython(t)
			f := newFixture(t)
			network := "tcp"
			if p.udp {
				network = "udp"
			}
			port := extest.FreePort(t, network)
			server := extest.StartPython(t, p.pyServer, p.pyServerArgs(f, port)...)
			out := extest.Retry(t, server, program(p.client), p.clientArgs(f, "127.0.0.1", port)...)
			checkOutput(t, p.client, out, p.want)
		})
	}
}

// TestPythonClientGoServer runs the seed's Python client against each Go
// server.
func TestPythonClientGoServer(t *testing.T) {
	for _, p := range pairs {
		t.Run(p.name, func(t *testing.T) {
			extest.RequirePython(t)
			f := newFixture(t)
			server := extest.Start(t, program(p.server), p.serverArgs(f)...)
			host, port := "", ""
			if addr := server.Listening(t); !strings.HasPrefix(addr, "/") {
				host, port = hostPort(t, addr)
			}
			out := extest.StartPython(t, p.pyClient, p.pyClientArgs(f, host, port)...).Success(t)
			if p.pyWant != "" {
				checkOutput(t, p.pyClient, out, p.pyWant)
			}
			if p.serverSees != "" {
				server.WaitLine(t, p.serverSees)
			}
			stop(t, server)
		})
	}
}

// TestClientWithoutServer checks that a client with no server to talk to
// fails with an error that says why, and exit status 1.
func TestClientWithoutServer(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{name: "tcpclient", args: []string{"-host", "127.0.0.1", "-port", extest.FreePort(t, "tcp")}, want: "connection refused"},
		{name: "unixclient", args: []string{"-path", filepath.Join(dir, "none.sock")}, want: "no such file or directory"},
		{name: "udpclient", args: []string{"-port", extest.FreePort(t, "udp")}, want: "connection refused"},
		{name: "tlsclient", args: []string{"-cafile", filepath.Join(dir, "none.pem")}, want: "no such file or directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := extest.Start(t, program(tt.name), tt.args...).Wait(t)
			ee, ok := extest.ExitError(err)
			if !ok || ee.ExitCode() != 1 {
				t.Errorf("%s exited with %v, want exit status 1; output:\n%s", tt.name, err, out)
			}
			if !strings.Contains(out, tt.want) {
				t.Errorf("%s printed %q, want it to say %q", tt.name, out, tt.want)
			}
		})
	}
}

// TestDemo runs `make demo`'s program as a user would: it must exit 0,
// well within 30 seconds, having isolated every planted failure and left
// no goroutine behind.
func TestDemo(t *testing.T) {
	start := time.Now()
	out := extest.Start(t, program("echo")).Success(t)
	if took := time.Since(start); took > 30*time.Second {
		t.Errorf("the demo took %v, want under 30s", took)
	}
	for _, want := range []string{
		"300 clients at once",
		"connections served  300, every handler returned",
		"errors isolated     10: 8 idle timeouts, 1 line too long, 1 panic, 0 other",
		"drained 5 talking connections",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("demo output lacks %q; got:\n%s", want, out)
		}
	}
	if strings.Contains(out, "\r") {
		t.Errorf("demo output to a pipe has a progress line (\\r); got:\n%q", out)
	}
}

// TestHelp checks that every program explains its flags on -h, and exits
// with status 0.
func TestHelp(t *testing.T) {
	for _, name := range []string{
		"tcpserver", "tcpclient", "unixserver", "unixclient", "fdserver", "fdclient",
		"udpserver", "udpclient", "tlsserver", "tlsclient", "echo", "chat", "connect",
	} {
		t.Run(name, func(t *testing.T) {
			out := extest.Start(t, program(name), "-h").Success(t)
			if !strings.Contains(out, "sage") || !strings.Contains(out, "  -") {
				t.Errorf("%s -h printed %q, want the usage with its flags", name, out)
			}
		})
	}
}

// TestDemoInterrupted stops the demo with SIGINT while its clients talk:
// it must say so and exit 0, the connections that the shutdown closed not
// being taken for the server's failures.
func TestDemoInterrupted(t *testing.T) {
	demo := extest.Start(t, program("echo"), "-lines", "1000000")
	demo.WaitLine(t, "clients at once")
	out := demo.Interrupt(t)
	if !strings.Contains(out, "echo: tether: received interrupt: shut down cleanly") {
		t.Errorf("demo output after SIGINT:\n%s\nwant a line saying it received interrupt and shut down cleanly", out)
	}
}
