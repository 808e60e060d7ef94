package tethertest

import (
	"cmp"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// The runtime/pprof labels that package taskgroup gives a named task.
const (
	labelGroup   = "group"
	labelTask    = "task"
	labelStarted = "started" // where the task was started, when taskgroup records it
)

// Functions of package taskgroup that run a task, by which an unnamed task
// is recognised and its own function found.
const (
	taskgroupPkg = "github.com/tether-go/tether/taskgroup."
	pprofDo      = "runtime/pprof.Do"
	thisPkg      = "github.com/tether-go/tether/tethertest."
	// The methods of streams.Serve's state, which run its handlers.
	serveMachinery = "github.com/tether-go/tether/streams.(*server["
)

// kind is a set of leaked goroutines that a report shows as one entry:
// goroutines with the same stack (so, most likely, started by the same
// code and stuck at the same place).
type kind struct {
	gs     []goroutine       // by ID
	labels []labelled        // the label sets of the goroutine profile for this stack
	all    map[int]goroutine // every goroutine of the dump, to say where a parent is
}

// report describes goroutines gs for a person: tasks of tether groups by
// their names, each kind of goroutine once with a count, then the stack.
// all is the dump that gs come from, and labels the goroutine profile read
// just after it (see [labelsBySignature]).
func report(gs, all []goroutine, labels map[string][]labelled) string {
	byID := make(map[int]goroutine, len(all))
	for _, g := range all {
		byID[g.id] = g
	}
	bySig := make(map[string]*kind)
	var kinds []*kind
	for _, g := range gs {
		sig := signature(g.frames)
		k := bySig[sig]
		if k == nil {
			k = &kind{labels: labels[sig], all: byID}
			bySig[sig] = k
			kinds = append(kinds, k)
		}
		k.gs = append(k.gs, g)
	}
	// Named tasks first, then the most numerous, then the oldest.
	slices.SortStableFunc(kinds, func(a, b *kind) int {
		if c := cmpBool(b.named(), a.named()); c != 0 {
			return c
		}
		if c := cmp.Compare(len(b.gs), len(a.gs)); c != 0 {
			return c
		}
		return cmp.Compare(a.gs[0].id, b.gs[0].id)
	})
	var b strings.Builder
	for i, k := range kinds {
		if i > 0 {
			b.WriteByte('\n')
		}
		k.write(&b)
	}
	return b.String()
}

func cmpBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	default:
		return -1
	}
}

// named reports whether the goroutines of k run named tasks.
func (k *kind) named() bool {
	for _, l := range k.labels {
		if _, ok := l.labels[labelTask]; ok {
			return true
		}
	}
	return false
}

func (k *kind) write(b *strings.Builder) {
	first, n := k.gs[0], len(k.gs)
	isTask := taskFunction(first.frames) != nil
	switch {
	case k.named() && isTask:
		b.WriteString(k.taskTitle())
		b.WriteByte('\n')
		k.writeOrigin(b)
	case k.named():
		// A goroutine inherits the labels of the one that started it: this
		// is not a task, but a goroutine that a task started.
		for line := range strings.SplitSeq(k.taskTitle(), "\n") {
			fmt.Fprintf(b, "started inside %s\n", strings.TrimSpace(line))
		}
		if n > 1 {
			fmt.Fprintf(b, "%d goroutines with the same stack as this one:\n", n)
		}
		fmt.Fprintf(b, "Goroutine %d in state %s, with %s on top of the stack:\n", first.id, first.state, first.top())
		writeStack(b, first)
		return
	case first.runs(runBodyFunc):
		b.WriteString("the body of tethertest.Run\n")
		k.writeOrigin(b)
	case isTask:
		if n == 1 {
			b.WriteString("an unnamed task (taskgroup.Group.Go)\n")
		} else {
			fmt.Fprintf(b, "%d unnamed tasks (taskgroup.Group.Go)\n", n)
		}
		k.writeOrigin(b)
	default:
		// As goleak shows a goroutine, so that what people know (and
		// search for) still reads the same.
		if n > 1 {
			fmt.Fprintf(b, "%d goroutines with the same stack as this one:\n", n)
		}
		fmt.Fprintf(b, "Goroutine %d in state %s, with %s on top of the stack:\n", first.id, first.state, first.top())
		writeStack(b, first)
		return
	}
	fmt.Fprintf(b, "  goroutine %d [%s]", first.id, first.state)
	if n > 1 {
		fmt.Fprintf(b, " (and %d more with the same stack)", n-1)
	}
	b.WriteString(":\n")
	writeStack(b, first)
}

