package capacity

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/coldbench/coldbench/internal/cost"
	"github.com/coldbench/coldbench/results"
)

// Projection is what a target traffic is projected with.
type Projection struct {
	Traffic     cost.Traffic
	TrafficDesc string
	TrafficFrom string  // "scenario" or "max-sustainable"
	Headroom    float64 // 0.2 for 20% more instances than Little's law says
	MemoryMB    int
	MemoryFrom  string
	Prewarm     int
	KeepAlive   time.Duration
	KeepFrom    string
	Table       cost.Table
	// Step is the measured step whose durations are used; MaxRPS is the
	// maximum sustainable rate, to flag a peak above it.
	Step   *results.CapacityStep
	MaxRPS float64
}

// Project works out what the traffic needs on the platform measured:
//
//   - instances at the peak hour by Little's law, peak rate × the time a
//     request holds an instance (the step's billed duration, else its
//     service time), with the headroom on top, rounded up;
//   - cold starts in each hour of the day, with the tuning sweep's model
//     (cost.ColdRate: Poisson arrivals, instances reused most recently
//     used first, an idle on-demand instance expiring after the
//     keep-alive, prewarmed instances never cold): cold share × rate ×
//     3600;
//   - the monthly cost (cost.Compute) at the memory size and prewarm level.
func Project(p Projection) (*results.CapacityProjection, error) {
	if p.Step == nil {
		return nil, errors.New("no passing step to take durations from")
	}
	b := p.Step.Billed
	if b.Count == 0 {
		return nil, fmt.Errorf("step %s has no billed duration", p.Step.Name)
	}
	busy := time.Duration(b.BusyMs * float64(time.Millisecond))
	peak := p.Traffic.Peak()
	out := &results.CapacityProjection{
		Traffic: results.TuneTraffic{
			Description:      p.TrafficDesc,
			RequestsPerMonth: p.Traffic.RequestsPerMonth(),
			MeanPerS:         p.Traffic.RequestsPerMonth() / cost.Month.Seconds(),
			PeakPerS:         peak,
			Hourly:           p.Traffic.Hourly[:],
		},
		TrafficFrom:     p.TrafficFrom,
		Headroom:        p.Headroom,
		MemoryMB:        p.MemoryMB,
		MemoryFrom:      p.MemoryFrom,
		Prewarm:         p.Prewarm,
		KeepAlive:       results.TuneKeepAlive{S: p.KeepAlive.Seconds(), Source: p.KeepFrom},
		Pricing:         cost.PricingRecord(p.Table),
		DurationFrom:    p.Step.Name,
		Billed:          b,
		PeakConcurrency: peak * busy.Seconds(),
		AboveMax:        peak > p.MaxRPS,
	}
	// Rounded up, but not past a whole number that rounding error alone
	// pushed a hair above.
	out.Instances = int(math.Ceil(out.PeakConcurrency*(1+p.Headroom) - 1e-9))
	if peak > 0 {
		out.Instances = max(out.Instances, 1)
	}
	out.ColdStartsPerHour = make([]float64, len(p.Traffic.Hourly))
	for h, rate := range p.Traffic.Hourly {
		n := cost.ColdRate(rate, busy, p.KeepAlive, p.Prewarm) * rate * 3600
		out.ColdStartsPerHour[h] = n
		out.ColdStartsPerDay += n
		out.PeakColdPerHour = max(out.PeakColdPerHour, n)
	}
	est, err := cost.Compute(p.Table, p.Traffic, cost.Usage{
		MemoryMB:   p.MemoryMB,
		Prewarm:    p.Prewarm,
		WarmBilled: time.Duration(b.WarmMeanMs * float64(time.Millisecond)),
		ColdBilled: time.Duration(b.ColdMeanMs * float64(time.Millisecond)),
		Busy:       busy,
		KeepAlive:  p.KeepAlive,
	})
	if err != nil {
		return nil, fmt.Errorf("cost: %w", err)
	}
	out.Cost = cost.CostRecord(est)
	return out, nil
}

// durationStep is the passing step whose durations a projection at peak
// uses: the one whose rate is closest to the peak (the higher of two
// equally close), so that the durations were measured under a like load.
func durationStep(steps []results.CapacityStep, peak float64) *results.CapacityStep {
	var best *results.CapacityStep
	for i := range steps {
		st := &steps[i]
		if !st.Complete || !st.Pass || st.Billed.Count == 0 {
			continue
		}
		if best == nil || math.Abs(st.Target-peak) <= math.Abs(best.Target-peak) {
			best = st
		}
	}
	return best
}
