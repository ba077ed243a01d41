package scenarios

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// capacityOK is a valid scenario with a full capacity: block; rows below
// vary it.
const capacityOK = `name: c
target: {driver: fake}
phases:
  - {name: a, duration: 1s, rate: 10}
capacity:
  start: 50/s
  step: 25/s
  max: 500/s
  settle: 1s
  measure: 4s
  stop: {p99: 250ms, error_rate: 1%, throttle_rate: 0.5%}
  confirm: false
  knee: 30%
  projection:
    traffic: {rate: 300/s, daily: [0.2, 0.2, 0.2, 0.2, 0.2, 0.3, 0.5, 1, 1.5, 1.5, 1.5, 1.5, 1.5, 1.5, 1.5, 1.5, 1.5, 1.2, 1, 0.8, 0.6, 0.4, 0.3, 0.2]}
    headroom: 25%
    prewarm: 2
    keep_alive: 10m
    memory: 1024
    pricing: {table: aws-lambda-arm64, per_million_requests: 0.25}
`

func TestParseCapacity(t *testing.T) {
	t.Parallel()
	s, err := Parse("c.yaml", []byte(capacityOK))
	if err != nil {
		t.Fatal(err)
	}
	c := s.Capacity
	if c == nil {
		t.Fatal("no capacity block")
	}
	if *c.Start != 50 || *c.Step != 25 || c.Factor != nil || *c.Max != 500 {
		t.Errorf("ramp %v %v %v %v", *c.Start, *c.Step, c.Factor, *c.Max)
	}
	if *c.Settle != Duration(time.Second) || c.Measure != Duration(4*time.Second) || *c.Confirm || *c.Knee != 0.3 {
		t.Errorf("settle %v measure %v confirm %v knee %v", *c.Settle, c.Measure, *c.Confirm, *c.Knee)
	}
	if c.Stop.P99 != Duration(250*time.Millisecond) || *c.Stop.ErrorRate != 0.01 || *c.Stop.ThrottleRate != 0.005 {
		t.Errorf("stop %+v", c.Stop)
	}
	pr := c.Projection
	if *pr.Traffic.Rate != 300 || len(pr.Traffic.Daily) != 24 || *pr.Headroom != 0.25 || pr.Prewarm != 2 ||
		pr.KeepAlive != Duration(10*time.Minute) || pr.Memory != 1024 || pr.Pricing.Table != "aws-lambda-arm64" {
		t.Errorf("projection %+v", pr)
	}
	if got := fmt.Sprint(c.Rates()); got != "[50 75 100 125 150 175 200 225 250 275 300 325 350 375 400 425 450 475 500]" {
		t.Errorf("rates %s", got)
	}
	if err := s.Validate(); err != nil {
		t.Errorf("Validate after Parse: %v", err)
	}
	// An empty block is all defaults.
	s, err = Parse("c.yaml", []byte(ok+"capacity: {}\n"))
	if err != nil || s.Capacity == nil {
		t.Fatalf("empty block: %v", err)
	}
	if r := s.Capacity.Rates(); r[0] != 10 || r[1] != 12.5 || r[len(r)-1] > 1000 || r[len(r)-1]*1.25 <= 1000 {
		t.Errorf("default rates %v", r)
	}
}

func TestCapacityRates(t *testing.T) {
	t.Parallel()
	tests := []struct {
		start, step, factor, max float64
		want                     string
	}{
		{10, 10, 0, 40, "[10 20 30 40]"},                    // additive, max reached exactly
		{10, 0, 2, 100, "[10 20 40 80]"},                    // multiplicative, stops below max
		{0.1, 0.1, 0, 0.3, "[0.1 0.2 0.30000000000000004]"}, // no drift past max from rounding
		{50, 10, 0, 40, "[]"},                               // max below start: no steps
	}
	for _, tt := range tests {
		got := fmt.Sprint(CapacityRates(tt.start, tt.step, tt.factor, tt.max))
		if tt.want == "[]" && got == "[]" {
			continue
		}
		if got != tt.want {
			t.Errorf("CapacityRates(%v, %v, %v, %v) = %s, want %s", tt.start, tt.step, tt.factor, tt.max, got, tt.want)
		}
	}
}

