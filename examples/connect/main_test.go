package main

import (
	"bytes"
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tether-go/tether/sockets"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// TestDemo stages the four races (runDemo checks each winner and its
// timing itself) and checks what is printed.
func TestDemo(t *testing.T) {
	var out bytes.Buffer
	if err := run(testContext(t), []string{"-demo"}, &out); err != nil {
		t.Fatalf("run -demo = %v, want nil; output:\n%s", err, &out)
	}
	for _, want := range []string{
		// Both answer.
		"the first attempt (IPv6, the family RFC 8305 tries first here) answered",
		// ::1 refuses.
		"failed: connect: connection refused",
		"started at once: attempt 1 failed",
		"attempt 1 failed, so attempt 2 (IPv4) started at once, without waiting for the delay, and won",
		// ::1 never answers.
		"started: attempt 1 had no answer after 250ms",
		"abandoned: the race is over",
		"the attempts before it did not answer within the delay, so attempt 2 (IPv4) started alongside them",
		// AAAA is late.
		"AAAA demo.test: given up",
		"so IPv4 went ahead alone",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q; got:\n%s", want, &out)
		}
	}
	if got := strings.Count(out.String(), "connected to [::1]:"); got != 1 {
		t.Errorf("%d races won by ::1, want 1; output:\n%s", got, &out)
	}
	if got := strings.Count(out.String(), "connected to 127.0.0.1:"); got != 3 {
		t.Errorf("%d races won by 127.0.0.1, want 3; output:\n%s", got, &out)
	}
}

func TestConnect(t *testing.T) {
	l, err := sockets.ListenTCP(sockets.LocalHost("127.0.0.1"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := strconv.Itoa(l.Port())
	var out bytes.Buffer
	if err := run(testContext(t), []string{"127.0.0.1", port}, &out); err != nil {
		t.Fatalf("run = %v, want nil; output:\n%s", err, &out)
	}
	if want := "connected to 127.0.0.1:" + port; !strings.Contains(out.String(), want) {
		t.Errorf("output lacks %q; got:\n%s", want, &out)
	}
	if want := "attempt 1: 127.0.0.1:" + port + " connected"; !strings.Contains(out.String(), want) {
		t.Errorf("output lacks %q; got:\n%s", want, &out)
	}
	if want := "the only address"; !strings.Contains(out.String(), want) {
		t.Errorf("output lacks %q; got:\n%s", want, &out)
	}
}

// TestRefused checks that a failed connection lists every attempt.
func TestRefused(t *testing.T) {
	l, err := sockets.ListenTCP(sockets.LocalHost("127.0.0.1"))
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(l.Port())
	l.Close() // nothing listens there now
	var out bytes.Buffer
	err = run(testContext(t), []string{"127.0.0.1", port}, &out)
	if err == nil || !strings.Contains(err.Error(), "connection refused") {
		t.Errorf("run = %v, want an error saying the connection was refused", err)
	}
	if want := "1. dial tcp4 127.0.0.1:" + port + ": connect: connection refused"; !strings.Contains(out.String(), want) {
		t.Errorf("output lacks %q; got:\n%s", want, &out)
	}
}

func TestBadArguments(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{name: "no arguments", args: nil, want: "want a host and a port"},
		{name: "port not a number", args: []string{"localhost", "http"}, want: `port "http" is not a number`},
		{name: "demo with a host", args: []string{"-demo", "localhost", "80"}, want: "-demo takes no host and port"},
		{name: "zero delay", args: []string{"-delay", "0s", "localhost", "80"}, want: "-delay and -timeout must be positive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			err := run(context.Background(), tt.args, &out)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("run(%q) = %v, want an error containing %q", tt.args, err, tt.want)
			}
		})
	}
}
