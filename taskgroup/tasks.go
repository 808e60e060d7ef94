package taskgroup

import "slices"

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
