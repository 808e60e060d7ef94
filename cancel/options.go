package cancel

import "time"

// Option configures a scope opened by [Open] or one of the function forms.
type Option struct {
	apply func(*config)
}

type config struct {
	deadline    time.Time
	hasDeadline bool
	shield      bool
}

// WithDeadline gives the scope a deadline: at t the scope is cancelled, and
// its context's Deadline reports t (or an earlier deadline of an enclosing,
// unshielded scope). [Scope.SetDeadline] moves it later.
func WithDeadline(t time.Time) Option {
	return Option{apply: func(c *config) { c.deadline, c.hasDeadline = t, true }}
}

// WithTimeout gives the scope a deadline d from now. A zero or negative d
// cancels the scope at once.
func WithTimeout(d time.Duration) Option {
	return Option{apply: func(c *config) { c.deadline, c.hasDeadline = time.Now().Add(d), true }}
}

// Shielded makes the scope deaf to the cancellation and the deadlines of
// the scopes and contexts outside it (context.WithoutCancel underneath),
// while it keeps their values. The scope can still be cancelled itself and
// have its own deadline. Use it for cleanup that must run to completion
// during shutdown, bounded by a timeout of its own.
func Shielded() Option {
	return Option{apply: func(c *config) { c.shield = true }}
}
