package results

import (
	"fmt"
	"maps"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/coldbench/coldbench/drivers"
)

// Histogram range and precision: microseconds from 1 µs to 10 minutes at 3
// significant digits, as DESIGN.md asks (at least 5 minutes).
const (
	histLowest  = 1
	histHighest = int64(10 * time.Minute / time.Microsecond)
	histSigFigs = 3
)

// NewHistogram returns an empty latency histogram in microseconds with the
// range and precision every coldbench latency and service histogram shares,
// so any two merge without loss.
func NewHistogram() *hdrhistogram.Histogram {
	return hdrhistogram.New(histLowest, histHighest, histSigFigs)
}

// Geometry of the other kinds. Not every kind needs 1 µs to 10 minutes at
// 3 digits (168 KiB a histogram): generator lag is read as p50/p99/max to
// judge the generator, where 2 digits (1 %) is plenty, in 24 KiB; memory is
// whole MB up to 128 GiB, exact to 2 048 MB, in 72 KiB.
const (
	lagSigFigs = 2
	memHighest = 128 << 10
)

// NewHistogramOf returns an empty histogram with kind k's geometry. Two
// histograms of one kind always merge without loss.
func NewHistogramOf(k Kind) *hdrhistogram.Histogram {
	switch k {
	case Lag:
		return hdrhistogram.New(histLowest, histHighest, lagSigFigs)
	case Memory:
		return hdrhistogram.New(1, memHighest, histSigFigs)
	}
	return NewHistogram()
}

// Kind says which clock a latency histogram was read from.
type Kind uint8

const (
	// Latency is measured from the intended send time (the schedule), so a
	// stalled target or a late generator shows up in it: no coordinated
	// omission.
	Latency Kind = iota
	// Service is measured from the actual send time.
	Service
	// Memory is the memory used that the platform reported, in MB (not
	// microseconds), of requests whose platform reports it.
	Memory
	// Lag is the generator's own lateness: when the engine began a request
	// minus when the schedule had it due. One histogram per phase, under
	// LagKey, whatever the outcome.
	Lag
)

// LagKey is the key of a phase's generator lag histogram.
var LagKey = HistKey{Temp: drivers.Unknown, Outcome: drivers.OK, Kind: Lag}

func (k Kind) String() string {
	switch k {
	case Service:
		return "service"
	case Memory:
		return "memory"
	case Lag:
		return "lag"
	}
	return "latency"
}

// HistKey names one histogram of a phase: temperature × outcome × clock.
type HistKey struct {
	Temp    drivers.Temperature
	Outcome drivers.Outcome
	Kind    Kind
}

// Tally is the mergeable measurement of a run, or of one agent's share of
// it: counters and HDR histograms per phase. Percentiles are never stored
// here, only counts, so tallies from many agents merge exactly.
type Tally struct {
	Phases []*PhaseTally
	// Timeline is nil until the run starts.
	Timeline *Timeline
}

// NewTally returns a tally with one empty phase per name.
func NewTally(phases []PhasePlan) *Tally {
	t := &Tally{Phases: make([]*PhaseTally, len(phases))}
	for i, p := range phases {
		t.Phases[i] = &PhaseTally{PhasePlan: p, Hists: map[HistKey]*hdrhistogram.Histogram{}}
	}
	return t
}

// PhasePlan is what the schedule asked of a phase.
type PhasePlan struct {
	Name     string
	Duration time.Duration // planned duration
	Planned  int64         // arrivals the schedule holds for the phase; -1 when random (poisson)
	Rate     float64       // mean target rate, requests/second
}

// PhaseTally is the measurement of one phase.
type PhaseTally struct {
	PhasePlan
	Start, End  time.Time // wall clock when the phase actually began and ended; zero if it never began
	Sent        int64     // requests sent
	Dropped     int64     // arrivals not sent because max_in_flight was reached
	Outcomes    [drivers.NumOutcomes]int64
	ColdSources [drivers.NumSources]int64 // what decided each sent request's temperature
	Temps       [3]int64                  // sent requests by temperature, any outcome
	Inference   Inference                 // the evidence behind inferred temperatures (inference.go)
	Net         NetStats                  // network phases, for HTTP-based drivers
	Hists       map[HistKey]*hdrhistogram.Histogram
	Exemplars   [3]Exemplars // by temperature (exemplar.go)
	Codes       ErrorCodes   // failed requests by class and the platform's own code (codes.go)
}

// Sample is one finished request as the engine records it.
type Sample struct {
	Temp    drivers.Temperature
	Source  drivers.ColdSource
	Outcome drivers.Outcome
	Latency time.Duration // from the intended send time
	Service time.Duration // from the actual send time
	Memory  int           // memory used the platform reported, MB; 0 when it did not
	// Lag is how late the generator began the request after its intended
	// send time; 0 when unknown (not recorded).
	Lag time.Duration
	Net drivers.NetTimings
	// Code is the platform's own code of a failed request (drivers.ErrorCode).
	Code string
}

