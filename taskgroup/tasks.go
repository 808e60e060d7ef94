package taskgroup

import (
	"maps"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
)

// Tasks returns the names of the named tasks of g (started with
// [Group.GoNamed]) that are still running, sorted. Unnamed tasks are not
// tracked, so that they cost no more than errgroup's.
func Tasks(g *Group) []string {
	g.mu.Lock()
	names := make([]string, 0, len(g.named))
	for t := range g.named {
		names = append(names, t.name)
	}
	g.mu.Unlock()
	slices.Sort(names)
	return names
}

// callSite returns where the function that called its caller was, as
// "file:line": for GoNamed, the call of GoNamed. It must be called
// directly by the exported function whose caller it reports.
//
// runtime.Caller would cost five times as much as runtime.Callers and
// allocate the string every time; the program counter identifies the call
// site (inlined frames included), so each site's string is made once and
// kept in sites.
func callSite() string {
	var pc [1]uintptr
	// Skip runtime.Callers, callSite and GoNamed.
	if runtime.Callers(3, pc[:]) == 0 {
		return ""
	}
	if m := sites.Load(); m != nil {
		if where, ok := (*m)[pc[0]]; ok {
			return where
		}
	}
	return newCallSite(pc[0])
}

// newCallSite resolves pc to its file and line the first time the call
// site is seen, and adds it to sites.
func newCallSite(pc uintptr) string {
	frame, _ := runtime.CallersFrames([]uintptr{pc}).Next()
	where := frame.File + ":" + strconv.Itoa(frame.Line)
	// A program has a fixed number of call sites, so the map stays small:
	// read without a lock, it is copied to add one.
	sitesMu.Lock()
	defer sitesMu.Unlock()
	m := map[uintptr]string{pc: where}
	if old := sites.Load(); old != nil {
		maps.Copy(m, *old)
	}
	sites.Store(&m)
	return where
}

var (
	sites   atomic.Pointer[map[uintptr]string] // by the program counter of the call
	sitesMu sync.Mutex                         // held to replace sites
)
