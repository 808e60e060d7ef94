package tethertest

import (
	"slices"
	"testing"
)

func TestCompareNames(t *testing.T) {
	tests := []struct {
		name string
		a, b string
		want int
	}{
		{"equal", "handler #7", "handler #7", 0},
		{"numbers by value", "handler #2", "handler #10", -1},
		{"ports by value", "handler 127.0.0.1:999", "handler 127.0.0.1:1000", -1},
		{"addresses by each number", "handler 10.0.0.2:80", "handler 10.0.0.10:80", -1},
		{"leading zeros", "task 007", "task 8", -1},
		{"same value, more zeros", "task 07", "task 7", 0},
		{"text byte by byte", "handler #1", "handler 1", -1},
		{"prefix first", "handler", "handler #1", -1},
		{"number against text", "a1", "ab", -1},
		{"empty", "", "a", -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := compareNames(tt.a, tt.b); got != tt.want {
				t.Errorf("compareNames(%q, %q): got %d, want %d", tt.a, tt.b, got, tt.want)
			}
			if got := compareNames(tt.b, tt.a); got != -tt.want {
				t.Errorf("compareNames(%q, %q): got %d, want %d", tt.b, tt.a, got, -tt.want)
			}
		})
	}

	names := []string{"handler #10", "handler #9", "handler #100", "handler #1"}
	slices.SortFunc(names, compareNames)
	if want := []string{"handler #1", "handler #9", "handler #10", "handler #100"}; !slices.Equal(names, want) {
		t.Errorf("sorted: got %q, want %q", names, want)
	}
}

// TestTaskFunctionServe checks that the function a streams.Serve handler's
// task runs is the handler, not Serve's machinery around it.
func TestTaskFunctionServe(t *testing.T) {
	dump := `goroutine 6 [chan receive]:
example.com/app.(*server).handle(...)
	/src/app/server.go:71
github.com/tether-go/tether/streams.(*server[...]).serveConn(0x687220, {0x680a18, 0x2b29793fc0c0}, {0x2b29793a0090, 0x17})
	/src/tether/streams/serve.go:432 +0x13a
github.com/tether-go/tether/streams.(*server[...]).acceptLoop.func1()
	/src/tether/streams/serve.go:407 +0x2f
github.com/tether-go/tether/taskgroup.(*Group).runNamed.func2({0x680ac0?, 0x2b297939cba0?})
	/src/tether/taskgroup/group.go:310 +0x2d
runtime/pprof.Do({0x680c48?, 0x2b2979462480?}, {{0x2b29793ee540?, 0x2b29793bf728?, 0x5deeb8?}}, 0x2b29793bf730)
	/go/src/runtime/pprof/runtime.go:57 +0x8c
github.com/tether-go/tether/taskgroup.(*Group).runNamed(0x2b2979424f70, {0x2b29793a0090, 0x17}, 0x2b29793ee080, 0x0)
	/src/tether/taskgroup/group.go:309 +0x2c7
created by github.com/tether-go/tether/taskgroup.(*Group).GoNamed in goroutine 24
	/src/tether/taskgroup/group.go:196 +0xf0
`
	gs := parseStacks([]byte(dump))
	if len(gs) != 1 {
		t.Fatalf("got %d goroutines, want 1", len(gs))
	}
	want := frame{"example.com/app.(*server).handle", "/src/app/server.go:71"}
	if got := taskFunction(gs[0].frames); got == nil || *got != want {
		t.Errorf("taskFunction: got %v, want %v", got, want)
	}
}