// Record adds one finished request. It is not safe for concurrent use; the
// engine serialises calls.
func (p *PhaseTally) Record(s Sample) {
	p.Sent++
	p.Outcomes[s.Outcome]++
	p.ColdSources[s.Source]++
	p.Temps[s.Temp]++
	p.Net.Add(s.Net)
	p.hist(HistKey{s.Temp, s.Outcome, Latency}).RecordValue(micros(s.Latency))
	p.hist(HistKey{s.Temp, s.Outcome, Service}).RecordValue(micros(s.Service))
	if s.Memory > 0 {
		p.hist(HistKey{s.Temp, s.Outcome, Memory}).RecordValue(min(int64(s.Memory), memHighest))
	}
	if s.Lag > 0 {
		p.hist(LagKey).RecordValue(micros(s.Lag))
	}
	if s.Code != "" && s.Outcome != drivers.OK {
		p.Codes.Add(s.Outcome, s.Code, 1)
	}
}

func (p *PhaseTally) hist(k HistKey) *hdrhistogram.Histogram {
	h := p.Hists[k]
	if h == nil {
		h = NewHistogramOf(k.Kind)
		p.Hists[k] = h
	}
	return h
}

// Hist returns the histogram for k, or nil when nothing was recorded under k.
func (p *PhaseTally) Hist(k HistKey) *hdrhistogram.Histogram { return p.Hists[k] }

// micros converts to the histogram's unit, clamped into its range so that a
// pathological value is recorded at the edge instead of being lost.
func micros(d time.Duration) int64 {
	us := int64(d / time.Microsecond)
	if us < histLowest {
		return histLowest
	}
	if us > histHighest {
		return histHighest
	}
	return us
}

// Merge adds o into t. Both must come from the same plan (same phases in the
// same order).
func (t *Tally) Merge(o *Tally) error {
	if len(t.Phases) != len(o.Phases) {
		return fmt.Errorf("merge tallies: %d phases vs %d", len(t.Phases), len(o.Phases))
	}
	for i, p := range t.Phases {
		if err := p.Merge(o.Phases[i]); err != nil {
			return err
		}
	}
	if o.Timeline != nil {
		if t.Timeline == nil {
			t.Timeline = NewTimeline(o.Timeline.Start)
		}
		t.Timeline.Merge(o.Timeline)
	}
	return nil
}

// Merge adds o into p: counters add, histograms merge, the phase spans the
// earliest start to the latest end.
func (p *PhaseTally) Merge(o *PhaseTally) error {
	if p.Name != o.Name {
		return fmt.Errorf("merge phase %q with phase %q", p.Name, o.Name)
	}
	p.Rate += o.Rate
	if p.Planned >= 0 && o.Planned >= 0 {
		p.Planned += o.Planned
	} else {
		p.Planned = -1
	}
	if !o.Start.IsZero() && (p.Start.IsZero() || o.Start.Before(p.Start)) {
		p.Start = o.Start
	}
	if o.End.After(p.End) {
		p.End = o.End
	}
	p.Sent += o.Sent
	p.Dropped += o.Dropped
	for i := range p.Outcomes {
		p.Outcomes[i] += o.Outcomes[i]
	}
	for i := range p.ColdSources {
		p.ColdSources[i] += o.ColdSources[i]
	}
	for i := range p.Temps {
		p.Temps[i] += o.Temps[i]
	}
	p.Inference.Merge(o.Inference)
	p.Net.Merge(o.Net)
	for k, h := range o.Hists {
		p.hist(k).Merge(h)
	}
	for i := range p.Exemplars {
		p.Exemplars[i].Merge(&o.Exemplars[i])
	}
	for k, n := range o.Codes {
		p.Codes.Add(k.Outcome, k.Code, n)
	}
	return nil
}

// Clone returns a deep copy of t, for snapshots taken while recording goes on.
func (t *Tally) Clone() *Tally {
	c := &Tally{Phases: make([]*PhaseTally, len(t.Phases)), Timeline: t.Timeline.Clone()}
	for i, p := range t.Phases {
		cp := *p
		cp.Hists = make(map[HistKey]*hdrhistogram.Histogram, len(p.Hists))
		for k, h := range p.Hists {
			cp.Hists[k] = h.Clone() // one copy of the counts (Export then Import made two)
		}
		for i := range p.Exemplars {
			cp.Exemplars[i] = p.Exemplars[i].Clone()
		}
		cp.Codes = maps.Clone(p.Codes)
		c.Phases[i] = &cp
	}
	return c
}
