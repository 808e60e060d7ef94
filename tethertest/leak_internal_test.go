package tethertest

import (
	"strings"
	"testing"

	"go.uber.org/goleak"
)

// TestMainCode checks Main's exit codes without exiting: a failed run
// keeps its code and is not checked for leaks; a clean one stays 0; a
// mistake in goleak's options is reported and fails the run.
func TestMainCode(t *testing.T) {
	tests := []struct {
		name     string
		code     int
		opts     []goleak.Option
		want     int
		wantText string
	}{
		{"failed tests", 1, nil, 1, ""},
		{"clean", 0, []goleak.Option{goleak.IgnoreCurrent()}, 0, ""},
		{"Cleanup is refused", 0, []goleak.Option{goleak.Cleanup(func(int) {})}, 1, "Cleanup can only be passed to VerifyNone or VerifyTestMain"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out strings.Builder
			if got := mainCode(tt.code, &out, tt.opts...); got != tt.want {
				t.Errorf("got exit code %d, want %d", got, tt.want)
			}
			if !strings.Contains(out.String(), tt.wantText) || (tt.wantText == "" && out.Len() > 0) {
				t.Errorf("got output %q, want %q", out.String(), tt.wantText)
			}
		})
	}
}
