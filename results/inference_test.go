package results

import (
	"testing"
	"time"
)

// TestInferenceCounters: the evidence crosses the wire and run.json whole,
// and a newer sender's extra counters are refused, not dropped.
func TestInferenceCounters(t *testing.T) {
	var n Inference
	for _, e := range []Evidence{
		{Reason: Confirmed, Baseline: 4 * time.Millisecond, Threshold: 24 * time.Millisecond},
		{Reason: NotSlow, Baseline: 5 * time.Millisecond, Threshold: 25 * time.Millisecond},
		{Reason: NoBaseline},
		{Reason: HostLag, Baseline: 6 * time.Millisecond, Threshold: 26 * time.Millisecond},
		{Reason: TargetWide, Baseline: 5 * time.Millisecond, Threshold: 25 * time.Millisecond},
	} {
		n.Add(e)
	}
	want := Inference{Candidates: 5, Cold: 1, NotSlow: 1, NoBaseline: 1, HostLag: 1, TargetWide: 1, Compared: 4, BaselineUs: 20000, ThresholdUs: 100000}
	if n != want {
		t.Fatalf("added up to %+v, want %+v", n, want)
	}
	if got, err := InferenceFrom(n.Counters()); err != nil || got != n {
		t.Errorf("counters round trip: %+v, %v", got, err)
	}
	if got := n.Stats().Inference(); got != n {
		t.Errorf("run.json round trip: %+v, want %+v", got, n)
	}
	if s := n.Stats(); s.BaselineMs != 5 || s.ThresholdMs != 25 || s.Warm != 1 {
		t.Errorf("stats %+v: want baseline 5 ms, threshold 25 ms, 1 warm", s)
	}
	if _, err := InferenceFrom(make([]int64, 10)); err == nil {
		t.Error("10 counters accepted")
	}
	if (Inference{}).Stats() != nil {
		t.Error("no candidates, yet stats")
	}
}
