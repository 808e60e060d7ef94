// Command tour shows tether's main ideas one by one, printing what happens:
// a task group, Start, timeouts, a shield, a panic turned into an error,
// and a clean cancellation.
//
//	go run ./examples/tour
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tether-go/tether"
	"github.com/tether-go/tether/cancel"
	"github.com/tether-go/tether/memstream"
	"github.com/tether-go/tether/streams"
	"github.com/tether-go/tether/taskgroup"
)

func main() {
	if err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "tour:", err)
		os.Exit(1)
	}
}

// run runs the tour inside tether.Run, so that Ctrl-C cancels it, and
// prints to w. What it prints never depends on timing: whenever two tasks
// print, a channel orders them.
func run(w io.Writer) error {
	say := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
	return tether.Run(context.Background(), func(ctx context.Context, _ *taskgroup.Group) error {
		for _, step := range []func(context.Context, func(string, ...any)) error{
			groupStep, startStep, timeoutStep, shieldStep, panicStep, cancelStep,
		} {
			if err := step(ctx, say); err != nil {
				return err
			}
		}
		return nil
	})
}

// groupStep: taskgroup.Run returns only when every task has returned.
func groupStep(ctx context.Context, say func(string, ...any)) error {
	say("== task group: Run waits for every task")
	var squares [3]int
	err := taskgroup.Run(ctx, func(ctx context.Context, g *taskgroup.Group) error {
		for i := range squares {
			g.Go(func(ctx context.Context) error {
				squares[i] = (i + 1) * (i + 1)
				return nil
			})
		}
		return nil
	})
	say("group: 3 tasks computed %v, err=%v", squares, err)
	return err
}

// startStep: Start returns once the task has called started, with the
// value it reported: here the sending end of the server's inbox.
func startStep(ctx context.Context, say func(string, ...any)) error {
	say("== start: a server reports its inbox through started")
	err := taskgroup.Run(ctx, func(ctx context.Context, g *taskgroup.Group) error {
		inbox, err := taskgroup.Start(ctx, g, func(ctx context.Context, started func(*memstream.Sender[string])) error {
			send, recv := memstream.New[string](0)
			defer recv.Close()
			started(send)
			for {
				msg, err := recv.Receive(ctx)
				if errors.Is(err, streams.ErrEndOfStream) {
					say("start: server saw the end of the stream")
					return nil
				}
				if err != nil {
					return err
				}
				say("start: server got %q", msg)
			}
		})
		if err != nil {
			return err
		}
		defer inbox.Close()
		say("start: server ready, sending two messages")
		for _, msg := range []string{"hello", "world"} {
			if err := inbox.Send(ctx, msg); err != nil {
				return err
			}
		}
		return nil // the deferred Close ends the stream, and the server
	})
	say("start: group done, err=%v", err)
	return err
}

// timeoutStep: MoveOnAfter gives up quietly, FailAfter with an error.
func timeoutStep(ctx context.Context, say func(string, ...any)) error {
	say("== timeouts: a task that would sleep for an hour")
	sleepAnHour := func(ctx context.Context) error { return cancel.Sleep(ctx, time.Hour) }
	timedOut, err := cancel.MoveOnAfter(ctx, 10*time.Millisecond, sleepAnHour)
	say("move_on_after: timed out=%v err=%v", timedOut, err)
	if err != nil {
		return err
	}
	err = cancel.FailAfter(ctx, 10*time.Millisecond, sleepAnHour)
	say("fail_after: err=%v, is ErrTimeout=%v, is DeadlineExceeded=%v",
		err, errors.Is(err, cancel.ErrTimeout), errors.Is(err, context.DeadlineExceeded))
	if !errors.Is(err, cancel.ErrTimeout) {
		return fmt.Errorf("fail_after: got %v, want a timeout", err)
	}
	return nil
}

// shieldStep: a cancelled task still finishes its cleanup in a shielded
// scope, bounded by a timeout of its own.
func shieldStep(ctx context.Context, say func(string, ...any)) error {
	say("== shield: cleanup that finishes despite cancellation")
	err := taskgroup.Run(ctx, func(ctx context.Context, g *taskgroup.Group) error {
		running := make(chan struct{})
		g.Go(func(ctx context.Context) error {
			close(running)
			<-ctx.Done()
			say("shield: task cancelled")
			say("shield: unshielded sleep: %v", cancel.Sleep(ctx, time.Millisecond))
			err := cancel.Run(ctx, func(ctx context.Context) error {
				return cancel.Sleep(ctx, time.Millisecond) // say, flushing a file
			}, cancel.Shielded(), cancel.WithTimeout(time.Second))
			say("shield: shielded cleanup done, err=%v", err)
			return cancel.Checkpoint(ctx)
		})
		<-running
		g.Cancel()
		return nil
	})
	say("shield: Run returned %v", err)
	return err
}

// panicStep: under PanicsAsErrors, a task's panic comes back as an error
// (without it, Run would panic again, with the task's stack).
func panicStep(ctx context.Context, say func(string, ...any)) error {
	say("== panic: PanicsAsErrors returns a task's panic as an error")
	err := taskgroup.Run(ctx, func(ctx context.Context, g *taskgroup.Group) error {
		g.Go(func(context.Context) error { panic("disk on fire") })
		return nil
	}, taskgroup.PanicsAsErrors())
	var pe *taskgroup.PanicError
	if !errors.As(err, &pe) {
		return fmt.Errorf("panic: got %v, want a *taskgroup.PanicError", err)
	}
	say("panic: Run returned a *taskgroup.PanicError, value %q, with the task's stack", pe.Value)
	return nil
}

// cancelStep: g.Cancel ends every task; the cancellations it caused are
// not errors, so Wait returns nil.
func cancelStep(ctx context.Context, say func(string, ...any)) error {
	say("== cancel: Cancel ends the tasks, and Wait returns nil")
	g, _ := taskgroup.New(ctx)
	var waiting sync.WaitGroup
	var cancelled atomic.Int32
	for range 3 {
		waiting.Add(1)
		g.Go(func(ctx context.Context) error {
			waiting.Done()
			<-ctx.Done()
			err := cancel.Checkpoint(ctx)
			if errors.Is(err, context.Canceled) {
				cancelled.Add(1)
			}
			return err
		})
	}
	waiting.Wait()
	say("cancel: 3 tasks waiting; calling Cancel")
	g.Cancel()
	err := g.Wait()
	say("cancel: %d tasks returned context.Canceled, Wait returned %v", cancelled.Load(), err)
	return err
}
