package tune

import (
	"strings"
	"testing"
	"time"

	"github.com/coldbench/coldbench/drivers"
	"github.com/coldbench/coldbench/internal/cost"
	"github.com/coldbench/coldbench/pricing"
	"github.com/coldbench/coldbench/results"
	"github.com/coldbench/coldbench/scenarios"
)

// sweepOf is a record of measured settings: name, typical ms, warm p99 ms,
// cold p99 ms, cold rate, monthly $.
func sweepOf(strategy string, rows ...[6]float64) *results.Tune {
	rec := &results.Tune{Header: results.Header{Complete: true}, Strategy: strategy, Weight: 0.5}
	for _, r := range rows {
		mem, pre := int(r[0])/10, int(r[0])%10
		rec.Settings = append(rec.Settings, results.TuneSetting{
			Name: results.SettingName(mem, pre), MemoryMB: mem, Prewarm: pre, Complete: true,
			Current:   mem == 1024 && pre == 0,
			TypicalMs: r[1],
			Warm:      results.Percentiles{Count: 10, P50Ms: r[1], P99Ms: r[2]},
			Cold:      results.Percentiles{Count: 3, P99Ms: r[3]},
			Cost:      results.TuneCost{ColdRate: r[4], Monthly: r[5]},
		})
	}
	return rec
}

func TestRecommend(t *testing.T) {
	t.Parallel()
	// memory×10+prewarm, typical, warm p99, cold p99, cold rate, monthly.
	rows := [][6]float64{
		{5120, 100, 130, 400, 0.05, 10.0},
		{10240, 52, 70, 300, 0.05, 10.2},  // the current setting
		{10242, 50, 65, 300, 0.001, 30.0}, //
		{17690, 35, 40, 280, 0.05, 9.9},   // cheapest
		{17692, 30, 38, 280, 0.001, 50.0}, // fastest
		{30082, 30.5, 38, 280, 0.001, 80.0},
	}
	slo := func(warmP99 float64, coldRate float64) *results.TuneSLO {
		return &results.TuneSLO{WarmP99Ms: warmP99, ColdRate: &coldRate}
	}
	tests := []struct {
		name, strategy   string
		weight           float64
		slo              *results.TuneSLO
		winner, runnerUp string
		reason           string
	}{
		// The cheapest; the more memory pays for itself.
		{"cost", "cost", 0, nil, "1769mb-p0", "512mb-p0", "cheapest setting at $9.90"},
		// 1769 and 3008 MB at prewarm 2 are equally fast (within 5%): the cheaper wins.
		{"speed", "speed", 0, nil, "1769mb-p2", "3008mb-p2", "the cheapest ($50.00 a month) of the 2 settings within 5%"},
		// All on cost is the cost answer; all on latency the fastest.
		{"balanced on cost", "balanced", 1, nil, "1769mb-p0", "512mb-p0", "weight 1.00"},
		{"balanced on latency", "balanced", 0, nil, "1769mb-p2", "3008mb-p2", "the fastest"},
		{"balanced evenly", "balanced", 0.5, nil, "1769mb-p0", "1024mb-p0", "the cheapest of 6"},
		// Cheapest of those meeting warm p99 ≤ 66 ms and ≤ 1% cold.
		{"slo", "slo", 0, slo(66, 0.01), "1024mb-p2", "1769mb-p2", "cheapest of the 3 settings that meet every target"},
		// Nobody meets 10 ms: the closest shortfall wins, and says so.
		{"slo unmet", "slo", 0, slo(10, 0.01), "1769mb-p2", "3008mb-p2", "No setting meets every target"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := sweepOf(tt.strategy, rows...)
			rec.Weight, rec.SLO = tt.weight, tt.slo
			r := Recommend(rec)
			if r.Winner != tt.winner || r.RunnerUp != tt.runnerUp || !strings.Contains(r.Reason, tt.reason) {
				t.Errorf("winner %s runner-up %s, want %s, %s; reason %q lacks %q", r.Winner, r.RunnerUp, tt.winner, tt.runnerUp, r.Reason, tt.reason)
			}
			if r.Before == nil || r.Before.Setting != "1024mb-p0" || r.After.Setting != tt.winner {
				t.Errorf("change %+v → %+v", r.Before, r.After)
			}
			if w := rec.Setting(tt.winner); w.Rank != 1 {
				t.Errorf("winner rank %d", w.Rank)
			}
		})
	}
}

