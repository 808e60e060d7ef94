package memstream_test

import (
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// result is what a call run in another goroutine returned.
type result[T any] struct {
	v   T
	err error
}

// async runs fn in a new goroutine and returns a channel that gets its
// result.
func async[T any](fn func() (T, error)) <-chan result[T] {
	c := make(chan result[T], 1)
	go func() {
		v, err := fn()
		c <- result[T]{v, err}
	}()
	return c
}

// asyncErr is async for calls that return only an error.
func asyncErr(fn func() error) <-chan error {
	c := make(chan error, 1)
	go func() { c <- fn() }()
	return c
}

// pending reports whether nothing has arrived on c yet. Call it after
// synctest.Wait, when every goroutine of the bubble is blocked.
func pending[T any](c <-chan T) bool {
	select {
	case <-c:
		return false
	default:
		return true
	}
}
