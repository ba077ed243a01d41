package results

import (
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/coldbench/coldbench/drivers"
)

// t0 is the fixed start of every fixture run.
var t0 = time.Date(2026, 11, 25, 17, 1, 2, 0, time.UTC)

func ms64(n float64) time.Duration { return time.Duration(n * float64(time.Millisecond)) }

// record adds n samples of one kind to p, latencies lat, lat+step, ...;
// service time is latency minus 1 ms.
func record(p *PhaseTally, n int, temp drivers.Temperature, src drivers.ColdSource, o drivers.Outcome, lat, step float64) {
	for i := 0; i < n; i++ {
		l := ms64(lat + float64(i)*step)
		p.Record(Sample{Temp: temp, Source: src, Outcome: o, Latency: l, Service: l - time.Millisecond})
	}
}

// fixtureTally is a two-phase run with known data:
//
//	warm-up: planned 100 over 10 s, ran 10 s; 10 cold ok 200..290 ms,
//	         80 warm ok 10..89 ms, 5 warm timeouts at 5 s, 3 unknown
//	         throttled, 2 unknown ok at 50 ms; 2 dropped.
//	steady:  planned 200 over 20 s, ran 20 s from t0+15s; 2 cold ok 400,
//	         410 ms, 198 warm ok 20..217 ms; nothing dropped; inferred,
//	         5 candidates: 2 cold, 2 warm, 1 unknown (target-wide).
func fixtureTally() *Tally {
	t := NewTally([]PhasePlan{
		{Name: "warm-up", Duration: 10 * time.Second, Planned: 100, Rate: 10},
		{Name: "steady", Duration: 20 * time.Second, Planned: 200, Rate: 10},
	})
	w := t.Phases[0]
	w.Start, w.End = t0, t0.Add(10*time.Second)
	record(w, 10, drivers.Cold, drivers.SourcePlatform, drivers.OK, 200, 10)
	record(w, 80, drivers.Warm, drivers.SourcePlatform, drivers.OK, 10, 1)
	record(w, 5, drivers.Warm, drivers.SourcePlatform, drivers.Timeout, 5000, 0)
	record(w, 3, drivers.Unknown, drivers.SourceNone, drivers.Throttled, 3, 0)
	record(w, 2, drivers.Unknown, drivers.SourceNone, drivers.OK, 50, 0)
	w.Dropped = 2

	s := t.Phases[1]
	s.Start, s.End = t0.Add(15*time.Second), t0.Add(35*time.Second)
	record(s, 2, drivers.Cold, drivers.SourceInferred, drivers.OK, 400, 10)
	record(s, 198, drivers.Warm, drivers.SourceInferred, drivers.OK, 20, 1)
	s.Inference = Inference{Candidates: 5, Cold: 2, NotSlow: 2, TargetWide: 1, Compared: 5, BaselineUs: 5 * 21_500, ThresholdUs: 5 * 43_000}
	return t
}

// fixtureMeta is the meta of the fixture run: started at t0, finished at
// t0+40s, complete.
func fixtureMeta() Meta {
	return Meta{
		Scenario:     "cold-and-warm",
		ScenarioFile: "builtin:cold-and-warm",
		Target:       "sim http://127.0.0.1:8080/fn",
		Driver:       "sim",
		Version:      "v0.1.0-test",
		StartedAt:    t0,
		FinishedAt:   t0.Add(40 * time.Second),
		Complete:     true,
		Host:         Host{Hostname: "bench-1", Cores: 8},
	}
}

var (
	fixtureOnce sync.Once
	fixtureJSON []byte
)

// fixtureRun returns a fresh copy of Summarize(fixtureTally(),
// fixtureMeta()), summarized once: Summarize is slow under the race
// detector, and TestHistogramJSONRoundTrip shows the copy is exact.
func fixtureRun(t *testing.T) *Run {
	t.Helper()
	fixtureOnce.Do(func() {
		b, err := json.Marshal(Summarize(fixtureTally(), fixtureMeta()))
		if err != nil {
			panic(err)
		}
		fixtureJSON = b
	})
	var r Run
	if err := json.Unmarshal(fixtureJSON, &r); err != nil {
		t.Fatal(err)
	}
	return &r
}

// near reports whether got is within HDR's 3-significant-digit precision
// of want.
func near(got, want float64) bool {
	d := got - want
	if d < 0 {
		d = -d
	}
	return d <= want/1000+0.001
}