func writeStack(b *strings.Builder, g goroutine) {
	for line := range strings.SplitSeq(g.text, "\n") {
		b.WriteString("    ")
		b.WriteString(line)
		b.WriteByte('\n')
	}
}

// taskTitle is the first lines of a kind of named tasks, one per group:
//
//	task "handler 127.0.0.1:4242" of group "server"
//	1000 tasks of group "server": "handler 127.0.0.1:1", "handler 127.0.0.1:2", "handler 127.0.0.1:3" and 997 more
//
// The counts come from the goroutine profile, which counts goroutines by
// stack and labels; when goroutines with this stack were not leaked
// (started before the check began, or ignored), the profile cannot tell
// which labels are theirs, and the title says so.
func (k *kind) taskTitle() string {
	type group struct {
		name  string
		tasks map[string]int
		n     int
	}
	byName := make(map[string]*group)
	for _, l := range k.labels {
		name, ok := l.labels[labelTask]
		if !ok {
			continue
		}
		gname := l.labels[labelGroup]
		g := byName[gname]
		if g == nil {
			g = &group{name: gname, tasks: make(map[string]int)}
			byName[gname] = g
		}
		g.tasks[name] += l.count
		g.n += l.count
	}
	groups := slices.SortedFunc(maps.Values(byName), func(a, b *group) int {
		return cmp.Or(cmp.Compare(b.n, a.n), cmp.Compare(a.name, b.name))
	})
	var lines []string
	for _, g := range groups {
		if g.n == 1 {
			for name := range g.tasks {
				lines = append(lines, fmt.Sprintf("task %q of group %q", name, g.name))
			}
			continue
		}
		names := slices.SortedFunc(maps.Keys(g.tasks), compareNames)
		shown := make([]string, 0, 3)
		for _, name := range names[:min(3, len(names))] {
			s := strconv.Quote(name)
			if c := g.tasks[name]; c > 1 {
				s += fmt.Sprintf(" (×%d)", c)
			}
			shown = append(shown, s)
		}
		list := strings.Join(shown, ", ")
		if rest := len(names) - len(shown); rest > 0 {
			list += fmt.Sprintf(" and %d more", rest)
		}
		lines = append(lines, fmt.Sprintf("%d tasks of group %q: %s", g.n, g.name, list))
	}
	if total, n := k.total(), len(k.gs); total > n {
		lines = append(lines, fmt.Sprintf("  (these are the names of all %d goroutines with this stack; %d of them leaked)", total, n))
	}
	return strings.Join(lines, "\n")
}

func (k *kind) total() int {
	t := 0
	for _, l := range k.labels {
		t += l.count
	}
	return t
}

// started returns where the tasks were started, when taskgroup recorded it
// in a label and it is the same for every task of k.
func (k *kind) started() string {
	where := ""
	for _, l := range k.labels {
		s := l.labels[labelStarted]
		if s == "" || (where != "" && s != where) {
			return ""
		}
		where = s
	}
	return where
}

// writeOrigin writes where the tasks of k were started and the function
// they run: the "created by" line of a task is always package taskgroup's
// own go statement, which says nothing, but the goroutine that started it
// and the function it runs do.
func (k *kind) writeOrigin(b *strings.Builder) {
	if where := k.started(); where != "" {
		fmt.Fprintf(b, "  started at %s\n", where)
	}
	first := k.gs[0]
	b.WriteString(" ")
	if fn := taskFunction(first.frames); fn != nil {
		fmt.Fprintf(b, " runs %s (%s),", fn.fn, fn.pos)
	}
	parents := make(map[int]bool)
	for _, g := range k.gs {
		if id, ok := g.parent(); ok {
			parents[id] = true
		}
	}
	switch len(parents) {
	case 0:
		b.WriteString(" started by the runtime")
	case 1:
		for id := range parents {
			fmt.Fprintf(b, " started by goroutine %d", id)
			// Where the parent is now says which code started the task
			// (an accept loop, a request's handler) better than the go
			// statement inside package taskgroup does.
			if p, ok := k.all[id]; ok {
				if f := p.userTop(); f != nil {
					fmt.Fprintf(b, ", which is now in %s (%s)", f.fn, f.pos)
				}
			} else {
				b.WriteString(", which has ended")
			}
		}
	default:
		fmt.Fprintf(b, " started by %d goroutines", len(parents))
	}
	b.WriteByte('\n')
}

