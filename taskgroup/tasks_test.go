package taskgroup_test

import (
	"bytes"
	"context"
	"fmt"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"testing"
	"testing/synctest"

	"github.com/tether-go/tether/taskgroup"
)

func TestNamedTaskLabels(t *testing.T) {
	type labels struct{ group, task string }
	got := make(chan labels, 1)
	profile := make(chan string, 1)
	err := taskgroup.Run(context.Background(), func(ctx context.Context, g *taskgroup.Group) error {
		g.GoNamed("accept-loop", func(ctx context.Context) error {
			group, _ := pprof.Label(ctx, "group")
			task, _ := pprof.Label(ctx, "task")
			got <- labels{group, task}
			var buf bytes.Buffer
			if err := pprof.Lookup("goroutine").WriteTo(&buf, 1); err != nil {
				return err
			}
			profile <- buf.String()
			return nil
		})
		return nil
	}, taskgroup.Named("server"))
	if err != nil {
		t.Fatalf("Run = %v", err)
	}
	if l := <-got; l.group != "server" || l.task != "accept-loop" {
		t.Errorf("labels in the task's ctx = group %q, task %q; want server, accept-loop", l.group, l.task)
	}
	// The profile is written by the task itself, so its own goroutine is
	// in it with its labels.
	if p, want := <-profile, `"task":"accept-loop"`; !strings.Contains(p, want) || !strings.Contains(p, `"group":"server"`) {
		t.Errorf("goroutine profile lacks %s and \"group\":\"server\":\n%s", want, p)
	}
}

// TestNamedTaskStarted checks the label "started": where GoNamed was
// called, the same string each time from one call site (the second comes
// from the cache), another from another site.
func TestNamedTaskStarted(t *testing.T) {
	started := make(chan string, 3)
	task := func(ctx context.Context) error {
		where, _ := pprof.Label(ctx, "started")
		started <- where
		return nil
	}
	g, _ := taskgroup.New(context.Background(), taskgroup.Named("server"))
	_, file, line, _ := runtime.Caller(0)
	for range 2 {
		g.GoNamed("loop", task) // line+2
	}
	g.GoNamed("other", task) // line+4
	if err := g.Wait(); err != nil {
		t.Fatalf("Wait = %v", err)
	}
	close(started)
	var got []string
	for where := range started {
		got = append(got, where)
	}
	slices.Sort(got)
	want := []string{
		fmt.Sprintf("%s:%d", file, line+2),
		fmt.Sprintf("%s:%d", file, line+2),
		fmt.Sprintf("%s:%d", file, line+4),
	}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("started labels = %q, want %q", got, want)
	}
}

func TestTasks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g, _ := taskgroup.New(context.Background())
		if got := taskgroup.Tasks(g); len(got) != 0 {
			t.Errorf("Tasks of an empty group = %v, want none", got)
		}
		stops := map[string]chan struct{}{}
		for _, name := range []string{"writer", "reader", "pinger"} {
			stop := make(chan struct{})
			stops[name] = stop
			g.GoNamed(name, func(context.Context) error { <-stop; return nil })
		}
		g.Go(func(context.Context) error { <-stops["pinger"]; return nil }) // unnamed: not listed
		synctest.Wait()
		if got, want := taskgroup.Tasks(g), []string{"pinger", "reader", "writer"}; !slices.Equal(got, want) {
			t.Errorf("Tasks = %v, want %v", got, want)
		}
		close(stops["reader"])
		synctest.Wait()
		if got, want := taskgroup.Tasks(g), []string{"pinger", "writer"}; !slices.Equal(got, want) {
			t.Errorf("after reader finished: Tasks = %v, want %v", got, want)
		}
		close(stops["writer"])
		close(stops["pinger"])
		g.Wait()
		if got := taskgroup.Tasks(g); len(got) != 0 {
			t.Errorf("Tasks after Wait = %v, want none", got)
		}
	})
}

// Tasks must not list a task once Wait has returned, however the
// goroutines are scheduled.
func TestTasksEmptyAfterWait(t *testing.T) {
	for range 5000 {
		g, _ := taskgroup.New(context.Background())
		g.GoNamed("quick", func(context.Context) error { return nil })
		g.Wait()
		if got := taskgroup.Tasks(g); len(got) != 0 {
			t.Fatalf("Tasks after Wait = %v, want none", got)
		}
	}
}

// TestGroupName: Name returns what Named gave, and "" for a group without
// a name and for the zero Group.
func TestGroupName(t *testing.T) {
	named, _ := taskgroup.New(context.Background(), taskgroup.Named("server"))
	unnamed, _ := taskgroup.New(context.Background())
	var zero taskgroup.Group
	for _, tc := range []struct {
		name string
		g    *taskgroup.Group
		want string
	}{
		{"named", named, "server"},
		{"unnamed", unnamed, ""},
		{"zero", &zero, ""},
	} {
		if got := tc.g.Name(); got != tc.want {
			t.Errorf("%s: Name() = %q, want %q", tc.name, got, tc.want)
		}
	}
	for _, g := range []*taskgroup.Group{named, unnamed, &zero} {
		if err := g.Wait(); err != nil {
			t.Errorf("Wait: %v", err)
		}
	}
}
