package results

import (
	"fmt"
	"math"
	"time"
)

// Reason is why the cold-start inference gave a candidate its label.
type Reason uint8

const (
	// Confirmed: slow against the warm baseline, with scale-out or after
	// an idle gap, and nothing else explains it: cold.
	Confirmed Reason = iota
	// NotSlow: as fast as the warm requests of the same moment: warm.
	NotSlow
	// NoBaseline: no warm request around it to compare with: unknown.
	NoBaseline
	// HostLag: the generator's own lag at the time (a starved host)
	// explains the slowness: unknown.
	HostLag
	// TargetWide: the requests around it were as slow (a target-wide
	// slowdown, not a new instance): unknown.
	TargetWide
)

// Evidence is what the inference weighed for one candidate.
type Evidence struct {
	Reason    Reason
	Baseline  time.Duration // the warm baseline's service time; 0 without one
	Threshold time.Duration // service time from which the candidate was slow
}

// Inference counts, for one phase, the requests the cold-start inference
// held as candidates (scale-out or after an idle gap) and what became of
// them. Requests that could not be a new instance are labelled warm at once
// and are not candidates. All fields add up when tallies merge.
type Inference struct {
	Candidates int64
	Cold       int64 // Confirmed
	NotSlow    int64 // warm
	NoBaseline int64 // unknown
	HostLag    int64 // unknown
	TargetWide int64 // unknown
	// Sums over the candidates that had a baseline (Compared), in µs, for
	// the mean warm baseline and cold threshold.
	Compared    int64
	BaselineUs  int64
	ThresholdUs int64
}

// Add counts one candidate's evidence.
func (n *Inference) Add(e Evidence) {
	n.Candidates++
	switch e.Reason {
	case Confirmed:
		n.Cold++
	case NotSlow:
		n.NotSlow++
	case NoBaseline:
		n.NoBaseline++
	case HostLag:
		n.HostLag++
	case TargetWide:
		n.TargetWide++
	}
	if e.Baseline > 0 {
		n.Compared++
		n.BaselineUs += e.Baseline.Microseconds()
		n.ThresholdUs += e.Threshold.Microseconds()
	}
}

// Merge adds o into n.
func (n *Inference) Merge(o Inference) {
	n.Candidates += o.Candidates
	n.Cold += o.Cold
	n.NotSlow += o.NotSlow
	n.NoBaseline += o.NoBaseline
	n.HostLag += o.HostLag
	n.TargetWide += o.TargetWide
	n.Compared += o.Compared
	n.BaselineUs += o.BaselineUs
	n.ThresholdUs += o.ThresholdUs
}

// Counters lists n's fields in order, for the wire (the agent's snapshot).
func (n Inference) Counters() []int64 {
	return []int64{n.Candidates, n.Cold, n.NotSlow, n.NoBaseline, n.HostLag, n.TargetWide, n.Compared, n.BaselineUs, n.ThresholdUs}
}

// InferenceFrom is the inverse of Counters. Fewer counters leave the rest
// zero (an older sender); more are an error (a newer one).
func InferenceFrom(c []int64) (Inference, error) {
	var n Inference
	f := []*int64{&n.Candidates, &n.Cold, &n.NotSlow, &n.NoBaseline, &n.HostLag, &n.TargetWide, &n.Compared, &n.BaselineUs, &n.ThresholdUs}
	if len(c) > len(f) {
		return n, fmt.Errorf("%d inference counters, this version knows %d", len(c), len(f))
	}
	for i, v := range c {
		*f[i] = v
	}
	return n, nil
}

// InferenceStats is Inference as run.json states it: the evidence behind a
// phase's inferred temperatures.
type InferenceStats struct {
	// Candidates were held for a label: requests that came with scale-out
	// or after an idle gap. Every other inferred request was warm at once.
	Candidates int64 `json:"candidates"`
	Cold       int64 `json:"cold"`        // slow against the warm baseline, nothing else explaining it
	Warm       int64 `json:"warm"`        // as fast as the warm baseline
	NoBaseline int64 `json:"no_baseline"` // unknown: no warm request to compare with
	HostLag    int64 `json:"host_lag"`    // unknown: the generator's lag (a starved host) explains it
	TargetWide int64 `json:"target_wide"` // unknown: the whole target was slow together
	// BaselineMs is the mean warm baseline (upper quartile of the warm
	// service times around a candidate) and ThresholdMs the mean service
	// time from which a candidate counted as slow: the split.
	BaselineMs  float64 `json:"baseline_ms"`
	ThresholdMs float64 `json:"threshold_ms"`
	// Compared is the number of candidates the means are over.
	Compared int64 `json:"compared"`
}

// Stats states n for run.json; nil when there were no candidates.
func (n Inference) Stats() *InferenceStats {
	if n.Candidates == 0 {
		return nil
	}
	s := &InferenceStats{
		Candidates: n.Candidates, Cold: n.Cold, Warm: n.NotSlow,
		NoBaseline: n.NoBaseline, HostLag: n.HostLag, TargetWide: n.TargetWide, Compared: n.Compared,
	}
	if n.Compared > 0 {
		s.BaselineMs = ms(n.BaselineUs / n.Compared)
		s.ThresholdMs = ms(n.ThresholdUs / n.Compared)
	}
	return s
}

// Inference turns s back into counters; a nil s is none.
func (s *InferenceStats) Inference() Inference {
	if s == nil {
		return Inference{}
	}
	return Inference{
		Candidates: s.Candidates, Cold: s.Cold, NotSlow: s.Warm,
		NoBaseline: s.NoBaseline, HostLag: s.HostLag, TargetWide: s.TargetWide, Compared: s.Compared,
		BaselineUs:  int64(math.Round(s.BaselineMs*1000)) * s.Compared,
		ThresholdUs: int64(math.Round(s.ThresholdMs*1000)) * s.Compared,
	}
}