// TestCapacityErrors: every mistake in a capacity: block is reported at
// its file:line:column with its field path.
func TestCapacityErrors(t *testing.T) {
	t.Parallel()
	with := func(old, new string) string {
		if !strings.Contains(capacityOK, old) {
			panic("capacityOK lacks " + old)
		}
		return strings.Replace(capacityOK, old, new, 1)
	}
	tests := []struct {
		name, yaml, pos, field, msg string
	}{
		{"typo", with("  settle: 1s", "  setle: 1s"), "9:3", "capacity.setle", `did you mean "settle"`},
		{"bad start", with("start: 50/s", "start: 50/ms"), "6:10", "capacity.start", `unit "ms"`},
		{"zero step", with("step: 25/s", "step: 0"), "7:9", "capacity.step", "must be positive"},
		{"step and factor", with("step: 25/s", "step: 25/s\n  factor: 1.5"), "8:11", "capacity.factor", "not both"},
		{"factor too small", with("step: 25/s", "factor: 1"), "7:11", "capacity.factor", "want more than 1"},
		{"max below start", with("max: 500/s", "max: 20/s"), "8:8", "capacity.max", "below start"},
		{"too many steps", with("step: 25/s", "step: 0.5"), "8:8", "capacity.max", "more than 500 steps"},
		{"negative settle", with("settle: 1s", "settle: -1s"), "9:11", "capacity.settle", "0 or more"},
		{"zero measure", with("measure: 4s", "measure: 0s"), "10:12", "capacity.measure", "must be positive"},
		{"bare measure", with("measure: 4s", "measure: 4"), "10:12", "capacity.measure", `"4s"`},
		{"p99 not a duration", with("p99: 250ms", "p99: fast"), "11:15", "capacity.stop.p99", "duration"},
		{"error rate", with("error_rate: 1%", "error_rate: 2"), "11:34", "capacity.stop.error_rate", `write "2%"`},
		{"stop typo", with("throttle_rate", "throtle_rate"), "11:38", "capacity.stop.throtle_rate", `did you mean "throttle_rate"`},
		{"confirm not bool", with("confirm: false", "confirm: maybe"), "12:12", "capacity.confirm", "true or false"},
		{"knee zero", with("knee: 30%", "knee: 0%"), "13:9", "capacity.knee", "more than 0%"},
		{"daily short", with("daily: [0.2, 0.2, 0.2,", "daily: ["), "15:35", "capacity.projection.traffic.daily", "21 values: want 24"},
		{"headroom", with("headroom: 25%", "headroom: -5%"), "16:15", "capacity.projection.headroom", "want 0% to 1000%"},
		{"prewarm", with("prewarm: 2", "prewarm: -1"), "17:14", "capacity.projection.prewarm", "-1: want 0"},
		{"keep-alive", with("keep_alive: 10m", "keep_alive: 0s"), "18:17", "capacity.projection.keep_alive", "must be positive"},
		{"memory", with("memory: 1024", "memory: 64"), "19:13", "capacity.projection.memory", "64 MB"},
		{"pricing table", with("table: aws-lambda-arm64", "table: aws-lambda-arm"), "20:22", "capacity.projection.pricing.table", `did you mean "aws-lambda-arm64"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("c.yaml", []byte(tt.yaml))
			var errs Errors
			if !errors.As(err, &errs) {
				t.Fatalf("err = %v, want Errors", err)
			}
			for _, e := range errs {
				if e.Field == tt.field {
					if pos := fmt.Sprintf("%d:%d", e.Line, e.Column); pos != tt.pos || !strings.Contains(e.Msg, tt.msg) || e.File != "c.yaml" {
						t.Errorf("got %s, want %s at c.yaml:%s with %q", e, tt.field, tt.pos, tt.msg)
					}
					return
				}
			}
			t.Errorf("no error on %s; got:\n%v", tt.field, err)
		})
	}
}
