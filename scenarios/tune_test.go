package scenarios

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// tuneOK is a valid scenario with a full tune: block; rows below vary it.
const tuneOK = `name: t
target: {driver: fake}
phases:
  - {name: a, duration: 1s, rate: 10}
tune:
  memory: [512, 1024, 1769, 3008]
  prewarm: [0, 2, 5]
  samples: {cold: 10, warm: 50}
  strategy: slo
  slo: {warm_p99: 250ms, cold_p99: 1.5s, cold_rate: 5%}
  traffic: {rate: 20/s, daily: [0.2, 0.2, 0.2, 0.2, 0.2, 0.3, 0.5, 1, 1.5, 1.5, 1.5, 1.5, 1.5, 1.5, 1.5, 1.5, 1.5, 1.2, 1, 0.8, 0.6, 0.4, 0.3, 0.2]}
  pricing: {table: aws-lambda-arm64, per_million_requests: 0.25, granularity: 10ms}
  current: {memory: 1024, prewarm: 0}
  keep_alive: 10m
  phases: false
`

func TestParseTune(t *testing.T) {
	t.Parallel()
	s, err := Parse("t.yaml", []byte(tuneOK))
	if err != nil {
		t.Fatal(err)
	}
	tu := s.Tune
	if tu == nil {
		t.Fatal("no tune block")
	}
	if fmt.Sprint(tu.Memory, tu.Prewarm) != "[512 1024 1769 3008] [0 2 5]" {
		t.Errorf("memory %v prewarm %v", tu.Memory, tu.Prewarm)
	}
	if *tu.Samples.Cold != 10 || *tu.Samples.Warm != 50 || tu.Strategy != StrategySLO {
		t.Errorf("samples %d/%d strategy %q", *tu.Samples.Cold, *tu.Samples.Warm, tu.Strategy)
	}
	if tu.SLO.WarmP99 != Duration(250*time.Millisecond) || tu.SLO.ColdP99 != Duration(1500*time.Millisecond) || *tu.SLO.ColdRate != 0.05 {
		t.Errorf("slo %+v", tu.SLO)
	}
	if *tu.Traffic.Rate != 20 || len(tu.Traffic.Daily) != 24 || tu.Traffic.Daily[8] != 1.5 {
		t.Errorf("traffic %+v", tu.Traffic)
	}
	pr := tu.Pricing
	if pr.Table != "aws-lambda-arm64" || *pr.PerMillionRequests != 0.25 || *pr.Granularity != 10*time.Millisecond {
		t.Errorf("pricing %+v", pr)
	}
	if *tu.Current != (TuneSetting{Memory: 1024, Prewarm: 0}) || tu.KeepAlive != Duration(10*time.Minute) || *tu.Phases {
		t.Errorf("current %+v keep-alive %v phases %v", tu.Current, tu.KeepAlive, *tu.Phases)
	}
	// Validate (no positions) agrees with Parse: the runner validates again.
	if err := s.Validate(); err != nil {
		t.Errorf("Validate after Parse: %v", err)
	}
	// A scenario without the block has none.
	if s, err := Parse("ok.yaml", []byte(ok)); err != nil || s.Tune != nil {
		t.Errorf("no block: %v, %+v", err, s)
	}
}

