package tether_test

import (
	"context"
	"errors"
	"fmt"
	"syscall"
	"time"

	"github.com/tether-go/tether"
	"github.com/tether-go/tether/cancel"
	"github.com/tether-go/tether/taskgroup"
)

// Run returns when fn and every task it started have returned; until then,
// a SIGINT or SIGTERM would cancel them all.
func ExampleRun() {
	var squares [4]int
	err := tether.Run(context.Background(), func(ctx context.Context, g *taskgroup.Group) error {
		for i := range squares {
			g.Go(func(ctx context.Context) error {
				squares[i] = i * i
				return nil
			})
		}
		return nil
	})
	fmt.Println(squares, err)
	// Output: [0 1 4 9] <nil>
}

// The first task to fail cancels the others; Run returns that failure, and
// not the cancellations it caused.
func ExampleRun_failure() {
	errDisk := errors.New("disk full")
	err := tether.Run(context.Background(), func(ctx context.Context, g *taskgroup.Group) error {
		g.Go(func(ctx context.Context) error {
			return cancel.Sleep(ctx, time.Hour) // cancelled by the failure below
		})
		g.Go(func(ctx context.Context) error {
			return errDisk
		})
		return nil
	})
	fmt.Println(err, errors.Is(err, errDisk))
	// Output: disk full true
}

// Main is the whole of a main function: Ctrl-C cancels the tasks, and once
// they have returned the program exits with status 0; an error is logged
// and exits with status 1.
func ExampleMain() {
	tether.Main(func(ctx context.Context, g *taskgroup.Group) error {
		g.Go(func(ctx context.Context) error {
			for {
				if err := cancel.Sleep(ctx, time.Second); err != nil {
					return err // a cancellation: not reported
				}
				fmt.Println("tick")
			}
		})
		return nil
	})
}

// Signals chooses the signals that cancel the run: here SIGHUP only, so
// that SIGINT keeps its default effect. Signals() would watch none.
func ExampleSignals() {
	err := tether.Run(context.Background(), func(ctx context.Context, g *taskgroup.Group) error {
		g.Go(func(ctx context.Context) error {
			fmt.Println("working until done or SIGHUP")
			return nil
		})
		return nil
	}, tether.Signals(syscall.SIGHUP))
	fmt.Println(err)
	// Output:
	// working until done or SIGHUP
	// <nil>
}
