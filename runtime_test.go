package tether_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"

	"go.uber.org/goleak"

	"github.com/tether-go/tether"
	"github.com/tether-go/tether/cancel"
	"github.com/tether-go/tether/taskgroup"
)

func TestMain(m *testing.M) {
	// A child started by the process tests runs the helper, not the
	// tests, and before goleak, which must not judge a Main that exits.
	if mode := os.Getenv(helperEnv); mode != "" {
		runHelper(mode)
		os.Exit(0)
	}
	goleak.VerifyTestMain(m)
}

var errBoom = errors.New("boom")

var wantWatched = []os.Signal{os.Interrupt, syscall.SIGTERM}

func TestRunReturns(t *testing.T) {
	tests := []struct {
		name string
		fn   func(ctx context.Context, g *taskgroup.Group) error
		want error
	}{
		{
			name: "fn returns nil",
			fn:   func(context.Context, *taskgroup.Group) error { return nil },
		},
		{
			name: "tasks finish",
			fn: func(ctx context.Context, g *taskgroup.Group) error {
				for range 3 {
					g.Go(func(ctx context.Context) error { return cancel.Checkpoint(ctx) })
				}
				return nil
			},
		},
		{
			name: "fn fails",
			fn:   func(context.Context, *taskgroup.Group) error { return errBoom },
			want: errBoom,
		},
		{
			name: "task fails",
			fn: func(ctx context.Context, g *taskgroup.Group) error {
				g.Go(func(ctx context.Context) error { return errBoom })
				g.Go(func(ctx context.Context) error {
					<-ctx.Done()
					return cancel.Checkpoint(ctx)
				})
				return nil
			},
			want: errBoom,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sigs := tether.UseFakeSignals(t)
			var watched []os.Signal
			err := tether.Run(t.Context(), func(ctx context.Context, g *taskgroup.Group) error {
				watched = sigs.Watched()
				return tt.fn(ctx, g)
			})
			if err != tt.want {
				t.Errorf("Run = %v, want %v", err, tt.want)
			}
			if !slices.Equal(watched, wantWatched) {
				t.Errorf("signals watched while fn ran = %v, want %v", watched, wantWatched)
			}
			if got := sigs.Watched(); got != nil {
				t.Errorf("signals watched after Run returned = %v, want none", got)
			}
		})
	}
}

func TestRunSignalCancels(t *testing.T) {
	tests := []struct {
		name    string
		sig     os.Signal
		early   bool // the signal arrives before fn runs
		wantMsg string
	}{
		{name: "SIGINT", sig: os.Interrupt, wantMsg: "tether: received interrupt"},
		{name: "SIGTERM", sig: syscall.SIGTERM, wantMsg: "tether: received terminated"},
		{name: "SIGINT before fn", sig: os.Interrupt, early: true, wantMsg: "tether: received interrupt"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sigs := tether.UseFakeSignals(t)
			if tt.early {
				sigs.SendOnNotify(tt.sig)
			}
			var taskErr, cause error
			err := tether.Run(t.Context(), func(ctx context.Context, g *taskgroup.Group) error {
				ready := make(chan struct{})
				g.Go(func(ctx context.Context) error {
					close(ready)
					<-ctx.Done()
					cause = context.Cause(ctx)
					taskErr = cancel.Checkpoint(ctx)
					return taskErr
				})
				<-ready
				if !tt.early && !sigs.Send(tt.sig) {
					t.Errorf("Send(%v) = false, want true", tt.sig)
				}
				return nil
			})
			if err != nil {
				t.Errorf("Run after a signal = %v, want nil", err)
			}
			var se *tether.SignalError
			if !errors.As(cause, &se) || se.Signal != tt.sig {
				t.Fatalf("context.Cause in task = %v, want *SignalError for %v", cause, tt.sig)
			}
			if got := se.Error(); got != tt.wantMsg {
				t.Errorf("SignalError.Error() = %q, want %q", got, tt.wantMsg)
			}
			if !errors.Is(taskErr, context.Canceled) || !errors.As(taskErr, &se) {
				t.Errorf("task's cancellation error = %v, want context.Canceled carrying the *SignalError", taskErr)
			}
			if got := sigs.Watched(); got != nil {
				t.Errorf("signals watched after Run returned = %v, want none", got)
			}
		})
	}
}

