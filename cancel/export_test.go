package cancel

// DeadlineHit reports whether s was cancelled by its own deadline before
// anything else cancelled it: what FailAfter and MoveOnAfter call a timeout.
func DeadlineHit(s *Scope) bool { return s.deadlineHit.Load() }
