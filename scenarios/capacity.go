package scenarios

import (
	"math"
	"time"
)

// Capacity is a scenario's capacity: block, what `coldbench plan` ramps
// and projects. Every field is optional; internal/capacity fills in the
// defaults and `coldbench plan` flags override fields one by one.
//
//	capacity:
//	  start: 50/s            # the first step's rate
//	  step: 25/s             # added at each step; or factor: 1.2 to multiply
//	  max: 2000/s            # the highest rate tried
//	  settle: 2s             # each step first runs this long, not measured
//	  measure: 8s            # then this long, measured
//	  stop: {p99: 250ms, error_rate: 1%, throttle_rate: 1%}
//	  confirm: true          # run a failing step again before stopping
//	  knee: 50%              # latency rise over the lowest step that marks the knee
//	  projection:
//	    traffic: {rate: 300/s, daily: [0.2, ..., 24 multipliers]}   # or requests_per_month
//	    headroom: 20%
//	    prewarm: 2
//	    keep_alive: 10m
//	    memory: 1024
//	    pricing: {table: aws-lambda-arm64}
type Capacity struct {
	Start  *Rate    `yaml:"start"`
	Step   *Rate    `yaml:"step"`   // additive steps
	Factor *float64 `yaml:"factor"` // multiplicative steps
	Max    *Rate    `yaml:"max"`
	// Settle is run at each step's rate before the measured part, so that
	// instances started for the new rate are not counted against it.
	Settle  *Duration    `yaml:"settle"`
	Measure Duration     `yaml:"measure"`
	Stop    CapacityStop `yaml:"stop"`
	Confirm *bool        `yaml:"confirm"`
	Knee    *Percent     `yaml:"knee"`

	Projection Projection `yaml:"projection"`
}

// CapacityStop is what makes a step fail: the ramp stops at the first
// failing step. A zero P99 is no latency target.
type CapacityStop struct {
	P99          Duration `yaml:"p99"`
	ErrorRate    *Percent `yaml:"error_rate"`
	ThrottleRate *Percent `yaml:"throttle_rate"`
}

// Projection is the traffic a capacity plan projects instances, cold
// starts and cost for. Without a traffic it projects the maximum
// sustainable rate the ramp found.
type Projection struct {
	Traffic   Traffic  `yaml:"traffic"`
	Headroom  *Percent `yaml:"headroom"`
	Prewarm   int      `yaml:"prewarm"`
	KeepAlive Duration `yaml:"keep_alive"`
	Memory    int      `yaml:"memory"` // MB; by default the driver's (Describe) or 1024
	Pricing   Pricing  `yaml:"pricing"`
}

// Capacity defaults, for what a capacity: block leaves out.
const (
	DefaultCapacityStart    Rate    = 10
	DefaultCapacityFactor           = 1.25 // when neither step nor factor is given
	DefaultCapacityMax      Rate    = 1000
	DefaultCapacitySettle           = 2 * time.Second
	DefaultCapacityMeasure          = 8 * time.Second
	DefaultCapacityErrors   Percent = 0.01
	DefaultCapacityThrottle Percent = 0.01
	DefaultCapacityKnee     Percent = 0.5
	DefaultCapacityHeadroom Percent = 0.2
)

// Capacity limits: a ramp of more steps than MaxCapacitySteps would run
// for days; a factor above MaxCapacityFactor skips too much to find a
// break point.
const (
	MaxCapacitySteps  = 500
	MaxCapacityFactor = 10.0
	maxHeadroom       = 10 // 1000%
)

// CapacityRates lists the rates of a ramp from start to max: start, then
// start+step or start×factor (whichever is set) and so on, none above max
// (give or take rounding). It stops after MaxCapacitySteps+1 rates, so
// that the validator can tell a ramp too long.
func CapacityRates(start, step, factor, max float64) []float64 {
	var out []float64
	for r := start; r <= max*(1+1e-9) && len(out) <= MaxCapacitySteps; {
		out = append(out, r)
		switch {
		case step > 0:
			r = start + float64(len(out))*step // not r += step: no drift
		case factor > 1:
			r *= factor
		default:
			return out
		}
	}
	return out
}

