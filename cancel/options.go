package cancel

import "time"

// Option configures a scope opened by [Open] or one of the function forms.
// The zero Option changes nothing. Options are plain values (no closure, no
// allocation), and one may be used for any number of scopes.
type Option struct {
	kind     optionKind
	deadline time.Time     // optDeadline
	timeout  time.Duration // optTimeout
}

type optionKind uint8

const (
	optNone optionKind = iota
	optDeadline
	optTimeout
	optShield
)

type config struct {
	deadline    time.Time
	hasDeadline bool
	shield      bool
}

// apply adds o to c. A later deadline or timeout replaces an earlier one.
func (o Option) apply(c *config) {
	switch o.kind {
	case optDeadline:
		c.deadline, c.hasDeadline = o.deadline, true
	case optTimeout:
		c.deadline, c.hasDeadline = time.Now().Add(o.timeout), true
	case optShield:
		c.shield = true
	}
}

// WithDeadline gives the scope a deadline: at t the scope is cancelled, and
// its context's Deadline reports t (or an earlier deadline of an enclosing,
// unshielded scope). [Scope.SetDeadline] moves it later.
func WithDeadline(t time.Time) Option {
	return Option{kind: optDeadline, deadline: t}
}

// WithTimeout gives the scope a deadline d after the moment it is opened
// (so an Option made once may be used for many scopes). A zero or negative
// d cancels the scope at once.
func WithTimeout(d time.Duration) Option {
	return Option{kind: optTimeout, timeout: d}
}

// Shielded makes the scope deaf to the cancellation and the deadlines of
// the scopes and contexts outside it (context.WithoutCancel underneath),
// while it keeps their values. The scope can still be cancelled itself and
// have its own deadline. Use it for cleanup that must run to completion
// during shutdown, bounded by a timeout of its own.
func Shielded() Option {
	return Option{kind: optShield}
}
