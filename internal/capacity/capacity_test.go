package capacity

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/coldbench/coldbench/internal/cost"
	"github.com/coldbench/coldbench/pricing"
	"github.com/coldbench/coldbench/results"
	"github.com/coldbench/coldbench/scenarios"
)

// step is a synthetic complete step: its target rate, p50 and p99 (ms),
// and whether it passed.
func step(rate, p50, p99 float64, pass bool) results.CapacityStep {
	return results.CapacityStep{Target: rate, Complete: true, Pass: pass,
		Latency: results.Percentiles{Count: 100, P50Ms: p50, P99Ms: p99}}
}

func TestAnalyze(t *testing.T) {
	t.Parallel()
	cut := step(60, 10, 20, false)
	cut.Complete = false
	empty := step(10, 0, 0, false) // cut short before any request succeeded
	empty.Latency, empty.Complete = results.Percentiles{}, false
	tests := []struct {
		name  string
		steps []results.CapacityStep
		rise  float64
		// want: max sustainable, break and knee steps (-1 for none)
		max, brk, knee, baseline int
	}{
		{"flat latency, break on errors", []results.CapacityStep{step(10, 10, 20, true), step(20, 10, 22, true), step(30, 11, 25, true), step(40, 11, 24, false)},
			0.5, 2, 3, -1, 0},
		// p99 30 is exactly 50% above 20: not more, so not the knee; 31 is.
		{"p99 rises past the threshold", []results.CapacityStep{step(10, 10, 20, true), step(20, 10, 30, true), step(30, 11, 31, true), step(40, 30, 90, false)},
			0.5, 2, 3, 2, 0},
		{"p50 rises first", []results.CapacityStep{step(10, 10, 20, true), step(20, 12.5, 21, true), step(30, 13, 22, true)},
			0.25, 2, -1, 2, 0},
		{"the knee may be the break", []results.CapacityStep{step(10, 10, 20, true), step(20, 10, 20, true), step(30, 40, 400, false)},
			0.5, 1, 2, 2, 0},
		{"no break: the ramp reached its max", []results.CapacityStep{step(10, 10, 20, true), step(20, 10, 20, true)},
			0.5, 1, -1, -1, 0},
		{"the first step fails", []results.CapacityStep{step(10, 50, 900, false)},
			0.5, -1, 0, -1, 0},
		// A step with no successful request cannot be the baseline.
		{"baseline skips a step without latency", []results.CapacityStep{empty, step(20, 10, 20, true), step(30, 10, 40, false)},
			0.5, 1, 2, 2, 1},
		// A step cut short by Ctrl-C takes no part.
		{"cut short", []results.CapacityStep{step(10, 10, 20, true), step(20, 10, 20, true), cut},
			0.5, 1, -1, -1, 0},
		// After the break nothing counts, not even a knee.
		{"steps after the break are ignored", []results.CapacityStep{step(10, 10, 20, true), step(20, 10, 20, false), step(30, 90, 900, true)},
			0.5, 0, 1, -1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Analyze(tt.steps, tt.rise)
			if r.MaxSustainable != tt.max || r.Break != tt.brk || r.Knee != tt.knee || r.Baseline != tt.baseline {
				t.Fatalf("max %d break %d knee %d baseline %d, want %d %d %d %d (%s)",
					r.MaxSustainable, r.Break, r.Knee, r.Baseline, tt.max, tt.brk, tt.knee, tt.baseline, r.KneeReason)
			}
			if tt.max >= 0 && r.MaxSustainableRPS != tt.steps[tt.max].Target {
				t.Errorf("max sustainable rps %v", r.MaxSustainableRPS)
			}
			if tt.knee >= 0 && (r.KneeRPS != tt.steps[tt.knee].Target || r.KneeReason == "") {
				t.Errorf("knee rps %v, reason %q", r.KneeRPS, r.KneeReason)
			}
		})
	}
}