// TestTuneErrors: every mistake in a tune: block is reported at its
// file:line:column with its field path.
func TestTuneErrors(t *testing.T) {
	t.Parallel()
	// with replaces one line of tuneOK's tune block.
	with := func(old, new string) string {
		if !strings.Contains(tuneOK, old) {
			panic("tuneOK lacks " + old)
		}
		return strings.Replace(tuneOK, old, new, 1)
	}
	tests := []struct {
		name, yaml, pos, field, msg string
	}{
		// Typos are caught at the key, with a suggestion.
		{"typo in tune", with("  strategy: slo", "  stratgy: slo"), "9:3", "tune.stratgy", `did you mean "strategy"`},
		{"typo in pricing", with("per_million_requests", "per_milion_requests"), "12:38", "tune.pricing.per_milion_requests", `did you mean "per_million_requests"`},
		// Values out of range, each at its list entry.
		{"memory too small", with("[512, 1024", "[64, 1024"), "6:12", "tune.memory[0]", "64 MB: want 128 to 32768"},
		{"memory twice", with("[512, 1024, 1769, 3008]", "[512, 1024, 512]"), "6:23", "tune.memory[2]", "listed twice"},
		{"negative prewarm", with("[0, 2, 5]", "[0, -2]"), "7:16", "tune.prewarm[1]", "-2: want 0 to 10000"},
		{"empty memory", with("[512, 1024, 1769, 3008]", "[]"), "6:11", "tune.memory", "empty list"},
		{"memory not a number", with("[512, 1024", "[512MB, 1024"), "6:12", "tune.memory[0]", "expected an integer"},
		{"negative samples", with("cold: 10", "cold: -1"), "8:19", "tune.samples.cold", "-1: want 0 to 10000"},
		// Strategy and its parameters.
		{"unknown strategy", with("strategy: slo", "strategy: cheapest"), "9:13", "tune.strategy", `unknown strategy "cheapest"`},
		{"strategy typo", with("strategy: slo", "strategy: balance"), "9:13", "tune.strategy", `did you mean "balanced"`},
		{"weight without balanced", with("strategy: slo", "strategy: cost\n  weight: 0.3"), "10:11", "tune.weight", "only strategy balanced"},
		{"weight out of range", with("strategy: slo", "strategy: balanced\n  weight: 1.5"), "10:11", "tune.weight", "want 0 (all latency) to 1"},
		{"slo without targets", with("slo: {warm_p99: 250ms, cold_p99: 1.5s, cold_rate: 5%}", "slo: {}"), "10:8", "tune.slo", "needs at least one target"},
		{"slo bad share", with("cold_rate: 5%", "cold_rate: 5"), "10:53", "tune.slo.cold_rate", `write "5%"`},
		{"slo bare number", with("warm_p99: 250ms", "warm_p99: 250"), "10:19", "tune.slo.warm_p99", `such as "250s"`},
		// Traffic.
		{"rate and requests", with("traffic: {rate: 20/s,", "traffic: {requests_per_month: 1000, rate: 20/s,"), "11:45", "tune.traffic.rate", "not both"},
		{"daily too short", with("daily: [0.2, 0.2, 0.2,", "daily: ["), "11:32", "tune.traffic.daily", "21 values: want 24"},
		{"daily negative", with("[0.2, 0.2, 0.2, 0.2, 0.2, 0.3", "[-0.2, 0.2, 0.2, 0.2, 0.2, 0.3"), "11:33", "tune.traffic.daily[0]", "0 or more"},
		{"daily without rate", with("traffic: {rate: 20/s, daily", "traffic: {requests_per_month: 5, daily"), "11:43", "tune.traffic.daily", "set rate too"},
		{"bad rate", with("rate: 20/s", "rate: 20/ms"), "11:19", "tune.traffic.rate", `unit "ms"`},
		// Pricing.
		{"unknown table", with("table: aws-lambda-arm64", "table: aws-lambda-arm"), "12:20", "tune.pricing.table", `did you mean "aws-lambda-arm64"`},
		{"negative rate", with("per_million_requests: 0.25", "per_million_requests: -0.25"), "12:60", "tune.pricing.per_million_requests", "0 or more"},
		// Keep-warm.
		{"keep_warm with prewarm", tuneOK + "  keep_warm: {every: 5m, concurrent: 2}\n", "16:38", "tune.keep_warm.concurrent", "not both"},
		{"keep_warm without every", tuneOK + "  keep_warm: {}\n", "16:14", "tune.keep_warm.every", "is required"},
		// Current setting.
		{"current memory", with("current: {memory: 1024", "current: {memory: 12"), "13:21", "tune.current.memory", "12 MB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("t.yaml", []byte(tt.yaml))
			var errs Errors
			if !errors.As(err, &errs) {
				t.Fatalf("err = %v, want Errors", err)
			}
			for _, e := range errs {
				if e.Field == tt.field {
					if pos := fmt.Sprintf("%d:%d", e.Line, e.Column); pos != tt.pos || !strings.Contains(e.Msg, tt.msg) {
						t.Errorf("got %s, want %s at %s with %q", e, tt.field, tt.pos, tt.msg)
					}
					return
				}
			}
			t.Errorf("no error on %s; got:\n%v", tt.field, err)
		})
	}
}

func TestParsePercent(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want Percent
		err  bool
	}{
		{"5%", 0.05, false},
		{" 0.5 % ", 0.005, false},
		{"0.05", 0.05, false}, // a fraction
		{"1", 1, false},
		{"5", 0, true}, // more than 1 without %: ambiguous, refused
		{"lots", 0, true},
		{"NaN%", 0, true},
	}
	for _, tt := range tests {
		got, err := ParsePercent(tt.in)
		if (err != nil) != tt.err || (!tt.err && float64(got-tt.want) > 1e-12) {
			t.Errorf("ParsePercent(%q) = %v, %v", tt.in, got, err)
		}
	}
}
