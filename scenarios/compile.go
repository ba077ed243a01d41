package scenarios

import (
	"fmt"
	"sync/atomic"
	"time"
)

// compilations counts CompileShare calls in this process.
var compilations atomic.Int64

// Compilations is how many times this process has compiled a scenario
// (Compile or CompileShare), for tests that hold a run to compiling its
// scenario once.
func Compilations() int64 { return compilations.Load() }

// Compile turns a scenario into a plan: one schedule per phase, with exact
// arrival counts. It validates s first and does not change it.
func Compile(s *Scenario) (*Plan, error) { return CompileShare(s, 0, 1) }

// CompileShare compiles part part (from 0) of parts of a scenario, one
// agent's share when a run is split across agents. The shares of all parts
// together make up the whole:
//
//   - rate, ramp and steps: each part takes every parts-th arrival of the
//     whole, offset by its index, so rates are divided by parts, the parts
//     interleave evenly (part i of a constant rate runs i/parts of an
//     interval behind part 0) and their counts sum exactly to the whole's;
//   - burst: the requests are split the same way, so the first
//     requests%parts parts get one more;
//   - poisson: each part is an independent Poisson process at rate/parts,
//     seeded with the scenario seed mixed with the phase and part index;
//   - idle: nothing, for every part;
//   - azure_trace and request_log: each part takes every parts-th
//     invocation or request of the whole replay, which every part computes
//     alike (random spreads are seeded without the part).
func CompileShare(s *Scenario, part, parts int) (*Plan, error) {
	compilations.Add(1)
	if parts < 1 || part < 0 || part >= parts {
		return nil, fmt.Errorf("compile scenario %s: part %d of %d: want 0 ≤ part < parts", s.Name, part, parts)
	}
	if err := s.Validate(); err != nil {
		return nil, fmt.Errorf("compile scenario %s: %w", s.Name, err)
	}
	seed := s.Seed
	if seed == 0 {
		seed = DefaultSeed
	}
	sh := share{part: uint64(part), parts: uint64(parts)}
	plan := &Plan{Scenario: s, Part: part, Parts: parts, Phases: make([]PlannedPhase, 0, len(s.Phases))}
	var start time.Duration
	for i := range s.Phases {
		pp, err := planPhase(&s.Phases[i], s.File, i, uint64(seed), sh)
		if err != nil {
			return nil, fmt.Errorf("compile scenario %s: phase %s: %w", s.Name, s.Phases[i].Name, err)
		}
		pp.Start = start
		start += pp.Duration
		plan.Phases = append(plan.Phases, pp)
	}
	return plan, nil
}

// planPhase compiles one valid phase, the i-th, of the scenario in file.
// It fails only when a replay file changed since validation.
func planPhase(p *Phase, file string, i int, seed uint64, sh share) (PlannedPhase, error) {
	d := p.span(file)
	pp := PlannedPhase{Name: p.Name, Duration: d}
	parts := float64(sh.parts)
	switch {
	case p.Rate != nil:
		rp := newRatePacer(*p.Rate, d, sh)
		pp.Schedule, pp.Planned, pp.Rate = rp, rp.Planned(), float64(*p.Rate)/parts
	case p.Ramp != nil:
		rp := newRampPacer(p.Ramp.From, p.Ramp.To, d, sh)
		pp.Schedule, pp.Planned, pp.Rate = rp, rp.Planned(), float64(p.Ramp.From+p.Ramp.To)/2/parts
	case p.Steps != nil:
		sp := newStepPacer(p.Steps, sh)
		pp.Schedule, pp.Planned, pp.Rate = sp, sp.Planned(), sp.mean()
	case p.Burst != nil:
		bp := newBurstPacer(p.Burst.Requests, time.Duration(p.Burst.Within), d, sh)
		pp.Schedule, pp.Planned = bp, bp.Planned()
		pp.Rate = float64(pp.Planned) / d.Seconds()
	case p.Poisson != nil:
		// The phase index and the part pick the stream; the scenario seed
		// picks the family, so changing the seed changes every phase.
		mean := float64(*p.Poisson) / parts
		pp.Schedule = &PoissonPacer{rate: mean, dur: d, s1: seed, s2: splitmix(splitmix(uint64(i)) ^ sh.part)}
		pp.Planned, pp.Rate = -1, mean
	case p.AzureTrace != nil:
		tr, err := p.AzureTrace.load(file)
		if err != nil {
			return pp, err
		}
		tp := newTracePacer(p.AzureTrace, tr, d, splitmix(seed^splitmix(uint64(i))), sh)
		pp.Schedule, pp.Planned = tp, tp.Planned()
		pp.Rate = float64(pp.Planned) / d.Seconds()
	case p.RequestLog != nil:
		es, err := p.RequestLog.load(file)
		if err != nil {
			return pp, err
		}
		lp := newLogPacer(p.RequestLog, es, d, sh)
		pp.Schedule, pp.Planned = lp, lp.Planned()
		pp.Rate = float64(pp.Planned) / d.Seconds()
	default:
		pp.Schedule, pp.Planned = IdlePacer{Duration: d}, 0
	}
	if p.Targets != nil {
		es, err := p.Targets.load(file)
		if err != nil {
			return pp, err
		}
		pp.Schedule = newTargetsSchedule(pp.Schedule, es, sh, p.Targets.File)
	}
	return pp, nil
}

// Duration is how long the plan runs: the sum of its phases.
func (p *Plan) Duration() time.Duration {
	var d time.Duration
	for _, ph := range p.Phases {
		d += ph.Duration
	}
	return d
}

// Planned is the number of arrivals over the plan, or -1 when a phase is
// random (poisson).
func (p *Plan) Planned() int64 {
	var n int64
	for _, ph := range p.Phases {
		if ph.Planned < 0 {
			return -1
		}
		n += ph.Planned
	}
	return n
}

// String lists the plan's phases, one a line, for `coldbench plan` and
// dry runs.
func (p *Plan) String() string {
	var out string
	if p.Parts > 1 {
		out = fmt.Sprintf("part %d of %d\n", p.Part, p.Parts)
	}
	for _, ph := range p.Phases {
		planned := fmt.Sprint(ph.Planned)
		if ph.Planned < 0 {
			planned = "random"
		}
		out += fmt.Sprintf("%-16s at %-8s for %-8s %8s requests  %8.2f/s  %v\n",
			ph.Name, ph.Start, ph.Duration, planned, ph.Rate, ph.Schedule)
	}
	return out
}
