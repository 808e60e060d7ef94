package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// TestRun runs the demo with fewer clients and checks its summary: every
// connection served, every planted failure isolated and counted, nothing
// else failed, and every goroutine gone.
func TestRun(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out bytes.Buffer
	if err := run(ctx, []string{"-clients", "60", "-lines", "5"}, &out); err != nil {
		t.Fatalf("run = %v, want nil; output:\n%s", err, &out)
	}
	for _, want := range []string{
		"echo: listening on 127.0.0.1:",
		"60 clients at once: 38 normal, 7 half-closing, 8 idle, 5 still talking at shutdown, 1 garbage, 1 panic",
		"55 clients done in",
		"connections served  60, every handler returned",
		"errors isolated     10: 8 idle timeouts, 1 line too long, 1 panic, 0 other",
		"drained 5 talking connections",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q; got:\n%s", want, &out)
		}
	}
	if strings.Contains(out.String(), "\r") {
		t.Errorf("output to a buffer has a progress line (\\r); got:\n%q", &out)
	}
}

// TestRunCancelled cancels the demo while its clients run: run returns the
// cancellation, says so, and leaves no goroutine behind (goleak checks).
func TestRunCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	w := &cancelAfter{prefix: "clients at once", cancel: cancel}
	err := run(ctx, []string{"-clients", "100", "-idle", "10s"}, w)
	if err == nil || ctx.Err() == nil {
		t.Fatalf("run = %v, want the cancellation error; output:\n%s", err, &w.buf)
	}
	if !strings.Contains(w.buf.String(), "context canceled: shut down cleanly") {
		t.Errorf("output does not say it shut down cleanly; got:\n%s", &w.buf)
	}
}

// cancelAfter cancels once a write contains prefix.
type cancelAfter struct {
	buf    bytes.Buffer
	prefix string
	cancel context.CancelFunc
}

func (w *cancelAfter) Write(p []byte) (int, error) {
	if bytes.Contains(p, []byte(w.prefix)) {
		w.cancel()
	}
	return w.buf.Write(p)
}

func TestBadArguments(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{name: "too few clients", args: []string{"-clients", "3"}, want: "-clients must be at least 16, got 3"},
		{name: "too few lines", args: []string{"-lines", "1"}, want: "-lines must be at least 2, got 1"},
		{name: "zero idle", args: []string{"-idle", "0s"}, want: "-idle and -drain must be positive"},
		{name: "extra argument", args: []string{"now"}, want: `unexpected arguments ["now"]`},
		{name: "unknown flag", args: []string{"-fast"}, want: "flag provided but not defined: -fast"},
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