func TestRecommendSkipsIncomplete(t *testing.T) {
	t.Parallel()
	rec := sweepOf("cost", [6]float64{5120, 100, 130, 400, 0.05, 1}, [6]float64{10240, 52, 70, 300, 0.05, 10})
	rec.Settings[0].Complete = false
	rec.Complete = false
	r := Recommend(rec)
	if r.Winner != "1024mb-p0" || r.RunnerUp != "" || !r.Partial || rec.Settings[0].Rank != 0 {
		t.Errorf("%+v", r)
	}
	rec.Settings[1].Complete = false
	if Recommend(rec) != nil {
		t.Error("a recommendation from nothing measured")
	}
}

func TestNewSweep(t *testing.T) {
	t.Parallel()
	parse := func(extra string) *scenarios.Scenario {
		t.Helper()
		s, err := scenarios.Parse("p.yaml", []byte("name: p\ntarget: {driver: sim, keep_alive: 7s}\nphases: [{name: a, duration: 1s, rate: 1}]\n"+extra))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	// No block: every default, the keep-alive from the emulator.
	p, err := NewSweep(parse(""))
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Settings) != 4 || p.Settings[0] != (drivers.Settings{MemoryMB: 512}) || p.Strategy != "balanced" ||
		p.ColdSamples != 10 || p.WarmSamples != 50 || p.KeepAlive != 7*time.Second || p.KeepAliveSource != "emulator" ||
		p.Table.Name != pricing.DefaultTable || p.Traffic.RequestsPerMonth() < 999_999 || !p.Phases {
		t.Errorf("defaults: %+v", p)
	}
	// keep_warm.concurrent stands for prewarm [0, n]; memory sorts.
	p, err = NewSweep(parse("tune: {memory: [2048, 1024], keep_warm: {every: 3m, concurrent: 2}, keep_alive: 10m}\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := []drivers.Settings{{MemoryMB: 1024}, {MemoryMB: 1024, Prewarm: 2}, {MemoryMB: 2048}, {MemoryMB: 2048, Prewarm: 2}}
	for i, s := range want {
		if p.Settings[i] != s {
			t.Errorf("setting %d = %v, want %v", i, p.Settings[i], s)
		}
	}
	if p.Mechanism != cost.KeepWarm || p.KeepWarmEvery != 3*time.Minute || p.KeepAlive != 10*time.Minute {
		t.Errorf("keep-warm plan %+v", p)
	}
	// Flags override the block, and are checked like it.
	s := parse("tune: {memory: [512], strategy: balanced, weight: 0.2, traffic: {requests_per_month: 5}}\n")
	o := Override{Memory: []int{1769, 3008}, Strategy: "cost", Rate: new(scenarios.Rate(2)), PricingTable: "cloud-run"}
	if err := o.Apply(s); err != nil {
		t.Fatal(err)
	}
	if p, err = NewSweep(s); err != nil {
		t.Fatal(err)
	}
	if len(p.Settings) != 2 || p.Strategy != "cost" || p.Table.Name != "cloud-run" || p.Traffic.Peak() != 2 {
		t.Errorf("overridden plan %+v", p)
	}
	bad := Override{Prewarm: []int{-1}}
	if err := bad.Apply(s); err == nil || !strings.Contains(err.Error(), "tune.prewarm[0]") {
		t.Errorf("bad override: %v", err)
	}
}
