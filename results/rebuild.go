package results

import (
	"fmt"
	"math"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/coldbench/coldbench/drivers"
)

// Tally rebuilds the tally the record was summarized from, from the stored
// counters and histograms: Summarize(r.Tally()) gives r again. Use it to
// merge stored runs or re-render them; it fails on a histogram that does
// not decode or a class or key it does not know.
func (r *Run) Tally() (*Tally, error) {
	plans := make([]PhasePlan, len(r.Phases))
	for i, ps := range r.Phases {
		plans[i] = PhasePlan{
			Name:     ps.Name,
			Duration: time.Duration(math.Round(ps.PlannedDurationS * 1e9)), // exact below 104 days
			Planned:  ps.Planned,
			Rate:     ps.RateTarget,
		}
	}
	t := NewTally(plans)
	if r.Timeline != nil {
		t.Timeline = r.Timeline.Clone()
		if err := t.Timeline.Check(); err != nil {
			return nil, err
		}
		t.Timeline.unpack()
	}
	for i := range r.Phases {
		if err := rebuildPhase(t.Phases[i], &r.Phases[i]); err != nil {
			return nil, fmt.Errorf("rebuild phase %q: %w", r.Phases[i].Name, err)
		}
	}
	return t, nil
}

func rebuildPhase(p *PhaseTally, ps *PhaseStats) error {
	p.Start, p.End = ps.StartedAt, ps.EndedAt
	p.Sent, p.Dropped = ps.Sent, ps.Dropped
	p.Outcomes[drivers.OK] = ps.OK
	for name, n := range ps.Errors {
		o, ok := drivers.ParseOutcome(name)
		if !ok || o == drivers.OK {
			return fmt.Errorf("unknown error class %q", name)
		}
		p.Outcomes[o] += n
	}
	for class, codes := range ps.ErrorCodes {
		o, ok := drivers.ParseOutcome(class)
		if !ok || o == drivers.OK {
			return fmt.Errorf("error codes: unknown error class %q", class)
		}
		for code, n := range codes {
			p.Codes.Add(o, code, n)
		}
	}
	cd := ps.ColdDetection
	p.ColdSources[drivers.SourcePlatform] = cd.Platform
	p.ColdSources[drivers.SourceHeader] = cd.Header
	p.ColdSources[drivers.SourceInstance] = cd.Instance
	p.ColdSources[drivers.SourceBody] = cd.Body
	p.ColdSources[drivers.SourceInferred] = cd.Inferred
	p.ColdSources[drivers.SourceNone] = cd.None
	p.Temps[drivers.Cold] = ps.SentByTemp.Cold
	p.Temps[drivers.Warm] = ps.SentByTemp.Warm
	p.Temps[drivers.Unknown] = ps.SentByTemp.Unknown
	p.Inference = ps.Inference.Inference()
	p.Net = ps.Network
	rebuildExemplars(p, ps.Exemplars)

	put := func(k HistKey, enc string) error {
		if enc == "" {
			return nil
		}
		h, err := decodeHistOf(k.Kind, enc)
		if err != nil {
			return fmt.Errorf("%s %s %s: %w", k.Temp, k.Outcome, k.Kind, err)
		}
		if old := p.Hists[k]; old != nil {
			return fmt.Errorf("%s %s %s: histogram stored twice", k.Temp, k.Outcome, k.Kind)
		}
		p.Hists[k] = h
		return nil
	}
	ok := []struct {
		temp drivers.Temperature
		l    *Percentiles
	}{{drivers.Cold, &ps.Cold}, {drivers.Warm, &ps.Warm}, {drivers.Unknown, ps.Unknown}}
	for _, e := range ok {
		if e.l == nil {
			continue
		}
		if err := put(HistKey{e.temp, drivers.OK, Latency}, e.l.Histogram); err != nil {
			return err
		}
	}
	for _, e := range ps.Histograms {
		k, err := parseHistKey(e)
		if err != nil {
			return err
		}
		if err := put(k, e.Histogram); err != nil {
			return err
		}
	}
	return nil
}

func parseHistKey(e HistEntry) (HistKey, error) {
	var k HistKey
	switch e.Temp {
	case "cold":
		k.Temp = drivers.Cold
	case "warm":
		k.Temp = drivers.Warm
	case "unknown":
		k.Temp = drivers.Unknown
	default:
		return k, fmt.Errorf("histogram with unknown temperature %q", e.Temp)
	}
	o, ok := drivers.ParseOutcome(e.Outcome)
	if !ok {
		return k, fmt.Errorf("histogram with unknown outcome %q", e.Outcome)
	}
	k.Outcome = o
	switch e.Kind {
	case "latency":
		k.Kind = Latency
	case "service":
		k.Kind = Service
	case "memory":
		k.Kind = Memory
	case "lag":
		k.Kind = Lag
	default:
		return k, fmt.Errorf("histogram with unknown kind %q", e.Kind)
	}
	return k, nil
}

// Hist decodes the histogram of successful requests of one temperature.
func (s *Stats) Hist(temp drivers.Temperature) (*hdrhistogram.Histogram, error) {
	switch temp {
	case drivers.Cold:
		return s.Cold.Decode()
	case drivers.Warm:
		return s.Warm.Decode()
	}
	if s.Unknown == nil {
		return NewHistogram(), nil
	}
	return s.Unknown.Decode()
}
