package tethertest_test

import (
	"testing"

	"github.com/tether-go/tether/tethertest"
)

// The package's own tests check for leaks with the package's own Main,
// which goleak.VerifyTestMain would do as well.
func TestMain(m *testing.M) {
	tethertest.Main(m)
}
