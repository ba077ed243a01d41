package results

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/coldbench/coldbench/drivers"
)

func TestTimeline(t *testing.T) {
	start := time.Date(2026, 11, 25, 17, 0, 0, 0, time.UTC)
	tl := NewTimeline(start)
	ok := func(temp drivers.Temperature, lat time.Duration) Sample {
		return Sample{Temp: temp, Outcome: drivers.OK, Latency: lat}
	}
	for i := range 10 {
		tl.Add(start.Add(time.Duration(i)*100*time.Millisecond), ok(drivers.Warm, 20*time.Millisecond))
	}
	tl.Add(start.Add(1500*time.Millisecond), ok(drivers.Cold, 300*time.Millisecond))
	tl.Add(start.Add(1600*time.Millisecond), Sample{Outcome: drivers.Throttled})

	if len(tl.Buckets) != 2 || tl.Buckets[0].OK != 10 || tl.Buckets[1].Cold != 1 || tl.Buckets[1].Errors != 1 {
		t.Fatalf("buckets %+v", tl.Buckets)
	}
	if q := tl.Buckets[0].Quantile(0.99); q < 20*time.Millisecond || q > 30*time.Millisecond {
		t.Errorf("p99 of 20 ms requests read as %v", q)
	}
	if len(tl.Colds) != 1 || tl.Colds[0].At != 1500*time.Millisecond {
		t.Errorf("cold points %+v", tl.Colds)
	}

	// Merging two agents' timelines equals recording everything in one.
	other := NewTimeline(start)
	other.Add(start.Add(200*time.Millisecond), ok(drivers.Warm, 40*time.Millisecond))
	m := tl.Clone()
	m.Merge(other)
	if m.Buckets[0].OK != 11 || tl.Buckets[0].OK != 10 {
		t.Errorf("merge: %d ok in bucket 0 (clone kept %d)", m.Buckets[0].OK, tl.Buckets[0].OK)
	}

	// A long run coarsens instead of growing.
	long := NewTimeline(start)
	for i := range 3 * maxBuckets {
		long.Add(start.Add(time.Duration(i)*time.Second), ok(drivers.Cold, time.Millisecond))
	}
	if len(long.Buckets) > maxBuckets || long.Step != 4*time.Second || len(long.Colds) > maxColdPoints {
		t.Errorf("after %d s: %d buckets of %v, %d cold points", 3*maxBuckets, len(long.Buckets), long.Step, len(long.Colds))
	}
	var sent int64
	for _, b := range long.Buckets {
		sent += b.Sent
	}
	if sent != 3*maxBuckets {
		t.Errorf("coarsening lost requests: %d of %d", sent, 3*maxBuckets)
	}

	// Through the run record and back.
	tally := NewTally([]PhasePlan{{Name: "p", Duration: time.Second, Planned: 10}})
	tally.Timeline = tl
	data, err := json.Marshal(Summarize(tally, Meta{StartedAt: start, FinishedAt: start.Add(2 * time.Second)}))
	if err != nil {
		t.Fatal(err)
	}
	var r Run
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatal(err)
	}
	back, err := r.Tally()
	if err != nil {
		t.Fatal(err)
	}
	if back.Timeline.Buckets[0].Bins != tl.Buckets[0].Bins || back.Timeline.Step != tl.Step {
		t.Errorf("timeline lost in the record: %+v", back.Timeline.Buckets[0])
	}
}
