package fleet

import (
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/coldbench/coldbench/drivers"
	"github.com/coldbench/coldbench/internal/engine"
	"github.com/coldbench/coldbench/results"
)

// TestSnapshotExemplars: exemplars cross the wire unchanged, with and
// without trace ids, and two agents' snapshots merge to the exemplars of
// all their requests together.
func TestSnapshotExemplars(t *testing.T) {
	t.Parallel()
	start := time.Unix(1700000000, 0)
	plans := []results.PhasePlan{{Name: "a", Duration: time.Second}, {Name: "b", Duration: time.Second}}
	agents := []*results.Tally{results.NewTally(plans), results.NewTally(plans)}
	var all results.Exemplars
	for i := range 300 {
		e := results.Exemplar{
			RequestID: "r-" + strconv.Itoa(i), Latency: time.Duration(i*7919%300) * time.Millisecond,
			Service: time.Millisecond, Offset: time.Duration(i) * time.Millisecond, Key: uint64(i * 104729 % 300), Sampled: i%2 == 0,
		}
		if i%3 != 0 { // some without trace context
			e.TraceID[0], e.TraceID[1], e.SpanID[0] = byte(i), 1, 1
		}
		if i%11 == 0 {
			e.Outcome = drivers.Timeout
		}
		agents[i%2].Phases[1].Exemplars[drivers.Cold].Offer(e)
		all.Offer(e)
	}
	merged := results.NewTally(plans)
	for i, a := range agents {
		snap, err := encodeSnapshot(a, engine.Progress{}, start, nil)
		if err != nil {
			t.Fatal(err)
		}
		out, err := decodeSnapshot(snap, plans, 0, nil)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(out.Phases[1].Exemplars, a.Phases[1].Exemplars) {
			t.Errorf("agent %d: exemplars changed on the wire:\n got %+v\nwant %+v", i, out.Phases[1].Exemplars, a.Phases[1].Exemplars)
		}
		if err := merged.Merge(out); err != nil {
			t.Fatal(err)
		}
	}
	if got := merged.Phases[1].Exemplars[drivers.Cold]; !reflect.DeepEqual(got, all) {
		t.Errorf("merged:\n got %+v\nwant %+v", got, all)
	}
	if !merged.Phases[0].Exemplars[drivers.Cold].Empty() {
		t.Error("exemplars in a phase that had none")
	}
}
