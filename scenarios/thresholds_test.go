package scenarios

import (
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

func TestParseThreshold(t *testing.T) {
	tests := []struct {
		expr string
		want string // String() of the result, or "error: " and the start of the message
	}{
		{"warm.p99 < 250ms", "warm.p99 < 250ms"},
		{"cold.p95<1.2s", "cold.p95 < 1.2s"},
		{"all.p99.9 <= 2s", "all.p99.9 <= 2s"},
		{"warm.mean < 40ms", "warm.mean < 40ms"},
		{"cold.max < 3s", "cold.max < 3s"},
		{"cold.rate < 5%", "cold.rate < 5%"},
		{"errors.rate < 0.5%", "errors.rate < 0.5%"},
		{"errors.rate < 0.005", "errors.rate < 0.5%"},   // a fraction
		{"rate >= 95%", "rate >= 95%"},                  // achieved of target
		{"dropped.rate < 0.1 %", "dropped.rate < 0.1%"}, // space before %
		{"steady: warm.p99 < 250ms", "steady: warm.p99 < 250ms"},
		{"cold burst: cold.p50 > 100ms", "cold burst: cold.p50 > 100ms"},
		{"warm.p99 < 250", `error: warm.p99 is a latency: write the unit, such as "250ms"`},
		{"warm.p99 < 5%", `error: warm.p99 is a latency: "5%" is not a duration`},
		{"cold.rate < 1s", "error: cold.rate is a share, not a duration"},
		{"cold.rate < 150%", "error: cold.rate: 150% is more than 100%"},
		{"warm.p99 = 1s", "error: operator =: want <, <=, > or >="},
		{"warm.p0 < 1s", `error: percentile "p0"`},
		{"warm.p101 < 1s", `error: percentile "p101"`},
		{"warm.median < 1s", `error: unknown statistic "median"`},
		{"hot.p99 < 1s", `error: unknown metric "hot.p99"`},
		{"warm.p99 <", "error: no value after <"},
		{"< 1s", "error: no metric before <"},
		{"warm.p99 is fast", `error: "warm.p99 is fast" is not a threshold`},
		{": warm.p99 < 1s", "error: empty phase name"},
		{"warm.p99 < -1s", "error: warm.p99: the limit must be positive"},
	}
	for _, tt := range tests {
		th, err := ParseThreshold(tt.expr)
		got := th.String()
		if err != nil {
			got = "error: " + err.Error()
		}
		if !strings.HasPrefix(got, tt.want) {
			t.Errorf("ParseThreshold(%q) = %q, want %q", tt.expr, got, tt.want)
		}
	}
}

// TestThresholdsInScenario: both forms decode, with the phase and the
// limit in the metric's unit; mistakes are reported at the token, with
// the field path, each one.
func TestThresholdsInScenario(t *testing.T) {
	good := `name: t
target: {driver: sim}
phases:
  - {name: steady, duration: 1s, rate: 10}
thresholds:
  - warm.p99 < 250ms
  - steady: errors.rate < 1%
  - steady: [rate >= 95%, cold.p50 < 1.5s]
abort_on_fail: {after: 3s}
`
	s, err := Parse("good.yaml", []byte(good))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, th := range s.Thresholds {
		got = append(got, th.String())
	}
	want := "warm.p99 < 250ms|steady: errors.rate < 1%|steady: rate >= 95%|steady: cold.p50 < 1.5s"
	if strings.Join(got, "|") != want {
		t.Errorf("thresholds %q, want %q", strings.Join(got, "|"), want)
	}
	if th := s.Thresholds[3]; th.Limit != 1500 || th.Metric.Quantile != 50 || th.Metric.Temp != "cold" {
		t.Errorf("cold.p50 < 1.5s decoded as %+v", th)
	}
	if a := s.AbortOnFail; a == nil || !a.Enabled || a.After.String() != "3s" || a.MinSamples != DefaultAbortMinSamples {
		t.Errorf("abort_on_fail %+v: want enabled, after 3s, the default minimum samples", a)
	}

	// Written back with yaml.Marshal (MarshalYAML), the thresholds parse
	// back the same.
	enc, err := yaml.Marshal(map[string]any{"thresholds": s.Thresholds, "abort_on_fail": s.AbortOnFail})
	if err != nil {
		t.Fatal(err)
	}
	head := good[:strings.Index(good, "thresholds:")]
	s2, err := Parse("again.yaml", append([]byte(head), enc...))
	if err != nil {
		t.Fatalf("%v\n%s", err, enc)
	}
	var again []string
	for _, th := range s2.Thresholds {
		again = append(again, th.String())
	}
	if strings.Join(again, "|") != want || *s2.AbortOnFail != *s.AbortOnFail {
		t.Errorf("encoded and parsed again: %q, %+v\n%s", strings.Join(again, "|"), s2.AbortOnFail, enc)
	}

	bad := `name: t
target: {driver: sim}
phases:
  - {name: steady, duration: 1s, rate: 10}
thresholds:
  - warm.p99 < 250
  - 'cold.rate < 5s'
  - stedy: errors.rate < 1%
  - steady: [rate >= 95%, 42]
  - steady: "other: warm.p50 < 1s"
  - {a: 1}: x
abort_on_fail: {after: 3s, min_sample: 3}
`
	_, err = Parse("bad.yaml", []byte(bad))
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{
		`bad.yaml:6:16: thresholds[0]: warm.p99 is a latency`,
		`bad.yaml:7:18: thresholds[1]: cold.rate is a share, not a duration`,
		`bad.yaml:8:5: thresholds[2].stedy: no phase named "stedy" (phases: steady); did you mean "steady"?`,
		`bad.yaml:9:27: thresholds[3].steady[1]: expected an expression`,
		`bad.yaml:10:13: thresholds[4].steady: the expression names phase "other" under phase "steady"`,
		`bad.yaml:11:5: thresholds[5]: a key must be a string`,
		`bad.yaml:12:16: abort_on_fail: unknown field "min_sample" (did you mean "min_samples"?)`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("errors lack %q:\n%s", want, err)
		}
	}
}