func TestJudge(t *testing.T) {
	t.Parallel()
	set := &Settings{P99: 100 * time.Millisecond, ErrorRate: 0.01, ThrottleRate: 0.02}
	ok := func() results.CapacityStep {
		s := step(100, 20, 80, false)
		s.OK, s.AchievedRPS = 1000, 99
		return s
	}
	tests := []struct {
		name   string
		change func(*results.CapacityStep)
		want   string // a failure it must name; "" for a pass
	}{
		{"pass", func(*results.CapacityStep) {}, ""},
		{"p99 above the SLO", func(s *results.CapacityStep) { s.Latency.P99Ms = 101 }, "p99 101 ms above the SLO 100 ms"},
		{"errors above the limit", func(s *results.CapacityStep) { s.ErrorRate = 0.011 }, "errors 1.1% above 1%"},
		{"errors at the limit pass", func(s *results.CapacityStep) { s.ErrorRate = 0.01 }, ""},
		{"throttled", func(s *results.CapacityStep) { s.ThrottleRate = 0.05 }, "throttled 5% above 2%"},
		{"generator short", func(s *results.CapacityStep) { s.AchievedRPS = 85 }, "could not keep up"},
		{"nothing succeeded", func(s *results.CapacityStep) { s.OK = 0 }, "no successful request"},
	}
	for _, tt := range tests {
		s := ok()
		tt.change(&s)
		judge(&s, set)
		got := strings.Join(s.Failures, "; ")
		if s.Pass != (tt.want == "") || !strings.Contains(got, tt.want) {
			t.Errorf("%s: pass %v, failures %q; want %q", tt.name, s.Pass, got, tt.want)
		}
	}
}

// projectStep is a passing step whose requests each held an instance for
// busy, billed at billed.
func projectStep(busy, billed float64) *results.CapacityStep {
	s := step(100, 10, 20, true)
	s.Name = "05-100rps"
	s.Billed = results.TuneBilled{Source: "platform", WarmMeanMs: billed, ColdMeanMs: billed, BusyMs: busy, Count: 10}
	return &s
}

func near(got, want, tol float64) bool { return math.Abs(got-want) <= tol*math.Abs(want) }

// TestProject checks the projection's arithmetic against values worked
// out by hand.
func TestProject(t *testing.T) {
	t.Parallel()
	table, err := pricing.Lookup("aws-lambda-x86_64")
	if err != nil {
		t.Fatal(err)
	}
	flat := func(rate float64) cost.Traffic { tr, _ := cost.Daily(rate, nil); return tr }

	// 100/s × 0.2 s = 20 busy instances; +25% = 25.
	p, err := Project(Projection{Traffic: flat(100), Headroom: 0.25, MemoryMB: 1024, KeepAlive: time.Minute, Table: table,
		Step: projectStep(200, 200), MaxRPS: 80})
	if err != nil {
		t.Fatal(err)
	}
	if !near(p.PeakConcurrency, 20, 1e-9) || p.Instances != 25 || !p.AboveMax {
		t.Errorf("concurrency %v instances %d above max %v, want 20, 25, true", p.PeakConcurrency, p.Instances, p.AboveMax)
	}
	// 10/s × 0.1 s = 1, +20% = 1.2: rounded up to 2. 10/s is under the
	// maximum 80/s.
	p, err = Project(Projection{Traffic: flat(10), Headroom: 0.2, MemoryMB: 1024, KeepAlive: 10 * time.Minute, Table: table,
		Step: projectStep(100, 100), MaxRPS: 80})
	if err != nil {
		t.Fatal(err)
	}
	if p.Instances != 2 || p.AboveMax {
		t.Errorf("instances %d above max %v, want 2, false", p.Instances, p.AboveMax)
	}
	// The cost of 10/s for a month of 730 hours at 1024 MB, 100 ms billed:
	// 10 × 3600 × 730 = 26,280,000 requests; × $0.20 per million = $5.256;
	// × 0.1 s × 1 GB × $0.0000166667 per GB-second = $43.80009; $49.05609
	// in all (no prewarm, so no capacity charge).
	if c := p.Cost; !near(c.RequestsPerMonth, 26_280_000, 1e-9) || !near(c.Requests, 5.256, 1e-9) ||
		!near(c.Duration, 43.80009, 1e-6) || !near(c.Monthly, 49.05609, 1e-6) || c.Capacity != 0 {
		t.Errorf("cost %+v", c)
	}

	// Cold starts of a sparse stream: 0.01/s with requests too short to
	// overlap (1 ms) reach one instance, idle on average 100 s between
	// requests; a request starts cold when the gap before it passed the
	// keep-alive, 60 s: e^(−0.01 × 60) = 0.5488 of them, 36 an hour:
	// 19.757 cold starts an hour, 474.2 a day.
	p, err = Project(Projection{Traffic: flat(0.01), MemoryMB: 1024, KeepAlive: time.Minute, Table: table, Step: projectStep(1, 1), MaxRPS: 80})
	if err != nil {
		t.Fatal(err)
	}
	if !near(p.PeakColdPerHour, 36*math.Exp(-0.6), 1e-3) || !near(p.ColdStartsPerDay, 24*36*math.Exp(-0.6), 1e-3) || len(p.ColdStartsPerHour) != 24 {
		t.Errorf("cold starts %v an hour at most, %v a day", p.PeakColdPerHour, p.ColdStartsPerDay)
	}
	// One prewarmed instance serves that stream alone: no cold start.
	p, err = Project(Projection{Traffic: flat(0.01), MemoryMB: 1024, Prewarm: 1, KeepAlive: time.Minute, Table: table, Step: projectStep(1, 1), MaxRPS: 80})
	if err != nil {
		t.Fatal(err)
	}
	if p.ColdStartsPerDay > 0.01 {
		t.Errorf("prewarmed: %v cold starts a day, want about 0", p.ColdStartsPerDay)
	}
	// A daily shape: the peak hour sets the instances.
	shape := make([]float64, 24)
	for h := range shape {
		shape[h] = 0.5
	}
	shape[13] = 2
	tr, err := cost.Daily(50, shape)
	if err != nil {
		t.Fatal(err)
	}
	p, err = Project(Projection{Traffic: tr, Headroom: 0, MemoryMB: 1024, KeepAlive: time.Minute, Table: table, Step: projectStep(100, 100), MaxRPS: 200})
	if err != nil {
		t.Fatal(err)
	}
	if p.Traffic.PeakPerS != 100 || p.Instances != 10 {
		t.Errorf("peak %v instances %d, want 100 and 10", p.Traffic.PeakPerS, p.Instances)
	}
	if _, err := Project(Projection{Traffic: flat(1), Table: table}); err == nil {
		t.Error("no step: want an error")
	}
}

