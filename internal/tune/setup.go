// Package tune runs a tuning sweep: for every memory size × prewarm level
// of a scenario's tune: block it configures the function through its
// driver, samples cold and warm requests on purpose, replays the
// scenario's phases, projects the cost at the planned traffic
// (internal/cost), and recommends a setting under the chosen strategy. The
// function's original configuration is put back at the end, on failure
// and on interrupt.
package tune

import (
	"fmt"
	"slices"
	"time"

	"github.com/coldbench/coldbench/drivers"
	"github.com/coldbench/coldbench/internal/cost"
	"github.com/coldbench/coldbench/pricing"
	"github.com/coldbench/coldbench/scenarios"
)

// Defaults for what a tune: block leaves out.
var (
	DefaultMemory  = []int{512, 1024, 1769, 3008} // MB
	DefaultPrewarm = []int{0}
)

// Defaults for the samples and the strategy (the traffic's and the
// keep-alive's are internal/cost's).
const (
	DefaultColdSamples = 10
	DefaultWarmSamples = 50
	DefaultStrategy    = scenarios.StrategyBalanced
	DefaultWeight      = 0.5
)

// Sweep is a tuning sweep with every default filled in.
type Sweep struct {
	Settings []drivers.Settings // in sweep order: memory ascending, then prewarm
	// Current is the setting to compare the recommendation with, from
	// tune.current; nil means the function's setting before the sweep
	// (drivers.Describer). It is also what is restored when the driver
	// cannot describe the function.
	Current       *drivers.Settings
	Mechanism     cost.Mechanism
	KeepWarmEvery time.Duration // with cost.KeepWarm

	ColdSamples, WarmSamples int
	Phases                   bool // replay the scenario's phases at each setting

	Strategy string
	Weight   float64
	SLO      scenarios.SLO

	Traffic     cost.Traffic
	TrafficDesc string
	Table       cost.Table

	KeepAlive       time.Duration
	KeepAliveSource string // "scenario", "emulator" or "default"

	// StepTimeout bounds each Configure, ForceCold and restore; the
	// platform is given that long to report a setting ready.
	StepTimeout time.Duration
}

// NewSweep reads s's tune: block (none is all defaults) into a Sweep.
func NewSweep(s *scenarios.Scenario) (*Sweep, error) {
	t := s.Tune
	if t == nil {
		t = &scenarios.Tune{}
	}
	p := &Sweep{
		ColdSamples: DefaultColdSamples,
		WarmSamples: DefaultWarmSamples,
		Phases:      t.Phases == nil || *t.Phases,
		Strategy:    cmpOr(t.Strategy, DefaultStrategy),
		Weight:      DefaultWeight,
		SLO:         t.SLO,
		Mechanism:   cost.Provisioned,
		StepTimeout: 10 * time.Minute,
	}
	if t.Samples.Cold != nil {
		p.ColdSamples = *t.Samples.Cold
	}
	if t.Samples.Warm != nil {
		p.WarmSamples = *t.Samples.Warm
	}
	if t.Weight != nil {
		p.Weight = *t.Weight
	}
	if p.Strategy == scenarios.StrategySLO && p.SLO.Empty() {
		return nil, fmt.Errorf("tune: strategy slo needs at least one target in tune.slo")
	}

	memory := slices.Clone(t.Memory)
	if len(memory) == 0 {
		memory = slices.Clone(DefaultMemory)
	}
	prewarm := slices.Clone(t.Prewarm)
	if kw := t.KeepWarm; kw != nil {
		p.Mechanism, p.KeepWarmEvery = cost.KeepWarm, time.Duration(kw.Every)
		if len(prewarm) == 0 && kw.Concurrent > 0 {
			prewarm = []int{0, kw.Concurrent}
		}
	}
	if len(prewarm) == 0 {
		prewarm = slices.Clone(DefaultPrewarm)
	}
	slices.Sort(memory)
	slices.Sort(prewarm)
	for _, m := range slices.Compact(memory) {
		for _, w := range slices.Compact(prewarm) {
			p.Settings = append(p.Settings, drivers.Settings{MemoryMB: m, Prewarm: w})
		}
	}
	if c := t.Current; c != nil {
		p.Current = &drivers.Settings{MemoryMB: c.Memory, Prewarm: c.Prewarm}
	}

	var err error
	if p.Traffic, p.TrafficDesc, err = cost.TrafficOf(t.Traffic); err != nil {
		return nil, err
	}
	name := cmpOr(t.Pricing.Table, pricing.DefaultTable)
	if p.Table, err = pricing.Lookup(name); err != nil {
		return nil, fmt.Errorf("tune: pricing: %w", err)
	}
	p.Table = p.Table.Apply(t.Pricing.Overrides)

	p.KeepAlive, p.KeepAliveSource = cost.KeepAlive(s, time.Duration(t.KeepAlive))
	return p, nil
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// Override changes a scenario's tune: block from command-line values, the
// way `coldbench tune` flags do; nil or empty values leave a field alone.
// The scenario is validated again afterwards, so a bad value is reported
// like one in the file (without a position).
type Override struct {
	Memory, Prewarm  []int
	Strategy         string
	Weight           *float64
	ColdSamples      *int
	WarmSamples      *int
	RequestsPerMonth *float64
	Rate             *scenarios.Rate
	PricingTable     string
	Prices           pricing.Overrides
	Current          *scenarios.TuneSetting
	Phases           *bool
}

// Apply sets o's values in s.Tune (creating the block) and validates s.
func (o Override) Apply(s *scenarios.Scenario) error {
	if s.Tune == nil {
		s.Tune = &scenarios.Tune{}
	}
	t := s.Tune
	if o.Memory != nil {
		t.Memory = o.Memory
	}
	if o.Prewarm != nil {
		t.Prewarm = o.Prewarm
		if t.KeepWarm != nil {
			t.KeepWarm.Concurrent = 0 // the flag's levels replace the block's
		}
	}
	if o.Strategy != "" {
		t.Strategy = o.Strategy
		if o.Strategy != scenarios.StrategyBalanced && o.Weight == nil {
			t.Weight = nil // a block's weight belongs to its own strategy
		}
	}
	if o.Weight != nil {
		t.Weight = o.Weight
	}
	if o.ColdSamples != nil {
		t.Samples.Cold = o.ColdSamples
	}
	if o.WarmSamples != nil {
		t.Samples.Warm = o.WarmSamples
	}
	if o.RequestsPerMonth != nil {
		t.Traffic = scenarios.Traffic{RequestsPerMonth: *o.RequestsPerMonth}
	}
	if o.Rate != nil {
		daily := t.Traffic.Daily
		t.Traffic = scenarios.Traffic{Rate: o.Rate, Daily: daily}
	}
	if o.PricingTable != "" {
		t.Pricing.Table = o.PricingTable
	}
	t.Pricing.Overrides = t.Pricing.Overrides.Merge(o.Prices)
	if o.Current != nil {
		t.Current = o.Current
	}
	if o.Phases != nil {
		t.Phases = o.Phases
	}
	return s.Validate()
}
