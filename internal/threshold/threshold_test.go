package threshold

import (
	"strings"
	"testing"
	"time"

	"github.com/coldbench/coldbench/drivers"
	"github.com/coldbench/coldbench/results"
	"github.com/coldbench/coldbench/scenarios"
)

// record builds a run record of one phase "steady": warm latencies in ms,
// a number of cold requests at 300 ms and of failed ones; planned is what
// the schedule held. ended says whether the phase is over.
func record(warmMs []float64, cold, failed int, planned int64, ended bool) *results.Run {
	tally := results.NewTally([]results.PhasePlan{{Name: "steady", Duration: 10 * time.Second, Planned: planned, Rate: float64(planned) / 10}})
	p := tally.Phases[0]
	p.Start = time.Unix(1e9, 0)
	finish := p.Start.Add(10 * time.Second)
	if ended {
		p.End = finish
	}
	rec := func(temp drivers.Temperature, out drivers.Outcome, ms float64) {
		d := time.Duration(ms * float64(time.Millisecond))
		p.Record(results.Sample{Temp: temp, Outcome: out, Latency: d, Service: d})
	}
	for _, ms := range warmMs {
		rec(drivers.Warm, drivers.OK, ms)
	}
	for range cold {
		rec(drivers.Cold, drivers.OK, 300)
	}
	for range failed {
		rec(drivers.Warm, drivers.ServerError, 5)
	}
	return results.Summarize(tally, results.Meta{StartedAt: p.Start, FinishedAt: finish, Complete: ended})
}

// spread is n warm latencies: most at base ms, the last slow ones at slow ms.
func spread(n, slowN int, base, slow float64) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = base + float64(i%10)*0.1
		if i >= n-slowN {
			out[i] = slow
		}
	}
	return out
}

func parse(t *testing.T, exprs ...string) scenarios.Thresholds {
	t.Helper()
	var ts scenarios.Thresholds
	for _, e := range exprs {
		th, err := scenarios.ParseThreshold(e)
		if err != nil {
			t.Fatal(err)
		}
		ts = append(ts, th)
	}
	return ts
}

// TestEvaluate: each metric read from the run, judged at the end.
func TestEvaluate(t *testing.T) {
	r := record(spread(1000, 20, 20, 400), 50, 10, 1100, true)
	tests := []struct {
		expr   string
		status string
		value  float64 // ms or fraction
	}{
		{"warm.p50 < 25ms", results.ThresholdPass, 20.4},
		{"warm.p99 < 250ms", results.ThresholdFail, 400},    // 2% of requests at 400 ms
		{"warm.p97 < 250ms", results.ThresholdPass, 20.9},   // below the slow 2%
		{"warm.max <= 401ms", results.ThresholdPass, 400.1}, // HDR reports the bucket's top
		{"cold.p50 > 250ms", results.ThresholdPass, 300},
		{"all.p99.9 < 1s", results.ThresholdPass, 400},
		{"cold.rate < 5%", results.ThresholdPass, 50.0 / 1050},
		{"errors.rate < 0.5%", results.ThresholdFail, 10.0 / 1060},
		{"rate >= 95%", results.ThresholdPass, 1060.0 / 1100},
		{"steady: rate >= 99%", results.ThresholdFail, 1060.0 / 1100},
		{"dropped.rate < 1%", results.ThresholdPass, 0},
		{"steady: warm.mean < 30ms", results.ThresholdPass, 27.8},
	}
	for _, tt := range tests {
		v := Evaluate(parse(t, tt.expr), r)[0]
		if v.Status != tt.status || abs(v.Value-tt.value) > 0.02*tt.value+0.05 {
			t.Errorf("%s: %s at %v (%d samples), want %s at %v", tt.expr, v.Status, v.Value, v.Samples, tt.status, tt.value)
		}
	}
	// No cold requests: cold.p99 has no data, which does not fail.
	v := Evaluate(parse(t, "cold.p99 < 1s"), record(spread(100, 0, 20, 20), 0, 0, 100, true))[0]
	if v.Status != results.ThresholdNoData || !strings.Contains(v.Note, "no successful cold requests") {
		t.Errorf("cold.p99 without cold requests: %+v", v)
	}
}

func abs(x float64) float64 { return max(x, -x) }

// TestLive: the live judge fails a threshold only when the data so far
// leave no doubt, and never before the guard allows.
func TestLive(t *testing.T) {
	guard := scenarios.Abort{Enabled: true, After: scenarios.Duration(5 * time.Second), MinSamples: 100}
	tests := []struct {
		name    string
		expr    string
		r       *results.Run
		elapsed time.Duration
		fails   bool
	}{
		// 6 of 200 (3%) above the limit breaks p99 so far, but the 99.9%
		// Wilson lower bound of 6/200 is 0.9%, under the 1% p99 allows:
		// it could be chance, so wait.
		{"p99 breach not sure yet", "warm.p99 < 250ms", record(spread(200, 6, 20, 400), 0, 0, 1000, false), 6 * time.Second, false},
		// 10% above on 1000: surely more than 1%.
		{"p99 breach sure", "warm.p99 < 250ms", record(spread(1000, 100, 20, 400), 0, 0, 5000, false), 6 * time.Second, true},
		{"too early", "warm.p99 < 250ms", record(spread(1000, 100, 20, 400), 0, 0, 5000, false), 4 * time.Second, false},
		{"too few samples", "warm.p50 < 1ms", record(spread(50, 0, 20, 20), 0, 0, 5000, false), 6 * time.Second, false},
		{"p50 surely over", "warm.p50 < 1ms", record(spread(150, 0, 20, 20), 0, 0, 5000, false), 6 * time.Second, true},
		{"p50 under a lower limit", "warm.p50 > 30ms", record(spread(150, 0, 20, 20), 0, 0, 5000, false), 6 * time.Second, true},
		// 1 error in 150 against 0.5%: not sure; 15 in 150: sure.
		{"one error", "errors.rate < 0.5%", record(spread(150, 0, 20, 20), 0, 1, 5000, false), 6 * time.Second, false},
		{"many errors", "errors.rate < 0.5%", record(spread(150, 0, 20, 20), 0, 15, 5000, false), 6 * time.Second, true},
		{"max breaks at once", "warm.max < 300ms", record(spread(150, 1, 20, 400), 0, 0, 5000, false), 6 * time.Second, true},
		{"max > X waits", "warm.max > 300ms", record(spread(150, 0, 20, 20), 0, 0, 5000, false), 6 * time.Second, false},
		// rate is judged only once the phase is over.
		{"rate mid-phase", "steady: rate >= 95%", record(spread(150, 0, 20, 20), 0, 0, 5000, false), 6 * time.Second, false},
		{"rate at phase end", "steady: rate >= 95%", record(spread(150, 0, 20, 20), 0, 0, 5000, true), 6 * time.Second, true},
	}
	for _, tt := range tests {
		l := Live{Thresholds: parse(t, tt.expr), Abort: guard}
		got := l.Failed(tt.r, tt.elapsed)
		if (len(got) > 0) != tt.fails {
			t.Errorf("%s: %s failed %v, want %v (%+v)", tt.name, tt.expr, len(got) > 0, tt.fails, got)
		}
		if len(got) > 0 && !strings.Contains(got[0].Note, "stopped") {
			t.Errorf("%s: note %q", tt.name, got[0].Note)
		}
	}
}
