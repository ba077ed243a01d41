package results

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/coldbench/coldbench/drivers"
)

// TestGeneratorLag checks the lag histogram from Record to run.json and
// back: percentiles in the phase and the totals, the histogram stored once
// (among the phase's histograms) and rebuilt by Run.Tally; and a record
// without lag has no generator_lag at all.
func TestGeneratorLag(t *testing.T) {
	t.Parallel()
	tally := NewTally([]PhasePlan{{Name: "a", Duration: time.Second, Planned: 100}, {Name: "b", Duration: time.Second, Planned: 100}})
	for i := range 200 {
		tally.Phases[i%2].Record(Sample{
			Temp: drivers.Warm, Outcome: drivers.OK,
			Latency: 5 * time.Millisecond, Service: 4 * time.Millisecond,
			Lag: time.Duration(i+1) * 10 * time.Microsecond, // 10 µs … 2 ms
		})
	}
	r := Summarize(tally, Meta{Scenario: "lag"})
	l := r.Totals.Lag
	if l == nil || l.Count != 200 || l.MaxMs < 1.99 || l.MaxMs > 2.01 || l.P50Ms < 0.99 || l.P50Ms > 1.01 || l.Histogram != "" {
		t.Fatalf("totals lag %+v", l)
	}
	if pl := r.Phases[0].Lag; pl == nil || pl.Count != 100 {
		t.Fatalf("phase lag %+v", pl)
	}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var back Run
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	rebuilt, err := back.Tally()
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range tally.Phases {
		if h := rebuilt.Phases[i].Hist(LagKey); h == nil || !h.Equals(p.Hist(LagKey)) {
			t.Errorf("phase %s: lag histogram not rebuilt", p.Name)
		}
	}
	if again := Summarize(rebuilt, Meta{Scenario: "lag"}); again.Totals.Lag == nil || *again.Totals.Lag != *l {
		t.Errorf("summarized again: %+v, want %+v", again.Totals.Lag, l)
	}

	// Samples without lag (older agents, tests) record none.
	old := NewTally([]PhasePlan{{Name: "a"}})
	old.Phases[0].Record(Sample{Temp: drivers.Warm, Outcome: drivers.OK, Latency: time.Millisecond})
	if r := Summarize(old, Meta{}); r.Totals.Lag != nil {
		t.Errorf("lag without samples: %+v", r.Totals.Lag)
	}
}