// parent returns the ID of the goroutine that started g.
func (g goroutine) parent() (int, bool) {
	_, in, ok := strings.Cut(g.creator, " in goroutine ")
	if !ok {
		return 0, false
	}
	id, err := strconv.Atoi(in)
	return id, err == nil
}

// userTop returns the innermost frame of g outside the runtime and the
// standard library's sync and this module's taskgroup: where g's own code
// waits.
func (g goroutine) userTop() *frame {
	for i, f := range g.frames {
		if strings.HasPrefix(f.fn, "runtime.") || strings.HasPrefix(f.fn, "sync.") ||
			strings.HasPrefix(f.fn, "internal/") || strings.HasPrefix(f.fn, taskgroupPkg) || strings.HasPrefix(f.fn, thisPkg) {
			continue
		}
		return &g.frames[i]
	}
	return nil
}

// taskFunction returns the frame of the function that a taskgroup task
// runs: the innermost frame below which there is only package taskgroup's
// machinery (and runtime/pprof.Do, for a named task; this package's Run,
// for the body of Run; streams.Serve's, for a connection's handler, which
// is the function to show). It returns nil when the goroutine is not a
// task of a taskgroup.Group.
func taskFunction(frames []frame) *frame {
	i := len(frames) - 1
	if i < 0 || !strings.HasPrefix(frames[i].fn, taskgroupPkg) {
		return nil
	}
	for i >= 0 && machinery(frames[i].fn) {
		i--
	}
	if i < 0 {
		return nil
	}
	return &frames[i]
}

// machinery reports whether fn is a function that runs a task, rather
// than the task's own.
func machinery(fn string) bool {
	return strings.HasPrefix(fn, taskgroupPkg) || fn == pprofDo ||
		strings.HasPrefix(fn, thisPkg) || strings.HasPrefix(fn, serveMachinery)
}

// top returns the function on top of the stack, as goleak names it.
func (g goroutine) top() string {
	if len(g.frames) == 0 {
		return "?"
	}
	return g.frames[0].fn
}

// goleakID finds the goroutine IDs in the error of goleak.Find, which
// lists each leaked goroutine as "Goroutine 7 in state ...".
var goleakID = regexp.MustCompile(`(?m)Goroutine (\d+) in state `)

func leakedIDs(msg string) map[int]bool {
	ids := make(map[int]bool)
	for _, m := range goleakID.FindAllStringSubmatch(msg, -1) {
		if id, err := strconv.Atoi(m[1]); err == nil {
			ids[id] = true
		}
	}
	return ids
}

// compareNames orders task names as people count: runs of digits by their
// value, so that "handler #2" comes before "handler #10", and
// "127.0.0.1:999" before "127.0.0.1:1000"; the rest byte by byte.
func compareNames(a, b string) int {
	for a != "" && b != "" {
		da, db := digits(a), digits(b)
		if da == 0 || db == 0 {
			if a[0] != b[0] {
				return cmp.Compare(a[0], b[0])
			}
			a, b = a[1:], b[1:]
			continue
		}
		// Two numbers: the one with more digits (leading zeros aside) is
		// the larger; of as many digits, the first that differs decides.
		na, nb := strings.TrimLeft(a[:da], "0"), strings.TrimLeft(b[:db], "0")
		if c := cmp.Or(cmp.Compare(len(na), len(nb)), strings.Compare(na, nb)); c != 0 {
			return c
		}
		a, b = a[da:], b[db:]
	}
	return cmp.Compare(len(a), len(b))
}

// digits returns the length of the run of ASCII digits that s starts with.
func digits(s string) int {
	n := 0
	for n < len(s) && '0' <= s[n] && s[n] <= '9' {
		n++
	}
	return n
}