// Rates lists the block's ramp, defaults filled in (see CapacityRates).
func (c *Capacity) Rates() []float64 {
	start, max := DefaultCapacityStart, DefaultCapacityMax
	if c.Start != nil {
		start = *c.Start
	}
	if c.Max != nil {
		max = *c.Max
	}
	var step, factor float64
	switch {
	case c.Step != nil:
		step = float64(*c.Step)
	case c.Factor != nil:
		factor = *c.Factor
	default:
		factor = DefaultCapacityFactor
	}
	return CapacityRates(float64(start), step, factor, float64(max))
}

// capacity checks a capacity: block.
func (v *validator) capacity(c *Capacity) {
	const p = "capacity"
	ramp := true // the ramp's numbers are usable: its length can be checked
	for _, r := range []struct {
		name string
		r    *Rate
	}{{"start", c.Start}, {"step", c.Step}, {"max", c.Max}} {
		if v.bad[p+"."+r.name] {
			ramp = false
		}
		if r.r != nil {
			v.rate(p+"."+r.name, *r.r, false)
			ramp = ramp && r.r.check(false) == ""
		}
	}
	if f := c.Factor; f != nil {
		switch {
		case c.Step != nil:
			v.add(p+".factor", "give step (added) or factor (multiplied), not both")
		case math.IsNaN(*f) || *f <= 1 || *f > MaxCapacityFactor:
			v.add(p+".factor", "%v: want more than 1 and at most %v", *f, MaxCapacityFactor)
			ramp = false
		}
	}
	switch {
	case !ramp || v.bad[p+".factor"]:
	case c.Start != nil && c.Max != nil && *c.Max < *c.Start:
		v.add(p+".max", "%v is below start %v", *c.Max, *c.Start)
	case len(c.Rates()) > MaxCapacitySteps:
		v.add(p+".max", "the ramp from start to max would take more than %d steps: raise step or factor, or lower max", MaxCapacitySteps)
	}
	if c.Settle != nil && (*c.Settle < 0 || time.Duration(*c.Settle) > MaxPhaseDuration) {
		v.add(p+".settle", "must be 0 or more, up to %s, got %s", MaxPhaseDuration, *c.Settle)
	}
	if c.Measure != 0 || (v.present != nil && v.written(p+".measure")) { // 0 unwritten: the default
		v.duration(p+".measure", c.Measure)
	}
	if d := c.Stop.P99; d < 0 {
		v.add(p+".stop.p99", "must be positive, got %s", d)
	}
	for _, s := range []struct {
		name string
		r    *Percent
	}{{"error_rate", c.Stop.ErrorRate}, {"throttle_rate", c.Stop.ThrottleRate}} {
		if s.r != nil && (*s.r < 0 || *s.r > 1) {
			v.add(p+".stop."+s.name, "%s: want 0%% to 100%%", *s.r)
		}
	}
	if k := c.Knee; k != nil && (*k <= 0 || *k > maxHeadroom) {
		v.add(p+".knee", "%s: want more than 0%% and at most %d%%", *k, 100*maxHeadroom)
	}

	pr := &c.Projection
	const q = p + ".projection"
	v.traffic(q+".traffic", &pr.Traffic)
	v.pricing(q+".pricing", &pr.Pricing)
	if h := pr.Headroom; h != nil && (*h < 0 || *h > maxHeadroom) {
		v.add(q+".headroom", "%s: want 0%% to %d%%", *h, 100*maxHeadroom)
	}
	if pr.Prewarm < 0 || pr.Prewarm > MaxTunePrewarm {
		v.add(q+".prewarm", "%d: want 0 to %d", pr.Prewarm, MaxTunePrewarm)
	}
	if pr.KeepAlive < 0 || (pr.KeepAlive == 0 && v.present != nil && v.written(q+".keep_alive")) {
		v.add(q+".keep_alive", "must be positive, got %s", pr.KeepAlive)
	}
	if pr.Memory != 0 && (pr.Memory < MinTuneMemoryMB || pr.Memory > MaxTuneMemoryMB) {
		v.add(q+".memory", "%d MB: want %d to %d", pr.Memory, MinTuneMemoryMB, MaxTuneMemoryMB)
	}
}
