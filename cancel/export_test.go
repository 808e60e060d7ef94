package cancel

// DeadlineHit reports whether s was cancelled by its own deadline before
// anything else cancelled it: what FailAfter and MoveOnAfter call a timeout.
func DeadlineHit(s *Scope) bool { return s.has(deadlineHit) }

// AfterFuncs returns how many functions are registered with the AfterFunc
// method of s's context and not yet run or stopped.
func AfterFuncs(s *Scope) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	if s.list == nil {
		return 0
	}
	for e := s.list.first; e != nil; e = e.next {
		n++
	}
	return n
}
