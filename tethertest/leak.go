package tethertest

import (
	"fmt"
	"io"
	"os"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

// VerifyNone fails t when goroutines other than the test's own are
// running, as goleak.VerifyNone does (with goleak's retries, so that
// goroutines on their way out are not reported), and reports them so that
// a person can tell what leaked:
//
//   - a goroutine that runs a named task of a taskgroup.Group is shown as
//     task "handler 127.0.0.1:4242" of group "server", with the function
//     it runs and the goroutine that started it, before its stack;
//   - other goroutines as goleak shows them;
//   - goroutines with the same stack once, with a count, so that a
//     thousand leaked handlers read as one entry.
//
// opts are goleak's, passed through (goleak.IgnoreCurrent,
// goleak.IgnoreTopFunction, ...), except goleak.Cleanup, which VerifyNone
// reports as a mistake. Call it at the end of a test, or deferred.
func VerifyNone(t testing.TB, opts ...goleak.Option) {
	t.Helper()
	if leaks := find(opts...); leaks != "" {
		t.Error(leaks)
	}
}

// Main runs the tests of m, then, if they passed, looks for goroutines
// that are still running as [VerifyNone] does, prints them to standard
// error and makes the test binary fail; it then exits. Call it from
// TestMain, in place of goleak.VerifyTestMain:
//
//	func TestMain(m *testing.M) { tethertest.Main(m) }
//
// opts are goleak's, passed through, except goleak.Cleanup.
func Main(m *testing.M, opts ...goleak.Option) {
	os.Exit(mainCode(m.Run(), os.Stderr, opts...))
}

// mainCode returns the exit code of a test binary whose tests ended with
// code, after looking for leaks if they passed.
func mainCode(code int, stderr io.Writer, opts ...goleak.Option) int {
	if code != 0 {
		return code
	}
	leaks := find(opts...)
	switch {
	case leaks == "":
		return 0
	case strings.HasPrefix(leaks, "found "):
		fmt.Fprintf(stderr, "tethertest: the tests passed, but goroutines leaked\n%s", leaks)
	default:
		fmt.Fprint(stderr, leaks) // goleak refused its options
	}
	return 1
}

// find looks for leaked goroutines with goleak and describes them; it
// returns "" when there are none.
//
// goleak decides which goroutines leaked (its retries and options are the
// ones people know); its error names them by ID. A stack dump taken just
// after has their stacks, and the goroutine profile their labels (see
// [labelsBySignature]).
func find(opts ...goleak.Option) string {
	err := goleak.Find(opts...)
	if err == nil {
		return ""
	}
	ids := leakedIDs(err.Error())
	all := snapshot()
	var leaked []goroutine
	for _, g := range all {
		if ids[g.id] {
			leaked = append(leaked, g)
		}
	}
	labels := labelsBySignature()
	if len(leaked) == 0 {
		// Not a report of leaks (a misuse of goleak's options), or every
		// leaked goroutine ended between goleak's look and ours: say what
		// goleak said.
		return "tethertest: " + err.Error() + "\n"
	}
	word := "goroutines"
	if len(leaked) == 1 {
		word = "goroutine"
	}
	msg := fmt.Sprintf("found %d unexpected %s:\n\n%s", len(leaked), word, report(leaked, all, labels))
	if missing := len(ids) - len(leaked); missing > 0 {
		msg += fmt.Sprintf("\n(and %d more that ended while this report was written)\n", missing)
	}
	return msg
}
