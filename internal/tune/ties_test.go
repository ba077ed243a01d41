package tune

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/coldbench/coldbench/results"
	"github.com/coldbench/coldbench/scenarios"
)

// billedSetting is a measured setting whose n warm requests billed about
// ms each (jitter relative, seeded), with its cost made of a fixed part
// and a duration part proportional to the billed mean.
func billedSetting(mem, n int, ms, jitter float64, seed uint64) results.TuneSetting {
	h := results.NewHistogram()
	r := rand.New(rand.NewPCG(seed, 7))
	var sum float64
	for range n {
		v := ms * (1 + jitter*(2*r.Float64()-1))
		sum += v
		h.RecordValue(int64(v * 1000))
	}
	mean := sum / float64(n)
	dur := mean / 100 * float64(mem) / 1024 // $ a month, ∝ billed ms × memory
	return results.TuneSetting{
		Name: results.SettingName(mem, 0), MemoryMB: mem, Complete: true, TypicalMs: mean,
		Billed: results.TuneBilled{Source: "platform", WarmMeanMs: mean, ColdMeanMs: mean, Count: int64(n), WarmDist: new(results.PercentilesOf(h))},
		Cost:   results.TuneCost{Duration: dur, Requests: 1, Monthly: 1 + dur},
	}
}

func TestCostTies(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		settings []results.TuneSetting
		winner   string
		tied     []string
		reason   string // a substring of the reason
	}{
		// A CPU-bound function: billed time × memory is the same at every
		// size, 10 samples with 10% jitter. Tied; the least memory wins.
		{"flat cost, few samples", []results.TuneSetting{
			billedSetting(1024, 10, 100, 0.1, 1), billedSetting(512, 10, 200, 0.1, 2), billedSetting(128, 10, 800, 0.1, 3),
		}, "128mb-p0", []string{"128mb-p0", "512mb-p0", "1024mb-p0"}, "tied within noise"},
		// A real difference (half the cost at 512 MB), many samples: no
		// tie, and the percentage is shown.
		{"a real difference", []results.TuneSetting{
			billedSetting(1024, 500, 100, 0.1, 1), billedSetting(512, 500, 100, 0.1, 2),
		}, "512mb-p0", nil, "% below"},
		// Identical measurements: tied, and no sample count separates them.
		{"identical", []results.TuneSetting{
			billedSetting(512, 20, 100, 0.1, 5), billedSetting(256, 20, 200, 0.1, 5),
		}, "256mb-p0", []string{"256mb-p0", "512mb-p0"}, "no number of samples"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := &results.Tune{Header: results.Header{Complete: true}, Strategy: scenarios.StrategyCost, Settings: tt.settings}
			r := Recommend(rec)
			if r.Winner != tt.winner || strings.Join(r.Tied, ",") != strings.Join(tt.tied, ",") || !strings.Contains(r.Reason, tt.reason) {
				t.Errorf("winner %s, tied %v, reason %q; want %s, %v, containing %q", r.Winner, r.Tied, r.Reason, tt.winner, tt.tied, tt.reason)
			}
			for _, s := range rec.Settings {
				iv := s.Intervals
				if iv == nil || iv.MonthlyLo > s.Cost.Monthly || iv.MonthlyHi < s.Cost.Monthly {
					t.Errorf("%s: intervals %+v do not hold the cost %v", s.Name, iv, s.Cost.Monthly)
				}
			}
			if tt.tied != nil && r.TieRule != TieRule {
				t.Errorf("tie rule %q", r.TieRule)
			}
			// The same record, the same answer.
			if again := Recommend(rec); again.Winner != r.Winner || again.SeparateSamples != r.SeparateSamples {
				t.Errorf("a second Recommend gave %s (%d samples), first %s (%d)", again.Winner, again.SeparateSamples, r.Winner, r.SeparateSamples)
			}
		})
	}
}

func TestSeparateSamples(t *testing.T) {
	t.Parallel()
	a := &results.TuneSetting{Cost: results.TuneCost{Monthly: 10}, Intervals: &results.TuneIntervals{MonthlyLo: 9, MonthlyHi: 11}}
	b := &results.TuneSetting{Cost: results.TuneCost{Monthly: 11}, Intervals: &results.TuneIntervals{MonthlyLo: 10, MonthlyHi: 12}}
	point := func(ts *results.TuneSetting) float64 { return ts.Cost.Monthly }
	lo := func(ts *results.TuneSetting) float64 { return ts.Intervals.MonthlyLo }
	hi := func(ts *results.TuneSetting) float64 { return ts.Intervals.MonthlyHi }
	// Half-widths 1 + 1 against a difference of 1: four times the samples.
	if got := separateSamples([]*results.TuneSetting{a, b}, 10, point, lo, hi); got != 40 {
		t.Errorf("separateSamples = %d, want 40", got)
	}
}
