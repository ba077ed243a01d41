package telemetry

import (
	"maps"
	"sort"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/coldbench/coldbench/drivers"
	"github.com/coldbench/coldbench/internal/engine"
	"github.com/coldbench/coldbench/results"
)

// LatencyBounds are the upper bounds, in seconds, of the exported latency
// histograms' buckets (the last bucket, +Inf, is implied). They span a
// warm 1 ms request to a minute-long cold start, roughly ×2.5 apart, and
// are the same for OTLP and Prometheus so that both show the same shape.
var LatencyBounds = []float64{
	0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
	1, 2.5, 5, 10, 30, 60,
}

// temps are the temperatures exported, in a fixed order.
var temps = []drivers.Temperature{drivers.Cold, drivers.Warm, drivers.Unknown}

// figures is what is exported for one run (or one tune setting), all
// counters cumulative since its start.
type figures struct {
	invocations int64            // sent
	successes   int64            // outcome ok
	errors      map[string]int64 // failed, by drivers.Outcome class
	dropped     int64            // arrivals not sent: in-flight bound hit
	coldStarts  int64            // sent requests served cold, any outcome
	latency     [3]hist          // successful requests by temperature, from the intended send
	memMaxMB    int64            // largest memory used reported by the platform

	// Gauges.
	coldRate     float64 // cold / (cold + warm) among successful requests, as run.json
	inFlight     int64
	targetRate   float64 // what the running phase asks for, requests/s
	achievedRate float64 // arrivals per second since the previous observation
}

// newFigures returns all-zero figures, every error class included: a
// counter is exported at 0 before its first count.
func newFigures() *figures {
	f := &figures{errors: map[string]int64{}}
	for _, c := range errorClasses() {
		f.errors[c] = 0
	}
	for i := range f.latency {
		f.latency[i] = hist{counts: make([]uint64, len(LatencyBounds)+1)}
	}
	return f
}

// hist is an explicit-bucket histogram: counts[i] is the number of values
// in (LatencyBounds[i-1], LatencyBounds[i]], the last is the +Inf bucket.
type hist struct {
	counts []uint64
	count  uint64
	sum    float64 // seconds
}

// tallyFigures reads the counters and histograms of the controller's
// merged tally. p is the fleet's live progress (in flight, phase).
func tallyFigures(t *results.Tally, p engine.Progress) *figures {
	f := newFigures()
	f.inFlight = p.InFlight
	hs := [3]*hdrhistogram.Histogram{}
	for i := range hs {
		hs[i] = results.NewHistogram()
	}
	for _, ph := range t.Phases {
		f.invocations += ph.Sent
		f.dropped += ph.Dropped
		f.coldStarts += ph.Temps[drivers.Cold]
		for o, n := range ph.Outcomes {
			if drivers.Outcome(o) == drivers.OK {
				f.successes += n
			} else if n > 0 {
				f.errors[drivers.Outcome(o).String()] += n
			}
		}
		for _, temp := range temps {
			if h := ph.Hist(results.HistKey{Temp: temp, Outcome: drivers.OK, Kind: results.Latency}); h != nil {
				hs[temp].Merge(h)
			}
		}
		for k, h := range ph.Hists {
			if k.Kind == results.Memory {
				f.memMaxMB = max(f.memMaxMB, h.Max())
			}
		}
	}
	for _, temp := range temps {
		f.latency[temp] = bucketize(hs[temp])
	}
	cold, warm := f.latency[drivers.Cold].count, f.latency[drivers.Warm].count
	if cold+warm > 0 {
		f.coldRate = float64(cold) / float64(cold+warm)
	}
	if p.Phase >= 0 && p.Phase < len(t.Phases) {
		f.targetRate = t.Phases[p.Phase].Rate
	}
	return f
}

// bucketize turns an HDR histogram (microseconds) into LatencyBounds
// buckets. A value goes to the first bucket whose bound is at least the
// lowest value HDR cannot tell it from, so bucket counts are exact to HDR's
// resolution (3 significant digits) and the count is exact. The sum is
// the HDR mean times the count.
func bucketize(h *hdrhistogram.Histogram) hist {
	out := hist{counts: make([]uint64, len(LatencyBounds)+1)}
	if h.TotalCount() == 0 {
		return out
	}
	for _, b := range h.Distribution() {
		if b.Count == 0 {
			continue
		}
		s := float64(b.From) / 1e6
		i := sort.SearchFloat64s(LatencyBounds, s) // first bound >= s
		out.counts[i] += uint64(b.Count)
	}
	out.count = uint64(h.TotalCount())
	out.sum = h.Mean() * float64(h.TotalCount()) / 1e6
	return out
}

// monotonic returns next with every counter and histogram bucket at least
// what prev exported: counters in OpenTelemetry and Prometheus must never
// go down, whatever happens to the merged view (an agent lost between
// snapshots, a snapshot dropped). Gauges are taken as they are.
func monotonic(prev, next *figures) *figures {
	if prev == nil {
		return next
	}
	out := *next
	out.invocations = max(prev.invocations, next.invocations)
	out.successes = max(prev.successes, next.successes)
	out.dropped = max(prev.dropped, next.dropped)
	out.coldStarts = max(prev.coldStarts, next.coldStarts)
	out.memMaxMB = max(prev.memMaxMB, next.memMaxMB)
	out.errors = maps.Clone(next.errors)
	for k, v := range prev.errors {
		out.errors[k] = max(out.errors[k], v)
	}
	for i := range out.latency {
		out.latency[i] = maxHist(prev.latency[i], next.latency[i])
	}
	return &out
}

func maxHist(a, b hist) hist {
	out := hist{counts: make([]uint64, len(LatencyBounds)+1), sum: max(a.sum, b.sum)}
	for i := range out.counts {
		var x, y uint64
		if i < len(a.counts) {
			x = a.counts[i]
		}
		if i < len(b.counts) {
			y = b.counts[i]
		}
		out.counts[i] = max(x, y)
		out.count += out.counts[i]
	}
	return out
}

// rate is the achieved arrival rate between two observations.
func rate(prev, next *figures, prevAt, at time.Time) float64 {
	if prev == nil || !at.After(prevAt) {
		return 0
	}
	n := (next.invocations + next.dropped) - (prev.invocations + prev.dropped)
	return float64(n) / at.Sub(prevAt).Seconds()
}
