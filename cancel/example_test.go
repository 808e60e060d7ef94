package cancel_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/tether-go/tether/cancel"
)

func ExampleMoveOnAfter() {
	ctx := context.Background()
	timedOut, err := cancel.MoveOnAfter(ctx, 10*time.Millisecond, func(ctx context.Context) error {
		// Slow work that honours ctx: cancelled when the deadline passes.
		return cancel.Sleep(ctx, time.Hour)
	})
	fmt.Println("timed out:", timedOut)
	fmt.Println("error:", err) // the deadline's cancellation was caught
	// Output:
	// timed out: true
	// error: <nil>
}

func ExampleFailAfter() {
	ctx := context.Background()
	err := cancel.FailAfter(ctx, 10*time.Millisecond, func(ctx context.Context) error {
		return cancel.Sleep(ctx, time.Hour)
	})
	fmt.Println(err)
	fmt.Println(errors.Is(err, cancel.ErrTimeout), errors.Is(err, context.DeadlineExceeded))
	// Output:
	// cancel: timed out
	// true true
}

func ExampleShielded() {
	outer, ctx := cancel.Open(context.Background())
	outer.Cancel() // shutting down

	// Cleanup that must run to completion even though ctx is cancelled,
	// bounded by a timeout of its own.
	err := cancel.Run(ctx, func(ctx context.Context) error {
		if err := cancel.Sleep(ctx, time.Millisecond); err != nil {
			return err
		}
		fmt.Println("cleanup done")
		return nil
	}, cancel.Shielded(), cancel.WithTimeout(time.Second))
	fmt.Println("shielded:", err)

	// Outside the shield, the cancellation is back.
	err = cancel.Sleep(ctx, time.Millisecond)
	fmt.Println("outside:", err != nil)
	fmt.Println("outer caught it:", outer.Close(err) == nil)
	// Output:
	// cleanup done
	// shielded: <nil>
	// outside: true
	// outer caught it: true
}

func ExampleOpen() {
	outer, octx := cancel.Open(context.Background())
	inner, ictx := cancel.Open(octx)

	outer.Cancel()
	err := cancel.Checkpoint(ictx) // every blocking call inside fails now

	// The inner scope passes the outer scope's cancellation on; the outer
	// scope catches it.
	err = inner.Close(err)
	fmt.Println("inner:", err)
	fmt.Println("outer:", outer.Close(err))
	fmt.Println("caught:", inner.CancelledCaught(), outer.CancelledCaught())
	// Output:
	// inner: context canceled: cancel: scope cancelled
	// outer: <nil>
	// caught: false true
}

func ExampleScope_SetDeadline() {
	s, ctx := cancel.Open(context.Background(), cancel.WithTimeout(time.Millisecond))
	defer s.Close(nil)
	// More work turned up: give it more time, while the scope is open.
	s.SetDeadline(time.Now().Add(time.Hour))
	err := cancel.Sleep(ctx, 20*time.Millisecond)
	fmt.Println(err)
	// Output:
	// <nil>
}

// Contexts derived from a scope's context, as any library derives them,
// report a deadline as context.DeadlineExceeded, with the scope's cause.
func ExampleFailAfter_derived() {
	ctx := context.Background()
	err := cancel.FailAfter(ctx, 10*time.Millisecond, func(ctx context.Context) error {
		reqCtx, done := context.WithCancel(ctx) // what net/http does per request
		defer done()
		<-reqCtx.Done()
		fmt.Println("request ctx:", reqCtx.Err())
		fmt.Println("cause:", context.Cause(reqCtx))
		return reqCtx.Err()
	})
	fmt.Println("FailAfter:", err)
	// Output:
	// request ctx: context deadline exceeded
	// cause: cancel: scope deadline exceeded
	// FailAfter: cancel: timed out
}
