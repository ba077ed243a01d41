package results

import (
	"fmt"
	"maps"
	"testing"
	"time"

	"github.com/coldbench/coldbench/drivers"
)

// TestErrorCodes: codes are counted per class beside the class counts,
// merge by adding, survive Clone independently, reach run.json by class
// for phases and totals, come back from run.json (Run.Tally), and stop
// growing at MaxCodes.
func TestErrorCodes(t *testing.T) {
	t.Parallel()
	plan := []PhasePlan{{Name: "a", Duration: time.Second}, {Name: "b", Duration: time.Second}}
	mk := func() *Tally {
		tl := NewTally(plan)
		for i, s := range []Sample{
			{Outcome: drivers.ServerError, Code: "UNAVAILABLE"},
			{Outcome: drivers.ServerError, Code: "UNAVAILABLE"},
			{Outcome: drivers.ServerError, Code: "502"},
			{Outcome: drivers.Throttled, Code: "RESOURCE_EXHAUSTED"},
			{Outcome: drivers.Timeout},             // no answer, no code
			{Outcome: drivers.OK, Code: "ignored"}, // a success has no error code
		} {
			s.Latency, s.Service = time.Millisecond, time.Millisecond
			tl.Phases[i%2].Record(s)
		}
		return tl
	}
	tl := mk()
	clone := tl.Clone()
	if err := tl.Merge(mk()); err != nil {
		t.Fatal(err)
	}
	if n := clone.Phases[0].Codes[CodeKey{drivers.ServerError, "UNAVAILABLE"}]; n != 1 {
		t.Errorf("the clone changed with the original: %d", n)
	}
	r := Summarize(tl, Meta{Scenario: "codes"})
	want := map[string]map[string]int64{"5xx": {"UNAVAILABLE": 4, "502": 2}, "throttled": {"RESOURCE_EXHAUSTED": 2}}
	if !maps.EqualFunc(r.Totals.ErrorCodes, want, maps.Equal) {
		t.Errorf("totals %v, want %v", r.Totals.ErrorCodes, want)
	}
	if got := r.Phases[0].ErrorCodes["5xx"]; !maps.Equal(got, map[string]int64{"UNAVAILABLE": 2, "502": 2}) {
		t.Errorf("phase a 5xx codes %v", got)
	}
	back, err := r.Tally()
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range tl.Phases {
		if !maps.Equal(back.Phases[i].Codes, p.Codes) {
			t.Errorf("phase %s rebuilt from run.json: %v, want %v", p.Name, back.Phases[i].Codes, p.Codes)
		}
	}
	if top := TopCodes(r.Totals.ErrorCodes, 2); len(top) != 2 || top[0] != (CodeCount{"5xx", "UNAVAILABLE", 4}) || top[1] != (CodeCount{"5xx", "502", 2}) {
		t.Errorf("top codes %v", top)
	}

	var many ErrorCodes
	for i := range MaxCodes + 10 {
		many.Add(drivers.ServerError, fmt.Sprint(500+i), 1)
	}
	if len(many) != MaxCodes+1 || many[CodeKey{drivers.ServerError, OtherCode}] != 10 {
		t.Errorf("%d codes kept, %d under %q; want %d and 10", len(many), many[CodeKey{drivers.ServerError, OtherCode}], OtherCode, MaxCodes)
	}
}
