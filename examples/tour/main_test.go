package main

import (
	"bytes"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

const wantOutput = `== task group: Run waits for every task
group: 3 tasks computed [1 4 9], err=<nil>
== start: a server reports its inbox through started
start: server ready, sending two messages
start: server got "hello"
start: server got "world"
start: server saw the end of the stream
start: group done, err=<nil>
== timeouts: a task that would sleep for an hour
move_on_after: timed out=true err=<nil>
fail_after: err=cancel: timed out, is ErrTimeout=true, is DeadlineExceeded=true
== shield: cleanup that finishes despite cancellation
shield: task cancelled
shield: unshielded sleep: context canceled: cancel: scope cancelled
shield: shielded cleanup done, err=<nil>
shield: Run returned <nil>
== panic: PanicsAsErrors returns a task's panic as an error
panic: Run returned a *taskgroup.PanicError, value "disk on fire", with the task's stack
== cancel: Cancel ends the tasks, and Wait returns nil
cancel: 3 tasks waiting; calling Cancel
cancel: 3 tasks returned context.Canceled, Wait returned <nil>
`

func TestRun(t *testing.T) {
	var out bytes.Buffer
	if err := run(&out); err != nil {
		t.Fatalf("run = %v, want nil", err)
	}
	if got := out.String(); got != wantOutput {
		gotLines, wantLines := strings.Split(got, "\n"), strings.Split(wantOutput, "\n")
		for i := range max(len(gotLines), len(wantLines)) {
			var g, w string
			if i < len(gotLines) {
				g = gotLines[i]
			}
			if i < len(wantLines) {
				w = wantLines[i]
			}
			if g != w {
				t.Errorf("line %d: got %q, want %q", i+1, g, w)
			}
		}
	}
}
