// Package capacity runs a capacity plan: a stepped ramp of constant-rate
// runs, each step settling before its measured part, up to the first step
// where p99, errors or throttling pass their limits; it finds the maximum
// sustainable rate and the latency knee, and projects a target traffic
// onto what was measured: instances needed, cold starts per hour and the
// monthly cost (internal/cost, as the tuning sweep prices a setting).
package capacity

import (
	"fmt"
	"time"

	"github.com/coldbench/coldbench/internal/cost"
	"github.com/coldbench/coldbench/pricing"
	"github.com/coldbench/coldbench/scenarios"
)

// MinAchieved is the least share of its target rate a step must send: below
// it the load generator, not the target, is what broke, and going on
// would measure coldbench's host.
const MinAchieved = 0.9

// DefaultMemoryMB is the memory size priced when neither the scenario nor
// the driver says.
const DefaultMemoryMB = 1024

// Settings is a capacity: block with every default filled in.
type Settings struct {
	Rates           []float64 // target rate of each step, requests/second
	Step, Factor    float64   // one of them is set
	Settle, Measure time.Duration
	Confirm         bool // run a failing step once more before stopping

	P99                     time.Duration // 0: no latency target
	ErrorRate, ThrottleRate float64
	KneeRise                float64

	// Traffic is the projected traffic; nil projects the maximum
	// sustainable rate.
	Traffic         *cost.Traffic
	TrafficDesc     string
	Headroom        float64
	Prewarm         int
	KeepAlive       time.Duration
	KeepAliveSource string
	MemoryMB        int // 0: ask the driver, else DefaultMemoryMB
	Table           cost.Table

	// PollEvery is how often the platform's instance count is read
	// during a step, when the driver can tell.
	PollEvery time.Duration
}

// NewSettings reads s's capacity: block (none is all defaults).
func NewSettings(s *scenarios.Scenario) (*Settings, error) {
	c := s.Capacity
	if c == nil {
		c = &scenarios.Capacity{}
	}
	st := &Settings{
		Rates:        c.Rates(),
		Settle:       scenarios.DefaultCapacitySettle,
		Measure:      scenarios.DefaultCapacityMeasure,
		Confirm:      c.Confirm == nil || *c.Confirm,
		P99:          time.Duration(c.Stop.P99),
		ErrorRate:    float64(pct(c.Stop.ErrorRate, scenarios.DefaultCapacityErrors)),
		ThrottleRate: float64(pct(c.Stop.ThrottleRate, scenarios.DefaultCapacityThrottle)),
		KneeRise:     float64(pct(c.Knee, scenarios.DefaultCapacityKnee)),
		Headroom:     float64(pct(c.Projection.Headroom, scenarios.DefaultCapacityHeadroom)),
		Prewarm:      c.Projection.Prewarm,
		MemoryMB:     c.Projection.Memory,
		PollEvery:    250 * time.Millisecond,
	}
	switch {
	case c.Step != nil:
		st.Step = float64(*c.Step)
	case c.Factor != nil:
		st.Factor = *c.Factor
	default:
		st.Factor = scenarios.DefaultCapacityFactor
	}
	if c.Settle != nil {
		st.Settle = time.Duration(*c.Settle)
	}
	if c.Measure > 0 {
		st.Measure = time.Duration(c.Measure)
	}
	if len(st.Rates) == 0 {
		return nil, fmt.Errorf("capacity: the ramp has no step (max below start)")
	}
	tr := c.Projection.Traffic
	if tr.Rate != nil || tr.RequestsPerMonth > 0 {
		t, desc, err := cost.TrafficOf(tr)
		if err != nil {
			return nil, fmt.Errorf("capacity: projection: %w", err)
		}
		st.Traffic, st.TrafficDesc = &t, desc
	}
	name := c.Projection.Pricing.Table
	if name == "" {
		name = pricing.DefaultTable
	}
	table, err := pricing.Lookup(name)
	if err != nil {
		return nil, fmt.Errorf("capacity: projection: pricing: %w", err)
	}
	st.Table = table.Apply(c.Projection.Pricing.Overrides)
	st.KeepAlive, st.KeepAliveSource = cost.KeepAlive(s, time.Duration(c.Projection.KeepAlive))
	return st, nil
}

func pct(p *scenarios.Percent, def scenarios.Percent) scenarios.Percent {
	if p == nil {
		return def
	}
	return *p
}

// Override changes a scenario's capacity: block from command-line values,
// the way `coldbench plan` flags do; nil or empty values leave a field
// alone. The scenario is validated again afterwards, so a bad value is
// reported like one in the file (without a position).
type Override struct {
	Start, Step, Max        *scenarios.Rate
	Factor                  *float64
	Settle, Measure         *scenarios.Duration
	P99                     *scenarios.Duration
	ErrorRate, ThrottleRate *scenarios.Percent
	Confirm                 *bool
	Knee                    *scenarios.Percent
	Rate                    *scenarios.Rate
	RequestsPerMonth        *float64
	Headroom                *scenarios.Percent
	Prewarm, Memory         *int
	KeepAlive               *scenarios.Duration
	PricingTable            string
	Prices                  pricing.Overrides
}

// Apply sets o's values in s.Capacity (creating the block) and validates s.
func (o Override) Apply(s *scenarios.Scenario) error {
	if s.Capacity == nil {
		s.Capacity = &scenarios.Capacity{}
	}
	c := s.Capacity
	set := func(dst **scenarios.Rate, v *scenarios.Rate) {
		if v != nil {
			*dst = v
		}
	}
	set(&c.Start, o.Start)
	set(&c.Max, o.Max)
	if o.Step != nil {
		c.Step, c.Factor = o.Step, nil // the flag's kind of step replaces the block's
	}
	if o.Factor != nil {
		c.Factor, c.Step = o.Factor, nil
	}
	if o.Settle != nil {
		c.Settle = o.Settle
	}
	if o.Measure != nil {
		c.Measure = *o.Measure
	}
	if o.P99 != nil {
		c.Stop.P99 = *o.P99
	}
	if o.ErrorRate != nil {
		c.Stop.ErrorRate = o.ErrorRate
	}
	if o.ThrottleRate != nil {
		c.Stop.ThrottleRate = o.ThrottleRate
	}
	if o.Confirm != nil {
		c.Confirm = o.Confirm
	}
	if o.Knee != nil {
		c.Knee = o.Knee
	}
	p := &c.Projection
	if o.RequestsPerMonth != nil {
		p.Traffic = scenarios.Traffic{RequestsPerMonth: *o.RequestsPerMonth}
	}
	if o.Rate != nil {
		p.Traffic = scenarios.Traffic{Rate: o.Rate, Daily: p.Traffic.Daily}
	}
	if o.Headroom != nil {
		p.Headroom = o.Headroom
	}
	if o.Prewarm != nil {
		p.Prewarm = *o.Prewarm
	}
	if o.Memory != nil {
		p.Memory = *o.Memory
	}
	if o.KeepAlive != nil {
		p.KeepAlive = *o.KeepAlive
	}
	if o.PricingTable != "" {
		p.Pricing.Table = o.PricingTable
	}
	p.Pricing.Overrides = p.Pricing.Overrides.Merge(o.Prices)
	return s.Validate()
}
