// Package threshold judges a run record against its scenario's thresholds:
// once at the end of a run (Evaluate), and on the live merged results while
// the run goes (Live), where a failure may stop the run only when the data
// so far show it beyond chance.
//
// Every latency is read from the run record's merged HDR histograms (any
// percentile, decoded without loss), never from averaged percentiles.
package threshold

import (
	"fmt"
	"math"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/coldbench/coldbench/compare"
	"github.com/coldbench/coldbench/results"
	"github.com/coldbench/coldbench/scenarios"
)

// Evaluate judges each threshold against the run: pass when the measured
// value meets it, fail when not, no-data when nothing was measured (no
// cold requests for cold.p99, a phase that never ran).
func Evaluate(ths scenarios.Thresholds, r *results.Run) []results.ThresholdVerdict {
	out := make([]results.ThresholdVerdict, 0, len(ths))
	for _, t := range ths {
		m, note := measure(t, r)
		v := verdict(t, m)
		switch {
		case m.samples == 0:
			v.Status, v.Note = results.ThresholdNoData, note
		case t.Pass(m.value):
			v.Status = results.ThresholdPass
		default:
			v.Status = results.ThresholdFail
		}
		out = append(out, v)
	}
	return out
}

// verdict fills in what a verdict says about t and its measurement.
func verdict(t scenarios.Threshold, m measurement) results.ThresholdVerdict {
	unit := "ms"
	if t.Metric.IsRate() {
		unit = "share"
	}
	return results.ThresholdVerdict{
		Threshold: t.String(),
		Phase:     t.Phase,
		Metric:    t.Metric.Name,
		Op:        string(t.Op),
		Limit:     t.Limit,
		Value:     m.value,
		Unit:      unit,
		Samples:   m.samples,
	}
}

// measurement is a metric's value in a run, with what a test of it needs.
type measurement struct {
	value   float64 // ms, or a fraction
	samples int64   // the denominator: requests measured
	hist    *hdrhistogram.Histogram
	hits    int64 // for a share: the numerator
	ended   bool  // the scope is over (a phase that ended, or a finished run)
}

// measure reads t's metric from r, over t's phase or the whole run. With
// no samples the note says why.
func measure(t scenarios.Threshold, r *results.Run) (measurement, string) {
	s := &r.Totals
	ended := r.Complete || r.Interrupted != ""
	planned := 0.0
	if t.Phase != "" {
		var p *results.PhaseStats
		for i := range r.Phases {
			if r.Phases[i].Name == t.Phase {
				p = &r.Phases[i]
			}
		}
		if p == nil || p.StartedAt.IsZero() {
			return measurement{}, "the phase did not run"
		}
		s, ended = &p.Stats, ended || !p.EndedAt.IsZero()
		planned = plannedArrivals(p)
	} else {
		for i := range r.Phases {
			planned += plannedArrivals(&r.Phases[i])
		}
	}
	m := measurement{ended: ended}
	switch t.Metric.Kind {
	case scenarios.Latency:
		h, err := latency(s, t.Metric.Temp)
		if err != nil {
			return measurement{}, err.Error()
		}
		m.hist, m.samples = h, h.TotalCount()
		if m.samples == 0 {
			return m, "no successful " + tempWord(t.Metric.Temp) + "requests"
		}
		m.value = stat(h, t.Metric)
	case scenarios.ColdRate:
		m.hits, m.samples = s.Cold.Count, s.Cold.Count+s.Warm.Count
		if m.samples == 0 {
			return m, "no successful requests of known temperature"
		}
	case scenarios.ErrorRate:
		m.hits, m.samples = s.ErrorCount(), s.Sent
		if m.samples == 0 {
			return m, "no requests sent"
		}
	case scenarios.DropRate:
		m.hits, m.samples = s.Dropped, s.Requests
		if m.samples == 0 {
			return m, "no arrivals"
		}
	case scenarios.Achieved:
		if planned <= 0 {
			return measurement{}, "the schedule planned no requests"
		}
		m.samples = s.Sent
		m.value = float64(s.Sent) / planned
		return m, ""
	}
	if t.Metric.Kind != scenarios.Latency {
		m.value = float64(m.hits) / float64(m.samples)
	}
	return m, ""
}

func tempWord(temp string) string {
	if temp == "all" {
		return ""
	}
	return temp + " "
}

// plannedArrivals is what the schedule held for a phase: its count, or
// for random arrivals the mean rate over the planned duration.
func plannedArrivals(p *results.PhaseStats) float64 {
	if p.Planned >= 0 {
		return float64(p.Planned)
	}
	return p.RateTarget * p.PlannedDurationS
}

