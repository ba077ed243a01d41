package results

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/coldbench/coldbench/drivers"
)

func TestSummarizeCounts(t *testing.T) {
	t.Parallel()
	r := Summarize(fixtureTally(), fixtureMeta())

	if r.Schema != Schema || r.Scenario != "cold-and-warm" || !r.Complete {
		t.Fatalf("header: schema %q scenario %q complete %v", r.Schema, r.Scenario, r.Complete)
	}
	if len(r.Phases) != 2 {
		t.Fatalf("phases: got %d, want 2", len(r.Phases))
	}
	w := r.Phases[0]
	checks := []struct {
		name      string
		got, want any
	}{
		{"requests", w.Requests, int64(102)},
		{"sent", w.Sent, int64(100)},
		{"ok", w.OK, int64(92)},
		{"dropped", w.Dropped, int64(2)},
		{"errors", w.Errors, map[string]int64{"timeout": 5, "throttled": 3}},
		{"error_rate", w.ErrorRate, 0.08},
		{"rate_target", w.RateTarget, 10.0},
		{"rate_achieved", w.RateAchieved, 10.2},
		{"duration_s", w.DurationS, 10.0},
		{"cold_rate", w.ColdRate, 10.0 / 90},
		{"cold count", w.Cold.Count, int64(10)},
		{"warm count", w.Warm.Count, int64(80)},
		{"unknown count", w.Unknown.Count, int64(2)},
		{"service count", w.Service.Count, int64(92)},
		{"planned", w.Planned, int64(100)},
		{"started_at", w.StartedAt, t0},
		{"ended_at", w.EndedAt, t0.Add(10 * time.Second)},
		{"cold_detection", w.ColdDetection, ColdDetection{Platform: 95, None: 5}},
		{"sent_by_temp", w.SentByTemp, TempCounts{Cold: 10, Warm: 85, Unknown: 5}},
		// Totals: the run's own elapsed time (40 s), not the phases' sum (30 s).
		{"totals requests", r.Totals.Requests, int64(302)},
		{"totals rate_achieved", r.Totals.RateAchieved, 302.0 / 40},
		{"totals rate_target", r.Totals.RateTarget, 300.0 / 30},
		{"totals duration_s", r.Totals.DurationS, 40.0},
		{"totals errors", r.Totals.Errors, map[string]int64{"timeout": 5, "throttled": 3}},
		{"totals cold", r.Totals.Cold.Count, int64(12)},
		{"totals warm", r.Totals.Warm.Count, int64(278)},
		{"cold_detection", r.ColdDetection, ColdDetection{Platform: 95, Inferred: 200, None: 5}},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, c.got, c.want)
		}
	}
	// The steady phase had no unknown requests: no unknown object.
	if r.Phases[1].Unknown != nil {
		t.Errorf("steady: unknown = %+v, want nil", r.Phases[1].Unknown)
	}
	if r.Phases[1].Errors == nil || len(r.Phases[1].Errors) != 0 {
		t.Errorf("steady: errors = %#v, want an empty map", r.Phases[1].Errors)
	}
}

func TestSummarizePercentiles(t *testing.T) {
	t.Parallel()
	r := fixtureRun(t)
	tests := []struct {
		name      string
		got, want float64
	}{
		{"cold min", r.Phases[0].Cold.MinMs, 200},
		{"cold p50", r.Phases[0].Cold.P50Ms, 240}, // 5th of 200..290
		{"cold p90", r.Phases[0].Cold.P90Ms, 280}, // 9th
		{"cold max", r.Phases[0].Cold.MaxMs, 290},
		{"cold mean", r.Phases[0].Cold.MeanMs, 245},
		{"warm p50", r.Phases[0].Warm.P50Ms, 49},       // 40th of 10..89
		{"warm p99", r.Phases[0].Warm.P99Ms, 88},       // rank 79.7 → 79th
		{"service p50", r.Phases[0].Service.P50Ms, 52}, // 46th of 9..88 and 49, 49
		{"unknown p50", r.Phases[0].Unknown.P50Ms, 50},
		{"steady cold p50", r.Phases[1].Cold.P50Ms, 400},
	}
	for _, tt := range tests {
		if !near(tt.got, tt.want) {
			t.Errorf("%s: got %v ms, want %v ms within HDR precision", tt.name, tt.got, tt.want)
		}
	}
}

// TestTotalsMergeHistograms checks that totals come from the merged
// histograms: the averaged phase p50s would be far from the union's p50.
func TestTotalsMergeHistograms(t *testing.T) {
	t.Parallel()
	tally := fixtureTally()
	r := Summarize(tally, fixtureMeta())

	union := NewHistogram()
	for _, p := range tally.Phases {
		union.Merge(p.Hist(HistKey{drivers.Warm, drivers.OK, Latency}))
	}
	want := summarizeHist(union)
	if !reflect.DeepEqual(r.Totals.Warm, want) {
		t.Errorf("totals warm:\n got %+v\nwant %+v", r.Totals.Warm, want)
	}
	avg := (r.Phases[0].Warm.P50Ms + r.Phases[1].Warm.P50Ms) / 2
	if near(r.Totals.Warm.P50Ms, avg) {
		t.Errorf("totals warm p50 %v equals the average of phase p50s", r.Totals.Warm.P50Ms)
	}
}

