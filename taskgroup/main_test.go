package taskgroup_test

import (
	"errors"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

var (
	errBoom  = errors.New("boom")
	errOther = errors.New("other")
)

// mustPanic runs fn and returns what it panicked with, failing the test if
// it did not panic.
func mustPanic(t *testing.T, fn func()) (r any) {
	t.Helper()
	defer func() {
		r = recover()
		if r == nil {
			t.Errorf("did not panic")
		}
	}()
	fn()
	return nil
}
