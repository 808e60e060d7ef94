package tethertest

import (
	"maps"
	"testing"
)

func TestParseLabels(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want map[string]string
	}{
		{"none", `{}`, map[string]string{}},
		{"two", `{"group":"server", "task":"handler 127.0.0.1:4242"}`, map[string]string{"group": "server", "task": "handler 127.0.0.1:4242"}},
		{"quotes and separators", `{"task":"say \"hi\", to: you"}`, map[string]string{"task": `say "hi", to: you`}},
		{"unicode", `{"task":"café ☕"}`, map[string]string{"task": "café ☕"}},
		{"malformed stops", `{"task":"a", bad}`, map[string]string{"task": "a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := parseLabels(tt.in); !maps.Equal(got, tt.want) {
				t.Errorf("parseLabels(%q): got %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseStacks(t *testing.T) {
	dump := `goroutine 1 [running]:
main.main()
	/src/main.go:10 +0x1d

goroutine 7 gp=0xc000007340 m=nil [chan receive (durable), synctest bubble 1, 3 minutes]:
example.com/p.F[...](0xc000010000, {0x1, 0x2})
	/src/p/f.go:12 +0x2c
example.com/p.(*T).m(...)
	/src/p/t.go:40
...additional frames elided...
created by example.com/p.Start in goroutine 1
	/src/p/start.go:5 +0x3f
`
	gs := parseStacks([]byte(dump))
	if len(gs) != 2 {
		t.Fatalf("got %d goroutines, want 2", len(gs))
	}
	g := gs[1]
	if g.id != 7 || g.state != "chan receive (durable), synctest bubble 1, 3 minutes" {
		t.Errorf("got id %d, state %q; want 7, %q", g.id, g.state, "chan receive (durable), synctest bubble 1, 3 minutes")
	}
	want := []frame{{"example.com/p.F[...]", "/src/p/f.go:12"}, {"example.com/p.(*T).m", "/src/p/t.go:40"}}
	if len(g.frames) != len(want) || g.frames[0] != want[0] || g.frames[1] != want[1] {
		t.Errorf("got frames %v, want %v", g.frames, want)
	}
	if g.creator != "example.com/p.Start in goroutine 1" || g.created != "/src/p/start.go:5" {
		t.Errorf("got creator %q at %q, want %q at %q", g.creator, g.created, "example.com/p.Start in goroutine 1", "/src/p/start.go:5")
	}
}

func TestParseProfileMatchesStacks(t *testing.T) {
	profile := `goroutine profile: total 3
2 @ 0x4a1b 0x4a2c 0x4a3d
# labels: {"group":"server", "task":"handler"}
#	0x4a1b	runtime.gopark+0x1d			/go/src/runtime/proc.go:435
#	0x4a2c	example.com/p.F[...]+0x2c		/src/p/f.go:12
#	0x4a3d	example.com/p.(*T).m+0x10		/src/p/t.go:40

1 @ 0x4a1b 0x4a2c 0x4a3d
#	0x4a1b	runtime.gopark+0x1d			/go/src/runtime/proc.go:435
#	0x4a2c	example.com/p.F[...]+0x2c		/src/p/f.go:12
#	0x4a3d	example.com/p.(*T).m+0x10		/src/p/t.go:40
`
	dump := `goroutine 7 [chan receive]:
example.com/p.F[...](0xc000010000)
	/src/p/f.go:12 +0x2c
example.com/p.(*T).m(...)
	/src/p/t.go:40
`
	byStack := parseProfile(profile)
	gs := parseStacks([]byte(dump))
	got := byStack[signature(gs[0].frames)]
	if len(got) != 2 || got[0].count != 2 || got[0].labels["task"] != "handler" || got[1].count != 1 || len(got[1].labels) != 0 {
		t.Errorf("got label sets %v for the goroutine's stack, want 2 with task handler and 1 without labels", got)
	}
}