// TestHistogramJSONRoundTrip sends a run through JSON and back: the decoded
// histograms hold the same counts, the merged totals equal the union of the
// phases, and the rebuilt tally summarizes to the same record.
func TestHistogramJSONRoundTrip(t *testing.T) {
	t.Parallel()
	orig := fixtureTally()
	r := Summarize(orig, fixtureMeta())
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var back Run
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}

	for i, p := range orig.Phases {
		for _, temp := range []drivers.Temperature{drivers.Cold, drivers.Warm, drivers.Unknown} {
			h, err := back.Phases[i].Hist(temp)
			if err != nil {
				t.Fatalf("phase %s %s: %v", p.Name, temp, err)
			}
			want := p.Hist(HistKey{temp, drivers.OK, Latency})
			if want == nil {
				want = NewHistogram()
			}
			if !h.Equals(want) {
				t.Errorf("phase %s %s: decoded histogram differs (count %d, want %d)", p.Name, temp, h.TotalCount(), want.TotalCount())
			}
		}
	}
	totalCold, err := back.Totals.Hist(drivers.Cold)
	if err != nil {
		t.Fatal(err)
	}
	union := NewHistogram()
	for i := range back.Phases {
		h, _ := back.Phases[i].Hist(drivers.Cold)
		union.Merge(h)
	}
	if !totalCold.Equals(union) {
		t.Errorf("totals cold histogram is not the union of the phases'")
	}

	rebuilt, err := back.Tally()
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range orig.Phases {
		q := rebuilt.Phases[i]
		if p.PhasePlan != q.PhasePlan || !p.Start.Equal(q.Start) || !p.End.Equal(q.End) ||
			p.Sent != q.Sent || p.Dropped != q.Dropped || p.Outcomes != q.Outcomes ||
			p.ColdSources != q.ColdSources || p.Temps != q.Temps || p.Inference != q.Inference {
			t.Errorf("phase %s: rebuilt counters differ:\n got %+v\nwant %+v", p.Name, q, p)
		}
		if len(p.Hists) != len(q.Hists) {
			t.Errorf("phase %s: %d histograms rebuilt, want %d", p.Name, len(q.Hists), len(p.Hists))
		}
		for k, h := range p.Hists {
			if g := q.Hists[k]; g == nil || !g.Equals(h) {
				t.Errorf("phase %s: histogram %v not rebuilt", p.Name, k)
			}
		}
	}
	again, err := json.Marshal(Summarize(rebuilt, fixtureMeta()))
	if err != nil {
		t.Fatal(err)
	}
	if string(again) != string(b) {
		t.Errorf("Summarize(Run.Tally()) differs from the stored record")
	}
}

// TestRunJSONFieldNames pins the run.json contract: the field names other
// tools read.
func TestRunJSONFieldNames(t *testing.T) {
	t.Parallel()
	b, err := json.Marshal(fixtureRun(t))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	has := func(where string, obj any, keys ...string) {
		t.Helper()
		o, ok := obj.(map[string]any)
		if !ok {
			t.Fatalf("%s: not an object: %v", where, obj)
		}
		for _, k := range keys {
			if _, ok := o[k]; !ok {
				t.Errorf("%s: no %q field", where, k)
			}
		}
	}
	has("run", m, "schema", "scenario", "target", "started_at", "finished_at", "complete", "totals", "phases",
		"driver", "coldbench_version", "scenario_file", "interrupted", "cold_detection", "host")
	has("host", m["host"], "hostname", "cores")
	has("cold_detection", m["cold_detection"], "platform", "header", "instance", "body", "inferred", "none")
	stats := []string{"requests", "ok", "dropped", "errors", "error_rate", "rate_target", "rate_achieved",
		"duration_s", "cold", "warm", "service", "cold_rate"}
	pct := []string{"count", "min_ms", "mean_ms", "p50_ms", "p90_ms", "p95_ms", "p99_ms", "p999_ms", "max_ms", "histogram"}
	has("totals", m["totals"], stats...)
	for _, k := range []string{"cold", "warm", "service"} {
		has("totals."+k, m["totals"].(map[string]any)[k], pct...)
	}
	phase := m["phases"].([]any)[0]
	has("phases[0]", phase, append(stats, "name", "started_at", "ended_at", "planned", "unknown")...)
	has("phases[0].unknown", phase.(map[string]any)["unknown"], pct...)
	if _, ok := m["phases"].([]any)[1].(map[string]any)["unknown"]; ok {
		t.Errorf("phases[1]: unknown present with no unknown requests")
	}
	if got := m["started_at"]; got != "2026-11-25T17:01:02Z" {
		t.Errorf("started_at = %v, want RFC 3339 UTC", got)
	}
}

// TestSummarizeSnapshot covers a record written mid-run: the running phase
// is measured up to the snapshot time, a phase not yet begun is empty.
func TestSummarizeSnapshot(t *testing.T) {
	t.Parallel()
	tally := fixtureTally()
	tally.Phases[1].End = time.Time{} // still running
	unbegun := NewTally([]PhasePlan{{Name: "cool-down", Duration: 5 * time.Second, Planned: -1, Rate: 4}})
	tally.Phases = append(tally.Phases, unbegun.Phases[0])
	meta := fixtureMeta()
	meta.Complete = false
	meta.FinishedAt = t0.Add(25 * time.Second) // 10 s into steady
	r := Summarize(tally, meta)

	if got := r.Phases[1].DurationS; got != 10 {
		t.Errorf("running phase duration_s = %v, want 10", got)
	}
	if !r.Phases[1].EndedAt.IsZero() {
		t.Errorf("running phase ended_at = %v, want zero", r.Phases[1].EndedAt)
	}
	// A random phase's target is its mean rate.
	if got := r.Phases[2]; got.Requests != 0 || got.RateAchieved != 0 || got.RateTarget != 4 || got.Planned != -1 {
		t.Errorf("unbegun phase: %+v", got.Stats)
	}
	// 300 planned over 30 s, plus 4/s over 5 s expected from the random phase.
	if want := 320.0 / 35; r.Totals.RateTarget != want {
		t.Errorf("totals rate_target = %v, want %v", r.Totals.RateTarget, want)
	}
}
