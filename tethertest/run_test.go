package tethertest_test

import (
	"context"
	"testing"
	"time"

	"github.com/tether-go/tether/memstream"
	"github.com/tether-go/tether/streams"
	"github.com/tether-go/tether/taskgroup"
	"github.com/tether-go/tether/tethertest"
)

// TestRunLineServer is the happy path of the example's server, as a test
// of a user would write it.
func TestRunLineServer(t *testing.T) {
	tethertest.Run(t, func(ctx context.Context, g *taskgroup.Group) error {
		l := memstream.Listen()
		g.GoNamed("server", func(ctx context.Context) error {
			return streams.Serve(ctx, l, handleLines, nil)
		})
		reply, err := talk(ctx, l, "ping\n")
		if err != nil {
			return err
		}
		if reply != "PING\n" {
			t.Errorf("got reply %q, want %q", reply, "PING\n")
		}
		g.Cancel()
		return nil
	})
}

// TestRunDeadline checks that Run's context ends before the test's
// deadline, when the test has one.
func TestRunDeadline(t *testing.T) {
	testDeadline, ok := t.Deadline()
	tethertest.Run(t, func(ctx context.Context, g *taskgroup.Group) error {
		d, has := ctx.Deadline()
		switch {
		case !ok && has:
			t.Errorf("got a deadline %v for a test without one", d)
		case ok && !has:
			t.Errorf("got no deadline, want one before the test's (%v)", testDeadline)
		case ok && !d.Before(testDeadline.Add(-100*time.Millisecond+time.Millisecond)):
			t.Errorf("got deadline %v, want it at least 100 ms before the test's (%v)", d, testDeadline)
		}
		return nil
	})
}

// TestRunLeavesNothing checks that Run waits for the tasks of its group,
// nested groups included, so that a test that stops them leaks nothing.
func TestRunLeavesNothing(t *testing.T) {
	tethertest.Run(t, func(ctx context.Context, g *taskgroup.Group) error {
		for range 10 {
			g.Go(func(ctx context.Context) error {
				return taskgroup.Run(ctx, func(ctx context.Context, inner *taskgroup.Group) error {
					inner.GoNamed("waiter", func(ctx context.Context) error {
						<-ctx.Done()
						return nil
					})
					return nil
				})
			})
		}
		g.Cancel()
		return nil
	})
}
