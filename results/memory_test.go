package results

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/coldbench/coldbench/drivers"
)

// TestMemoryUsedRecorded: memory used reported per request is summarised
// per phase and in the totals, survives run.json and the rebuilt tally,
// and merges across agents' tallies.
func TestMemoryUsedRecorded(t *testing.T) {
	t.Parallel()
	plans := []PhasePlan{{Name: "a", Duration: time.Second}, {Name: "b", Duration: time.Second}}
	agent := func(base int) *Tally {
		tl := NewTally(plans)
		for i := range 100 {
			tl.Phases[i%2].Record(Sample{Temp: drivers.Warm, Outcome: drivers.OK, Latency: time.Millisecond, Service: time.Millisecond, Memory: base + i})
		}
		tl.Phases[0].Record(Sample{Temp: drivers.Warm, Outcome: drivers.OK, Latency: time.Millisecond}) // not reported
		return tl
	}
	merged := NewTally(plans)
	for _, a := range []*Tally{agent(100), agent(300)} {
		if err := merged.Merge(a); err != nil {
			t.Fatal(err)
		}
	}
	r := Summarize(merged, Meta{})
	m := r.Totals.MemoryUsed
	if m == nil || m.Count != 200 || m.MaxMB != 399 || m.P50MB < 190 || m.P50MB > 310 || m.P99MB < 395 {
		t.Fatalf("totals memory used %+v", m)
	}
	if a, b := r.Phases[0].MemoryUsed, r.Phases[1].MemoryUsed; a == nil || b == nil || a.Count != 100 || b.MaxMB != 399 || a.MaxMB != 398 {
		t.Errorf("phases memory used %+v %+v", a, b)
	}
	data, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var back Run
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	tl, err := back.Tally()
	if err != nil {
		t.Fatal(err)
	}
	if again := Summarize(tl, Meta{}).Totals.MemoryUsed; again == nil || *again != *m {
		t.Errorf("after run.json and back: %+v, want %+v", again, m)
	}
}
