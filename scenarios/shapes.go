package scenarios

import (
	"fmt"
	"math/bits"
	"sort"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// StepPacer is a sequence of constant rates, one after the other. Each step
// starts with an arrival at its own start, exactly like a RatePacer for the
// step's duration; the phase plans the sum of the steps' arrivals.
type StepPacer struct {
	steps []stepSpan
	dur   time.Duration
	total uint64 // the whole's arrivals
	sh    share
}

// stepSpan is one step of a StepPacer, placed in the phase.
type stepSpan struct {
	rate         vegeta.ConstantPacer
	start, dur   time.Duration
	first, count uint64 // the whole's arrival indices first … first+count−1
}

// NewStepPacer paces the steps one after the other; the phase lasts their
// total duration.
func NewStepPacer(steps []Step) StepPacer { return newStepPacer(steps, whole) }

func newStepPacer(steps []Step, sh share) StepPacer {
	p := StepPacer{sh: sh}
	for _, st := range steps {
		d := time.Duration(st.Duration)
		span := stepSpan{rate: st.Rate.pacer(), start: p.dur, dur: d, first: p.total}
		span.count = constCount(span.rate, d)
		p.steps = append(p.steps, span)
		p.dur += d
		p.total += span.count
	}
	return p
}

// At returns when arrival n is due: the whole's arrival n·parts+part, in
// whichever step holds it.
func (p StepPacer) At(n uint64) (time.Duration, bool) {
	k, ok := p.sh.global(n)
	if !ok || k >= p.total {
		return 0, false
	}
	i := sort.Search(len(p.steps), func(i int) bool { return p.steps[i].first+p.steps[i].count > k })
	if i == len(p.steps) {
		return 0, false
	}
	s := p.steps[i]
	t, ok := constAt(s.rate, k-s.first)
	return s.start + t, ok
}

// Rate is this share's rate in the step under way, 0 outside the phase.
func (p StepPacer) Rate(elapsed time.Duration) float64 {
	if elapsed < 0 {
		return 0
	}
	i := sort.Search(len(p.steps), func(i int) bool { return p.steps[i].start+p.steps[i].dur > elapsed })
	if i == len(p.steps) {
		return 0
	}
	return p.steps[i].rate.Rate(elapsed) / float64(p.sh.parts)
}

// Planned is the number of arrivals over all the steps.
func (p StepPacer) Planned() int64 { return clampCount(p.sh.count(p.total)) }

// mean is the time-weighted mean rate of this share.
func (p StepPacer) mean() float64 {
	if p.dur <= 0 {
		return 0
	}
	var sum float64
	for _, s := range p.steps {
		sum += s.rate.Rate(0) * s.dur.Seconds()
	}
	return sum / p.dur.Seconds() / float64(p.sh.parts)
}

// String describes the schedule, for plans and logs.
func (p StepPacer) String() string {
	return fmt.Sprintf("%d steps over %s%s", len(p.steps), p.dur, p.sh)
}

// BurstPacer sends a fixed number of requests spread evenly within a window
// at the phase start: the whole's arrival k of N is due at k·within/N, so a
// zero window sends them all at once. The rest of the phase is quiet; Pace
// says stop after the last arrival, and the phase still lasts its duration.
type BurstPacer struct {
	n           uint64 // the whole's requests
	within, dur time.Duration
	sh          share
}

// NewBurstPacer sends requests within the window (capped at d) of a phase
// lasting d.
func NewBurstPacer(requests int, within, d time.Duration) BurstPacer {
	return newBurstPacer(requests, within, d, whole)
}

func newBurstPacer(requests int, within, d time.Duration, sh share) BurstPacer {
	return BurstPacer{n: uint64(max(requests, 0)), within: min(max(within, 0), d), dur: d, sh: sh}
}

// At returns when arrival n is due: the whole's arrival n·parts+part.
func (p BurstPacer) At(n uint64) (time.Duration, bool) {
	k, ok := p.sh.global(n)
	if !ok || k >= p.n {
		return 0, false
	}
	hi, lo := bits.Mul64(k, uint64(p.within))
	q, _ := bits.Div64(hi, lo, p.n) // k < n, so k·within/n < within fits
	t := time.Duration(q)
	return t, t < p.dur
}

// Rate is this share's rate within the window, and 0 after it (or for a
// window of zero, whose rate has no finite value).
func (p BurstPacer) Rate(elapsed time.Duration) float64 {
	if elapsed < 0 || elapsed >= p.within || p.within <= 0 {
		return 0
	}
	return float64(p.sh.count(p.n)) / p.within.Seconds()
}

// Planned is this share of the requests: the first N%parts parts get one
// more than the others.
func (p BurstPacer) Planned() int64 {
	if p.dur <= 0 {
		return 0
	}
	return clampCount(p.sh.count(p.n))
}

// String describes the schedule, for plans and logs.
func (p BurstPacer) String() string {
	return fmt.Sprintf("burst of %d within %s, phase %s%s", p.n, p.within, p.dur, p.sh)
}

// IdlePacer sends nothing for Duration: a gap that lets instances expire.
// Pace says stop at once; the phase still lasts its Duration.
type IdlePacer struct {
	Duration time.Duration
}

// At is always false: an idle phase has no arrivals.
func (IdlePacer) At(uint64) (time.Duration, bool) { return 0, false }

// Rate is 0.
func (IdlePacer) Rate(time.Duration) float64 { return 0 }

// Planned is 0.
func (IdlePacer) Planned() int64 { return 0 }

// String describes the schedule, for plans and logs.
func (p IdlePacer) String() string { return fmt.Sprintf("idle for %s", p.Duration) }
