package main

import (
	"bytes"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestRunPairsTetherWithPeers(t *testing.T) {
	in := `goos: linux
pkg: github.com/tether-go/tether/taskgroup
BenchmarkSpawnWait/tether-2         	 1000	       300.0 ns/op	      16 B/op	       1 allocs/op
BenchmarkSpawnWait/tether-2         	 1000	       310.0 ns/op	      16 B/op	       1 allocs/op
BenchmarkSpawnWait/tether-2         	 1000	       900.0 ns/op	      16 B/op	       1 allocs/op
BenchmarkSpawnWait/errgroup-2       	 1000	       200.0 ns/op	      16 B/op	       1 allocs/op
BenchmarkSpawnWait/waitgroup-2      	 1000	       100.0 ns/op	       8 B/op	       1 allocs/op
BenchmarkLonely-2                   	 1000	       100.0 ns/op
PASS
pkg: github.com/tether-go/tether/cancel
BenchmarkSpawnWait/tether-2         	 1000	        50.0 ns/op	       0 B/op	       0 allocs/op
BenchmarkSpawnWait/context-2        	 1000	        40.0 ns/op	       0 B/op	       0 allocs/op
PASS
`
	var out bytes.Buffer
	if err := run(strings.NewReader(in), &out); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	for _, want := range []string{"SpawnWait", "errgroup", "310.0", "200.0", "1.55x", "waitgroup", "3.10x", "cancel", "1.25x"} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	if strings.Count(got, "SpawnWait") != 3 {
		t.Errorf("got %d SpawnWait rows, want 3 (two packages' benchmarks of one name kept apart):\n%s", strings.Count(got, "SpawnWait"), got)
	}
	if strings.Contains(got, "Lonely") {
		t.Errorf("output has a benchmark without a peer:\n%s", got)
	}
}

func TestRunWithoutPairsFails(t *testing.T) {
	if err := run(strings.NewReader("BenchmarkX-2 10 5 ns/op\n"), new(bytes.Buffer)); err == nil {
		t.Fatal("got nil error for input without pairs, want an error")
	}
}