func TestRunSignalThenFailure(t *testing.T) {
	tests := []struct {
		name string
		ret  func(ctx context.Context) error // what the task returns once cancelled
		want error
	}{
		{name: "cleanup fails", ret: func(context.Context) error { return errBoom }, want: errBoom},
		{name: "returns ctx.Err", ret: func(ctx context.Context) error { return ctx.Err() }},
		{name: "returns the cause", ret: context.Cause},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sigs := tether.UseFakeSignals(t)
			err := tether.Run(t.Context(), func(ctx context.Context, g *taskgroup.Group) error {
				ready := make(chan struct{})
				g.Go(func(ctx context.Context) error {
					close(ready)
					<-ctx.Done()
					return tt.ret(ctx)
				})
				<-ready
				sigs.Send(os.Interrupt)
				return nil
			})
			if err != tt.want {
				t.Errorf("Run = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestRunSecondSignalAbandons(t *testing.T) {
	tests := []struct {
		name          string
		first, second os.Signal
		wantMsg       string
	}{
		{name: "SIGINT twice", first: os.Interrupt, second: os.Interrupt,
			wantMsg: "tether: received interrupt again during shutdown: tasks abandoned"},
		{name: "SIGINT then SIGTERM", first: os.Interrupt, second: syscall.SIGTERM,
			wantMsg: "tether: received terminated again during shutdown: tasks abandoned"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sigs := tether.UseFakeSignals(t)
			groupDone := make(chan struct{})
			tether.OnGroupDone(t, func() { close(groupDone) })

			cancelled := make(chan struct{})
			release := make(chan struct{})
			driverDone := make(chan bool)
			go func() {
				<-cancelled
				driverDone <- sigs.Send(tt.second)
			}()
			err := tether.Run(t.Context(), func(ctx context.Context, g *taskgroup.Group) error {
				ready := make(chan struct{})
				g.Go(func(ctx context.Context) error {
					close(ready)
					<-ctx.Done()
					close(cancelled)
					<-release // ignores the cancellation
					return nil
				})
				<-ready
				sigs.Send(tt.first)
				return nil
			})
			if !<-driverDone {
				t.Errorf("Send(%v) = false, want true", tt.second)
			}
			if !errors.Is(err, tether.ErrAbandoned) {
				t.Errorf("Run after a second signal = %v, want ErrAbandoned", err)
			}
			if err != nil && err.Error() != tt.wantMsg {
				t.Errorf("error message = %q, want %q", err.Error(), tt.wantMsg)
			}
			if cancel.IsCancelled(err) {
				t.Errorf("cancel.IsCancelled(%v) = true, want false: a forced exit is not a clean cancellation", err)
			}
			if got := sigs.Watched(); got != nil {
				t.Errorf("signals watched after Run returned = %v, want none", got)
			}
			select {
			case <-groupDone:
				t.Fatal("group ended before its task was released")
			default:
			}
			close(release)
			<-groupDone
		})
	}
}

func TestRunOutsideCancellation(t *testing.T) {
	tether.UseFakeSignals(t)
	ctx, cancelCtx := context.WithCancelCause(t.Context())
	err := tether.Run(ctx, func(ctx context.Context, g *taskgroup.Group) error {
		g.Go(func(ctx context.Context) error {
			<-ctx.Done()
			return cancel.Checkpoint(ctx)
		})
		cancelCtx(errBoom)
		return nil
	})
	if !cancel.IsCancelled(err) || !errors.Is(err, errBoom) {
		t.Errorf("Run with ctx cancelled outside = %v, want a cancellation carrying %v", err, errBoom)
	}
}

func TestRunPanic(t *testing.T) {
	tests := []struct {
		name string
		fn   func(ctx context.Context, g *taskgroup.Group) error
	}{
		{name: "in fn", fn: func(context.Context, *taskgroup.Group) error { panic("boom") }},
		{name: "in a task", fn: func(ctx context.Context, g *taskgroup.Group) error {
			g.Go(func(context.Context) error { panic("boom") })
			return nil
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sigs := tether.UseFakeSignals(t)
			var got any
			func() {
				defer func() { got = recover() }()
				tether.Run(t.Context(), tt.fn)
			}()
			pe, ok := got.(*taskgroup.PanicError)
			if !ok || pe.Value != "boom" {
				t.Fatalf("Run panicked with %v, want *taskgroup.PanicError with value boom", got)
			}
			if w := sigs.Watched(); w != nil {
				t.Errorf("signals watched after Run panicked = %v, want none", w)
			}
		})
	}
}

func TestRunGoexit(t *testing.T) {
	sigs := tether.UseFakeSignals(t)
	returned := false
	exited := make(chan struct{})
	go func() {
		defer close(exited)
		tether.Run(t.Context(), func(context.Context, *taskgroup.Group) error {
			runtime.Goexit()
			return nil
		})
		returned = true
	}()
	<-exited
	if returned {
		t.Error("Run returned after fn called runtime.Goexit, want the caller's goroutine to exit too")
	}
	if w := sigs.Watched(); w != nil {
		t.Errorf("signals watched after Run exited = %v, want none", w)
	}
}

func TestRunMisuse(t *testing.T) {
	fn := func(context.Context, *taskgroup.Group) error { return nil }
	tests := []struct {
		name string
		ctx  context.Context
		fn   func(context.Context, *taskgroup.Group) error
		want string
	}{
		{name: "nil context", ctx: nil, fn: fn, want: "tether: Run called with a nil context"},
		{name: "nil function", ctx: context.Background(), fn: nil, want: "tether: Run called with a nil function"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sigs := tether.UseFakeSignals(t)
			var got any
			func() {
				defer func() { got = recover() }()
				tether.Run(tt.ctx, tt.fn)
			}()
			if got != tt.want {
				t.Errorf("Run panicked with %v, want %q", got, tt.want)
			}
			if w := sigs.Watched(); w != nil {
				t.Errorf("signals watched after misuse = %v, want none", w)
			}
		})
	}
}

func TestMainExit(t *testing.T) {
	tests := []struct {
		name       string
		second     os.Signal // sent once the task ignores the first SIGINT
		fnErr      error
		wantStatus int // -1: Main returned
		wantLog    string
	}{
		{name: "success", wantStatus: -1},
		{name: "failure", fnErr: errBoom, wantStatus: 1, wantLog: `level=ERROR msg="tether: exiting" status=1 err=boom`},
		{name: "abandoned by SIGINT", second: os.Interrupt, wantStatus: 130,
			wantLog: `level=ERROR msg="tether: exiting" status=130 err="tether: received interrupt again during shutdown: tasks abandoned"`},
		{name: "abandoned by SIGTERM", second: syscall.SIGTERM, wantStatus: 143,
			wantLog: `level=ERROR msg="tether: exiting" status=143 err="tether: received terminated again during shutdown: tasks abandoned"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sigs := tether.UseFakeSignals(t)
			status := tether.FakeExit(t)
			var logs bytes.Buffer
			defaultLogger := slog.Default()
			slog.SetDefault(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{
				ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
					if a.Key == slog.TimeKey {
						return slog.Attr{}
					}
					return a
				},
			})))
			t.Cleanup(func() { slog.SetDefault(defaultLogger) })

			groupDone := make(chan struct{})
			tether.OnGroupDone(t, func() { close(groupDone) })
			cancelled := make(chan struct{})
			release := make(chan struct{})
			driverDone := make(chan struct{})
			go func() {
				defer close(driverDone)
				<-cancelled
				if tt.second != nil {
					sigs.Send(tt.second)
				}
			}()
			tether.Main(func(ctx context.Context, g *taskgroup.Group) error {
				if tt.second == nil {
					close(cancelled)
					return tt.fnErr
				}
				ready := make(chan struct{})
				g.Go(func(ctx context.Context) error {
					close(ready)
					<-ctx.Done()
					close(cancelled)
					<-release
					return nil
				})
				<-ready
				sigs.Send(os.Interrupt)
				return nil
			})
			close(release)
			<-groupDone
			<-driverDone

			if got := status(); got != tt.wantStatus {
				t.Errorf("exit status = %d, want %d", got, tt.wantStatus)
			}
			if got := strings.TrimSpace(logs.String()); got != tt.wantLog {
				t.Errorf("log = %q, want %q", got, tt.wantLog)
			}
		})
	}
}

// TestRunSignals: which signals Run watches, and which cancel its group.
func TestRunSignals(t *testing.T) {
	tests := []struct {
		name        string
		opts        []tether.Option
		wantWatched []os.Signal
		ignored     os.Signal // a signal that must not reach Run
		cancels     os.Signal // nil: none does
	}{
		{name: "default", wantWatched: wantWatched, ignored: syscall.SIGHUP, cancels: syscall.SIGTERM},
		{name: "zero Option", opts: []tether.Option{{}}, wantWatched: wantWatched, ignored: syscall.SIGHUP, cancels: os.Interrupt},
		{name: "SIGHUP only", opts: []tether.Option{tether.Signals(syscall.SIGHUP)},
			wantWatched: []os.Signal{syscall.SIGHUP}, ignored: os.Interrupt, cancels: syscall.SIGHUP},
		{name: "last one counts", opts: []tether.Option{tether.Signals(syscall.SIGHUP), tether.Signals(syscall.SIGUSR1, syscall.SIGTERM)},
			wantWatched: []os.Signal{syscall.SIGUSR1, syscall.SIGTERM}, ignored: syscall.SIGHUP, cancels: syscall.SIGUSR1},
		{name: "none", opts: []tether.Option{tether.Signals()}, wantWatched: nil, ignored: os.Interrupt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sigs := tether.UseFakeSignals(t)
			var cause error
			err := tether.Run(t.Context(), func(ctx context.Context, g *taskgroup.Group) error {
				if got := sigs.Watched(); !slices.Equal(got, tt.wantWatched) {
					t.Errorf("signals watched = %v, want %v", got, tt.wantWatched)
				}
				if sigs.Send(tt.ignored) {
					t.Errorf("Send(%v) = true, want false: not watched", tt.ignored)
				}
				if tt.cancels == nil {
					return nil
				}
				if !sigs.Send(tt.cancels) {
					t.Errorf("Send(%v) = false, want true", tt.cancels)
				}
				<-ctx.Done()
				cause = context.Cause(ctx)
				return ctx.Err()
			}, tt.opts...)
			if err != nil {
				t.Errorf("Run = %v, want nil", err)
			}
			var se *tether.SignalError
			if tt.cancels != nil && (!errors.As(cause, &se) || se.Signal != tt.cancels) {
				t.Errorf("context.Cause = %v, want *SignalError for %v", cause, tt.cancels)
			}
		})
	}
}

func TestSignalsMisuse(t *testing.T) {
	defer func() {
		if got, want := recover(), "tether: Signals called with a nil signal"; got != want {
			t.Errorf("Signals(SIGHUP, nil) panicked with %v, want %q", got, want)
		}
	}()
	tether.Signals(syscall.SIGHUP, nil)
}
