package taskgroup_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tether-go/tether/cancel"
	"github.com/tether-go/tether/taskgroup"
)

func ExampleRun() {
	words := []string{"structured", "concurrency", "in", "go"}
	upper := make([]string, len(words))
	err := taskgroup.Run(context.Background(), func(ctx context.Context, g *taskgroup.Group) error {
		for i, w := range words {
			g.Go(func(ctx context.Context) error {
				upper[i] = strings.ToUpper(w)
				return nil
			})
		}
		return nil // Run returns once every task has returned
	})
	fmt.Println(upper, err)
	// Output:
	// [STRUCTURED CONCURRENCY IN GO] <nil>
}

func ExampleNew() {
	errNotFound := errors.New("not found")
	g, ctx := taskgroup.New(context.Background())
	g.Go(func(ctx context.Context) error {
		return errNotFound // fails first, and cancels the group
	})
	g.Go(func(ctx context.Context) error {
		return cancel.Sleep(ctx, time.Hour) // cancelled: left out of Wait's error
	})
	err := g.Wait()
	fmt.Println(err, err == errNotFound)
	fmt.Println(context.Cause(ctx))
	// Output:
	// not found true
	// not found
}

func ExampleStart() {
	err := taskgroup.Run(context.Background(), func(ctx context.Context, g *taskgroup.Group) error {
		// Start returns once the server is ready, with its address: no
		// window in which a client could dial too early.
		requests := make(chan string)
		addr, err := taskgroup.Start(ctx, g, func(ctx context.Context, started func(string)) error {
			started("mem:1") // listening
			for {
				select {
				case r := <-requests:
					fmt.Println("served", r)
				case <-ctx.Done():
					return cancel.Checkpoint(ctx)
				}
			}
		})
		if err != nil {
			return err
		}
		fmt.Println("server ready at", addr)
		requests <- "GET /"
		g.Cancel() // shut the server down; its cancellation is not an error
		return nil
	})
	fmt.Println("Run:", err)
	// Output:
	// server ready at mem:1
	// served GET /
	// Run: <nil>
}

func ExamplePanicsAsErrors() {
	err := taskgroup.Run(context.Background(), func(ctx context.Context, g *taskgroup.Group) error {
		g.Go(func(ctx context.Context) error {
			panic("disk on fire")
		})
		return nil
	}, taskgroup.PanicsAsErrors())
	var pe *taskgroup.PanicError
	fmt.Println(errors.As(err, &pe), pe.Value)
	// Output:
	// true disk on fire
}

func ExampleGroup_SetLimit() {
	g, _ := taskgroup.New(context.Background())
	g.SetLimit(2) // at most two tasks at once; Go waits for a slot
	results := make(chan int, 5)
	for i := range 5 {
		g.Go(func(ctx context.Context) error {
			results <- i * i
			return nil
		})
	}
	err := g.Wait()
	close(results)
	sum := 0
	for r := range results {
		sum += r
	}
	fmt.Println(sum, err)
	// Output:
	// 30 <nil>
}

func ExampleGroup() {
	// The zero Group works as errgroup's does: a group in
	// context.Background.
	var g taskgroup.Group
	sizes := make([]int, 3)
	for i, name := range []string{"a.txt", "bb.txt", "ccc.txt"} {
		g.Go(func(ctx context.Context) error {
			sizes[i] = len(name)
			return nil
		})
	}
	err := g.Wait()
	fmt.Println(sizes, err)
	// Output:
	// [5 6 7] <nil>
}
