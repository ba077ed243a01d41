package results

import (
	"math"
	"time"

	"github.com/coldbench/coldbench/drivers"
)

// Timeline is latency over the run's time, for the "latency over time"
// chart: fixed-width buckets by intended send time, each with counters and a
// coarse log-scale latency histogram of its successful requests, plus a
// bounded sample of individual cold starts to mark on the chart.
//
// Memory stays flat however long the run: when the buckets would exceed
// maxBuckets, neighbours merge and the width doubles. Timelines with the
// same start merge exactly like the rest of a Tally.
type Timeline struct {
	Start   time.Time     `json:"start"`
	Step    time.Duration `json:"step_ns"`
	Buckets []Bucket      `json:"buckets"`
	// Colds is a sample of cold starts, at most maxColdPoints, kept evenly
	// spread: when full, every other point is dropped and only every
	// ColdEvery-th cold start is kept from then on.
	Colds     []ColdPoint `json:"cold_points"`
	ColdEvery int64       `json:"cold_every"`
	coldSeen  int64
}

// Bucket is one slice of the timeline.
type Bucket struct {
	Sent   int64                `json:"sent"`
	OK     int64                `json:"ok"`
	Errors int64                `json:"errors"`
	Cold   int64                `json:"cold"`
	Bins   [TimelineBins]uint32 `json:"-"`
	Lat    []uint32             `json:"bins,omitempty"` // Bins, trailing zeros cut, for JSON
}

// ColdPoint is one cold start: when it was due and how long it took.
type ColdPoint struct {
	At      time.Duration `json:"at_ns"`
	Latency time.Duration `json:"latency_ns"`
}

const (
	// TimelineBins log-scale bins of a factor of 1.5 from 100 µs cover
	// past 10 minutes.
	TimelineBins  = 40
	timelineBase  = 100 * time.Microsecond
	timelineRatio = 1.5
	maxBuckets    = 2048
	maxColdPoints = 2000
	defaultStep   = time.Second
)

// TimelineBin is the bin a latency falls in.
func TimelineBin(d time.Duration) int {
	if d <= timelineBase {
		return 0
	}
	b := int(math.Log(float64(d)/float64(timelineBase))/math.Log(timelineRatio)) + 1
	return min(b, TimelineBins-1)
}

// TimelineBinUpper is the upper edge of bin b, the value a percentile read
// from the bins reports.
func TimelineBinUpper(b int) time.Duration {
	return time.Duration(float64(timelineBase) * math.Pow(timelineRatio, float64(b)))
}

// NewTimeline starts an empty timeline at start.
func NewTimeline(start time.Time) *Timeline {
	return &Timeline{Start: start, Step: defaultStep, ColdEvery: 1}
}

// Add records one sent request due at the given time.
func (t *Timeline) Add(due time.Time, s Sample) {
	off := max(0, due.Sub(t.Start))
	b := t.bucket(off)
	b.Sent++
	if s.Outcome != drivers.OK {
		b.Errors++
		return
	}
	b.OK++
	b.Bins[TimelineBin(s.Latency)]++
	if s.Temp != drivers.Cold {
		return
	}
	b.Cold++
	t.coldSeen++
	if t.coldSeen%t.ColdEvery != 0 {
		return
	}
	t.addCold(ColdPoint{At: off, Latency: s.Latency})
}

// bucket is the bucket at offset off from Start: the timeline is coarsened
// until off falls within maxBuckets, and grown to reach it. The pointer
// holds until the next change of t.Buckets.
func (t *Timeline) bucket(off time.Duration) *Bucket {
	i := int(off / t.Step)
	for i >= maxBuckets {
		t.coarsen()
		i = int(off / t.Step)
	}
	if i >= len(t.Buckets) {
		t.Buckets = append(t.Buckets, make([]Bucket, i+1-len(t.Buckets))...)
	}
	return &t.Buckets[i]
}

// addCold keeps p, thinning the points kept first when there are
// maxColdPoints.
func (t *Timeline) addCold(p ColdPoint) {
	if len(t.Colds) >= maxColdPoints {
		t.thinColds()
	}
	t.Colds = append(t.Colds, p)
}

// coarsen merges neighbouring buckets and doubles the step.
func (t *Timeline) coarsen() {
	n := (len(t.Buckets) + 1) / 2
	for i := range n {
		b := t.Buckets[2*i]
		if 2*i+1 < len(t.Buckets) {
			b.add(&t.Buckets[2*i+1])
		}
		t.Buckets[i] = b
	}
	t.Buckets = t.Buckets[:n]
	t.Step *= 2
}

func (t *Timeline) thinColds() {
	kept := t.Colds[:0]
	for i, p := range t.Colds {
		if i%2 == 0 {
			kept = append(kept, p)
		}
	}
	t.Colds = kept
	t.ColdEvery *= 2
}

func (b *Bucket) add(o *Bucket) {
	b.Sent += o.Sent
	b.OK += o.OK
	b.Errors += o.Errors
	b.Cold += o.Cold
	for i := range b.Bins {
		b.Bins[i] += o.Bins[i]
	}
}

// Quantile reads a latency quantile (0..1) of the bucket's successful
// requests from its bins: the upper edge of the bin holding it, so within a
// factor of 1.5. Zero when the bucket has none.
func (b *Bucket) Quantile(q float64) time.Duration {
	if b.OK == 0 {
		return 0
	}
	want := uint64(math.Ceil(q * float64(b.OK)))
	var n uint64
	for i, c := range b.Bins {
		n += uint64(c)
		if n >= want && c > 0 {
			return TimelineBinUpper(i)
		}
	}
	return TimelineBinUpper(TimelineBins - 1)
}

// Merge adds o into t. Timelines of one run share a start; a different
// start shifts o's buckets to t's clock at t's resolution.
func (t *Timeline) Merge(o *Timeline) {
	if o == nil {
		return
	}
	for o.Step > t.Step {
		t.coarsen()
	}
	shift := o.Start.Sub(t.Start)
	for i := range o.Buckets {
		off := max(0, shift+time.Duration(i)*o.Step)
		t.bucket(off).add(&o.Buckets[i])
	}
	for _, p := range o.Colds {
		t.addCold(ColdPoint{At: max(0, p.At+shift), Latency: p.Latency})
	}
	t.coldSeen += o.coldSeen
}

// Clone returns a deep copy.
func (t *Timeline) Clone() *Timeline {
	if t == nil {
		return nil
	}
	c := *t
	c.Buckets = append([]Bucket(nil), t.Buckets...)
	c.Colds = append([]ColdPoint(nil), t.Colds...)
	return &c
}

// pack copies the bins into their JSON form; unpack does the reverse.
func (t *Timeline) pack() {
	for i := range t.Buckets {
		b := &t.Buckets[i]
		n := len(b.Bins)
		for n > 0 && b.Bins[n-1] == 0 {
			n--
		}
		b.Lat = append(b.Lat[:0], b.Bins[:n]...)
	}
}

func (t *Timeline) unpack() {
	for i := range t.Buckets {
		b := &t.Buckets[i]
		copy(b.Bins[:], b.Lat)
	}
}
