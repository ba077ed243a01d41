package scenarios

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// TestParseTrace: the trace: block's values and defaults, and its errors
// at file:line:column with the field.
func TestParseTrace(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name     string
		block    string // appended to a good scenario
		on       bool
		ratio    float64
		state    string
		pos, msg string // the error's "line:col" and a substring; "" for none
	}{
		// No block: on, every request sampled.
		{"default", "", true, 1, "", "", ""},
		{"off", "trace: {enabled: false}\n", false, 1, "", "", ""},
		{"unsampled", "trace: {sampled: false}\n", true, 0, "", "", ""},
		{"ratio and state", "trace: {sampled: 0.1, tracestate: \"rojo=00f067aa0ba902b7,congo=t61rcWkgMzE\"}\n", true, 0.1, "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE", "", ""},
		{"tenant key", "trace: {tracestate: \"fw529a3039@dt=abc\"}\n", true, 1, "fw529a3039@dt=abc", "", ""},
		// Errors.
		{"ratio above 1", "trace: {sampled: 2}\n", true, 0, "", "7:18", "want true, false or a fraction from 0 to 1"},
		{"word for ratio", "trace: {sampled: most}\n", true, 0, "", "7:18", "invalid sampled \"most\""},
		{"upper-case key", "trace: {tracestate: \"Rojo=1\"}\n", true, 0, "", "7:21", `member "Rojo=1" is not key=value`},
		{"no value", "trace: {tracestate: \"rojo\"}\n", true, 0, "", "7:21", `member "rojo"`},
		{"too long", "trace: {tracestate: \"k=" + strings.Repeat("v", 600) + "\"}\n", true, 0, "", "7:21", "more than 512"},
		{"unknown field", "trace: {sample: true}\n", true, 0, "", "7:9", `did you mean "sampled"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Parse("t.yaml", []byte(ok+tt.block))
			if tt.msg == "" {
				if err != nil {
					t.Fatal(err)
				}
				if s.Trace.On() != tt.on || s.Trace.Ratio() != tt.ratio || s.Trace.TraceState != tt.state {
					t.Errorf("on %v ratio %v state %q, want %v %v %q", s.Trace.On(), s.Trace.Ratio(), s.Trace.TraceState, tt.on, tt.ratio, tt.state)
				}
				return
			}
			var errs Errors
			if !errors.As(err, &errs) {
				t.Fatalf("Parse() error = %v, want Errors", err)
			}
			for _, e := range errs {
				if fmt.Sprintf("%d:%d", e.Line, e.Column) == tt.pos && strings.HasPrefix(e.Field, "trace") && strings.Contains(e.Msg, tt.msg) {
					return
				}
			}
			t.Errorf("errors %v, want one at %s containing %q", err, tt.pos, tt.msg)
		})
	}
}