func TestDurationStep(t *testing.T) {
	t.Parallel()
	steps := []results.CapacityStep{*projectStep(1, 1), *projectStep(1, 1), *projectStep(1, 1), *projectStep(1, 1)}
	for i, r := range []float64{50, 100, 150, 200} {
		steps[i].Target, steps[i].Name = r, string(rune('a'+i))
	}
	steps[3].Pass = false
	for _, tt := range []struct {
		peak float64
		want string
	}{{10, "a"}, {120, "b"}, {125, "c"}, {400, "c"}} { // ties go up; failing steps are skipped
		if got := durationStep(steps, tt.peak); got == nil || got.Name != tt.want {
			t.Errorf("peak %v: step %v, want %s", tt.peak, got, tt.want)
		}
	}
}

func TestSettings(t *testing.T) {
	t.Parallel()
	s, err := scenarios.Parse("c.yaml", []byte(`name: c
target: {driver: sim, keep_alive: 45s}
phases: [{name: a, duration: 1s, rate: 1}]
capacity: {start: 10, factor: 2, max: 80, stop: {p99: 200ms}}
`))
	if err != nil {
		t.Fatal(err)
	}
	set, err := NewSettings(s)
	if err != nil {
		t.Fatal(err)
	}
	if len(set.Rates) != 4 || set.Factor != 2 || set.Settle != 2*time.Second || set.Measure != 8*time.Second || !set.Confirm ||
		set.P99 != 200*time.Millisecond || set.ErrorRate != 0.01 || set.ThrottleRate != 0.01 || set.KneeRise != 0.5 ||
		set.Headroom != 0.2 || set.Traffic != nil || set.KeepAlive != 45*time.Second || set.KeepAliveSource != "emulator" ||
		set.Table.Name != pricing.DefaultTable {
		t.Errorf("settings %+v", set)
	}
	// Flags: a step replaces the block's factor; the result is validated.
	step, rate := scenarios.Rate(20), scenarios.Rate(5)
	if err := (Override{Step: &step, Rate: &rate, Confirm: new(false)}).Apply(s); err != nil {
		t.Fatal(err)
	}
	if set, err = NewSettings(s); err != nil {
		t.Fatal(err)
	}
	if len(set.Rates) != 4 || set.Step != 20 || set.Factor != 0 || set.Confirm || set.Traffic == nil || set.Traffic.Peak() != 5 {
		t.Errorf("after flags: %+v", set)
	}
	low := scenarios.Rate(1)
	if err := (Override{Max: &low}).Apply(s); err == nil || !strings.Contains(err.Error(), "capacity.max") {
		t.Errorf("max below start: %v", err)
	}
}