// latency is the merged histogram of successful requests' latency of one
// temperature, or of all of them.
func latency(s *results.Stats, temp string) (*hdrhistogram.Histogram, error) {
	var ps []*results.Percentiles
	switch temp {
	case "cold":
		ps = []*results.Percentiles{&s.Cold}
	case "warm":
		ps = []*results.Percentiles{&s.Warm}
	default:
		ps = []*results.Percentiles{&s.Cold, &s.Warm}
		if s.Unknown != nil {
			ps = append(ps, s.Unknown)
		}
	}
	h := results.NewHistogram()
	for _, p := range ps {
		d, err := p.Decode()
		if err != nil {
			return nil, err
		}
		h.Merge(d)
	}
	return h, nil
}

// stat reads the metric's statistic from h (microseconds), in ms.
func stat(h *hdrhistogram.Histogram, m scenarios.Metric) float64 {
	switch m.Stat {
	case "mean":
		return h.Mean() / 1000
	case "min":
		return float64(h.Min()) / 1000
	case "max":
		return float64(h.Max()) / 1000
	}
	return float64(h.ValueAtQuantile(m.Quantile)) / 1000
}

// Live judges thresholds on the merged results while a run goes, for
// abort_on_fail. It says a threshold failed only when the data so far
// leave no reasonable doubt:
//
//   - nothing before Abort.After has passed, nor on fewer than
//     Abort.MinSamples samples;
//   - a percentile fails when the share of samples beyond the limit is
//     above what the percentile allows, by a one-sided 99.9% Wilson bound
//     (p99 < 250ms fails once the share above 250ms is surely over 1%);
//   - a rate (cold, errors, dropped) fails when its 99.9% Wilson bound is
//     past the limit; a mean, when it is past the limit by more than 3.09
//     standard errors;
//   - max < X and min > X fail as soon as one sample breaks them (they
//     can only get worse); the other ways round wait for the end;
//   - rate (achieved of target) is judged only for phases that ended.
type Live struct {
	Thresholds scenarios.Thresholds
	Abort      scenarios.Abort
}

// z is the one-sided 99.9% normal quantile: how sure a live failure must be.
const z = 3.090

// Failed returns the verdicts of the thresholds that have surely failed in
// the live record r, elapsed into the run; none while the guard holds.
func (l Live) Failed(r *results.Run, elapsed time.Duration) []results.ThresholdVerdict {
	if elapsed < time.Duration(l.Abort.After) {
		return nil
	}
	var out []results.ThresholdVerdict
	for _, t := range l.Thresholds {
		m, _ := measure(t, r)
		if m.samples == 0 || m.samples < int64(l.Abort.MinSamples) || !surelyFails(t, m) {
			continue
		}
		v := verdict(t, m)
		v.Status = results.ThresholdFail
		v.Note = fmt.Sprintf("failed %s into the run, on %d samples: the run was stopped", elapsed.Truncate(100*time.Millisecond), m.samples)
		out = append(out, v)
	}
	return out
}

// surelyFails is the live test of one measured threshold.
func surelyFails(t scenarios.Threshold, m measurement) bool {
	if t.Pass(m.value) {
		return false
	}
	upper := t.Op.Upper()
	switch t.Metric.Kind {
	case scenarios.Achieved:
		return m.ended
	case scenarios.ColdRate, scenarios.ErrorRate, scenarios.DropRate:
		lo, hi := compare.Wilson(m.hits, m.samples, z)
		if upper {
			return lo > t.Limit
		}
		return hi < t.Limit
	}
	switch t.Metric.Stat {
	case "max":
		return upper
	case "min":
		return !upper
	case "mean":
		se := m.hist.StdDev() / 1000 / math.Sqrt(float64(m.samples))
		return math.Abs(m.value-t.Limit) > z*se
	}
	// A percentile q over an upper limit L: the share of samples above L
	// must surely exceed 1−q. Under a lower limit: the share below L must
	// surely exceed q.
	q := t.Metric.Quantile / 100
	limitUs := int64(math.Round(t.Limit * 1000))
	above := m.samples - countAtOrBelow(m.hist, limitUs)
	if upper {
		lo, _ := compare.Wilson(above, m.samples, z)
		return lo > 1-q
	}
	below := m.samples - above - countAt(m.hist, limitUs)
	lo, _ := compare.Wilson(below, m.samples, z)
	return lo > q
}

// countAtOrBelow counts h's values at or below v (microseconds), at the
// histogram's resolution.
func countAtOrBelow(h *hdrhistogram.Histogram, v int64) int64 {
	var n int64
	for _, b := range h.Distribution() {
		if b.Count > 0 && b.To <= v {
			n += b.Count
		}
	}
	return n
}

// countAt counts h's values equivalent to v.
func countAt(h *hdrhistogram.Histogram, v int64) int64 {
	for _, b := range h.Distribution() {
		if b.From <= v && v <= b.To {
			return b.Count
		}
	}
	return 0
}
