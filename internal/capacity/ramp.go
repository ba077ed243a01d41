package capacity

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/coldbench/coldbench/drivers"
	"github.com/coldbench/coldbench/internal/cost"
	"github.com/coldbench/coldbench/internal/runner"
	"github.com/coldbench/coldbench/internal/study"
	"github.com/coldbench/coldbench/results"
	"github.com/coldbench/coldbench/scenarios"
)

// Config is one capacity-planning run.
type Config struct {
	Scenario *scenarios.Scenario
	// Settings is the ramp; nil means NewSettings(Scenario).
	Settings *Settings
	// Driver, when set, is used instead of opening the scenario's target;
	// the caller keeps ownership.
	Driver drivers.Driver
	// Dir is the plan's directory; empty means
	// results/<UTC time>-<name>-plan/ under ResultsBase.
	Dir         string
	ResultsBase string
	Version     string
	// Progress receives a line per step; nil for none.
	Progress io.Writer
	// Render writes the reports of the plan and of each step's run at
	// their end; nil writes none.
	Render study.Renderer
}

// Result is what a capacity-planning run produced.
type Result struct {
	Dir      string
	Capacity *results.Capacity
}

// Run ramps cfg's scenario step by step, each step a run of its own
// (DIR/steps/NAME/), and stops at the first failing step: after running
// it once more when Settings.Confirm is set and the second run fails too.
// plan.json is rewritten after every step, so an interrupted ramp leaves
// a record of the steps done; the result and the projection are written,
// and the reports rendered (Config.Render), at the end either way. When the ramp stops
// early the partial result is returned with the error.
func Run(ctx context.Context, cfg Config) (res *Result, err error) {
	s := cfg.Scenario
	set := cfg.Settings
	if set == nil {
		if set, err = NewSettings(s); err != nil {
			return nil, err
		}
	}
	d, release, err := study.Target(ctx, cfg.Driver, s)
	if err != nil {
		return nil, err
	}
	defer release()
	dir, err := study.Dir(study.Capacity, cfg.Dir, cfg.ResultsBase, s)
	if err != nil {
		return nil, err
	}
	r := &ramp{cfg: cfg, set: set, d: d, dir: dir, rec: newRecord(cfg, set), out: cfg.Progress}
	if r.out == nil {
		r.out = io.Discard
	}
	r.desc, _ = d.(drivers.Describer)
	rampErr := r.run(ctx)
	return r.finish(ctx, rampErr)
}

func newRecord(cfg Config, set *Settings) *results.Capacity {
	s := cfg.Scenario
	return &results.Capacity{
		Header: study.Header(results.CapacitySchema, s, cfg.Version, time.Now()),
		Host:   results.LocalHost(),
		Ramp: results.CapacityRamp{
			Rates: set.Rates, Step: set.Step, Factor: set.Factor,
			SettleS: set.Settle.Seconds(), MeasureS: set.Measure.Seconds(), Confirm: set.Confirm,
		},
		Stop:     results.CapacityStop{P99Ms: ms(set.P99), ErrorRate: set.ErrorRate, ThrottleRate: set.ThrottleRate, MinAchieved: MinAchieved},
		KneeRise: set.KneeRise,
		Steps:    []results.CapacityStep{},
	}
}

// ramp is one capacity-planning run in progress.
type ramp struct {
	cfg  Config
	set  *Settings
	d    drivers.Driver
	desc drivers.Describer // nil when the driver cannot count instances
	dir  string
	rec  *results.Capacity
	out  io.Writer
}

// run measures the steps in turn until one fails (confirmed), the rates
// run out, or ctx ends. Each step is written to plan.json at once.
func (r *ramp) run(ctx context.Context) error {
	set := r.set
	n := len(set.Rates)
	fmt.Fprintf(r.out, "planning %s: up to %d steps from %s/s to %s/s, each %v settling then %v measured; stop at %s\n",
		r.cfg.Scenario.Name, n, rpsText(set.Rates[0]), rpsText(set.Rates[n-1]), set.Settle, set.Measure, stopText(set))
	width := len(fmt.Sprint(n))
	for i, rate := range set.Rates {
		fmt.Fprintf(r.out, "[%*d/%d] %s/s...\n", width, i+1, n, rpsText(rate))
		st, err := r.step(ctx, i, rate, 1)
		if err == nil && !st.Pass && set.Confirm {
			fmt.Fprintf(r.out, "      failed (%s); running it again to confirm\n", joinFailures(st.Failures))
			first := st.Failures
			st, err = r.step(ctx, i, rate, 2)
			if err == nil && st.Pass {
				st.Overruled = first
			}
		}
		r.rec.Steps = append(r.rec.Steps, st)
		r.rec.FinishedAt = time.Now().UTC()
		if werr := results.WriteCapacity(r.dir, r.rec); werr != nil {
			return errors.Join(err, werr)
		}
		if err != nil {
			fmt.Fprintf(r.out, "      stopped: %v\n", err)
			return fmt.Errorf("step %s/s: %w", rpsText(rate), err)
		}
		fmt.Fprintf(r.out, "      %s\n", progressLine(&st))
		if !st.Pass {
			return nil
		}
	}
	r.rec.Result.ReachedMax = true
	return nil
}

// step runs one step: its own run of the scenario's target at rate, a
// settle phase and a measured one, while the platform's instances are
// counted when the driver can tell.
func (r *ramp) step(ctx context.Context, i int, rate float64, attempt int) (results.CapacityStep, error) {
	name := fmt.Sprintf("%02d-%srps", i+1, strings.ReplaceAll(rpsText(rate), ".", "_"))
	if attempt > 1 {
		name += fmt.Sprintf("-again%d", attempt)
	}
	st := results.CapacityStep{Name: name, RunDir: path.Join(results.StepsDir, name), Target: rate, Attempts: attempt}
	set := r.set
	rr := scenarios.Rate(rate)
	plain := *r.cfg.Scenario
	plain.Tune, plain.Capacity, plain.Source = nil, nil, nil
	plain.Name = fmt.Sprintf("%s @ %s/s", r.cfg.Scenario.Name, rpsText(rate))
	plain.Phases = nil
	if set.Settle > 0 {
		plain.Phases = append(plain.Phases, scenarios.Phase{Name: settlePhase, Duration: scenarios.Duration(set.Settle), Rate: &rr})
	}
	plain.Phases = append(plain.Phases, scenarios.Phase{Name: measurePhase, Duration: scenarios.Duration(set.Measure), Rate: &rr})

	col := cost.NewCollector(set.Table)
	observe := func(c *drivers.Call, s results.Sample) {
		if c.Phase == measurePhase {
			col.Observe(c, s)
		}
	}
	counts := r.poll(ctx)
	start := time.Now()
	res, err := runner.Run(ctx, runner.Config{
		Scenario: &plain,
		Dir:      filepath.Join(r.dir, filepath.FromSlash(st.RunDir)),
		Version:  r.cfg.Version,
		Observer: observe,
		Driver:   r.d,
		Render:   r.cfg.Render,
	})
	samples := counts()
	st.ElapsedS = time.Since(start).Seconds()
	if res == nil || res.Run == nil {
		if err == nil {
			err = errors.New("the run left no record")
		}
		return st, err
	}
	if merr := measure(&st, res.Run); merr != nil {
		return st, errors.Join(err, merr)
	}
	st.Instances = instancesDuring(samples, res.Run)
	if b, berr := col.Billing(); berr == nil {
		st.Billed = b.Record()
	}
	if err != nil {
		return st, err // cut short: not judged, not complete
	}
	st.Complete = true
	judge(&st, set)
	return st, nil
}

// sample is one reading of the platform's instance count.
type sample struct {
	at        time.Time
	instances int
}

// poll reads the instance count every PollEvery until the returned
// function is called, which returns the readings; none without a
// drivers.Describer.
func (r *ramp) poll(ctx context.Context) func() []sample {
	if r.desc == nil || r.set.PollEvery <= 0 {
		return func() []sample { return nil }
	}
	ctx, cancel := context.WithCancel(ctx)
	var (
		mu  sync.Mutex
		out []sample
		wg  sync.WaitGroup
	)
	wg.Go(func() {
		tick := time.NewTicker(r.set.PollEvery)
		defer tick.Stop()
		for {
			dctx, dcancel := context.WithTimeout(ctx, r.set.PollEvery)
			de, err := r.desc.Describe(dctx)
			dcancel()
			if err == nil {
				mu.Lock()
				out = append(out, sample{time.Now(), de.Instances})
				mu.Unlock()
			}
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	})
	return func() []sample {
		cancel()
		wg.Wait()
		return out
	}
}

// instancesDuring summarises the readings taken in the run's measured
// phase; nil when there are none, or only zeros.
func instancesDuring(samples []sample, run *results.Run) *results.CapacityInstances {
	var from, to time.Time
	for _, p := range run.Phases {
		if p.Name == measurePhase {
			from, to = p.StartedAt, p.EndedAt
		}
	}
	if from.IsZero() {
		return nil
	}
	in := &results.CapacityInstances{}
	sum := 0
	for _, s := range samples {
		if s.at.Before(from) || (!to.IsZero() && s.at.After(to)) {
			continue
		}
		in.Samples++
		in.Max = max(in.Max, s.instances)
		sum += s.instances
	}
	if in.Samples == 0 || in.Max == 0 {
		// None during traffic: a Describer that does not count
		// instances (Lambda's reports settings only) says 0.
		return nil
	}
	in.Mean = float64(sum) / float64(in.Samples)
	return in
}

// finish analyses the steps done, projects the traffic, writes the final
// record and the reports, and returns the result with the ramp's error.
func (r *ramp) finish(ctx context.Context, rampErr error) (*Result, error) {
	rec := r.rec
	rec.Interrupted, rec.Error = study.End(ctx, &rec.Header, rampErr)
	reached := rec.Result.ReachedMax
	rec.Result = Analyze(rec.Steps, rec.KneeRise)
	rec.Result.ReachedMax = reached
	rec.Result.StepsPlanned = len(r.set.Rates)
	rec.Result.Summary = summary(rec)
	var errs []error
	proj, perr := r.project(ctx)
	switch {
	case perr != nil:
		fmt.Fprintf(r.out, "no projection: %v\n", perr)
	default:
		rec.Projection = proj
	}
	if err := results.WriteCapacity(r.dir, rec); err != nil {
		errs = append(errs, err)
	}
	if rd := r.cfg.Render; rd != nil {
		if err := rd.Capacity(r.dir, rec); err != nil {
			errs = append(errs, fmt.Errorf("capacity report: %w", err))
		}
	}
	if rampErr != nil {
		errs = append([]error{rampErr}, errs...)
	}
	return &Result{Dir: r.dir, Capacity: rec}, errors.Join(errs...)
}

// project projects the scenario's traffic, or the maximum sustainable
// rate, onto the steps measured.
func (r *ramp) project(ctx context.Context) (*results.CapacityProjection, error) {
	set, rec := r.set, r.rec
	p := Projection{
		Headroom: set.Headroom, Prewarm: set.Prewarm, KeepAlive: set.KeepAlive, KeepFrom: set.KeepAliveSource,
		Table: set.Table, MaxRPS: rec.Result.MaxSustainableRPS,
	}
	switch {
	case set.Traffic != nil:
		p.Traffic, p.TrafficDesc, p.TrafficFrom = *set.Traffic, set.TrafficDesc, "scenario"
	case rec.Result.MaxSustainable >= 0:
		t, _ := cost.Daily(rec.Result.MaxSustainableRPS, nil)
		p.Traffic, p.TrafficFrom = t, "max-sustainable"
		p.TrafficDesc = fmt.Sprintf("%s/s around the clock, the maximum sustainable rate (no projection.traffic given)", rpsText(rec.Result.MaxSustainableRPS))
	default:
		return nil, errors.New("no traffic given and no step passed")
	}
	p.Step = durationStep(rec.Steps, p.Traffic.Peak())
	p.MemoryMB, p.MemoryFrom = set.MemoryMB, "scenario"
	if p.MemoryMB == 0 {
		p.MemoryMB, p.MemoryFrom = DefaultMemoryMB, "default"
		if r.desc != nil {
			// The ramp may have been interrupted: ask with a context of
			// its own, briefly.
			dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			de, err := r.desc.Describe(dctx)
			cancel()
			if err == nil && de.MemoryMB > 0 {
				p.MemoryMB, p.MemoryFrom = de.MemoryMB, "describe"
			}
		}
	}
	return Project(p)
}

// stopText says what fails a step, for the first progress line.
func stopText(set *Settings) string {
	s := fmt.Sprintf("errors above %s or throttling above %s", pctText(set.ErrorRate), pctText(set.ThrottleRate))
	if set.P99 > 0 {
		s = fmt.Sprintf("p99 above %s, ", msText(ms(set.P99))) + s
	}
	return s
}

// progressLine is a finished step in one line.
func progressLine(st *results.CapacityStep) string {
	var b strings.Builder
	fmt.Fprintf(&b, "sent %s/s  p50 %s  p99 %s  errors %s  throttled %s  concurrency %.1f",
		rpsText(st.AchievedRPS), msText(st.Latency.P50Ms), msText(st.Latency.P99Ms), pctText(st.ErrorRate), pctText(st.ThrottleRate), st.Concurrency)
	if in := st.Instances; in != nil {
		fmt.Fprintf(&b, "  instances %d", in.Max)
	}
	if st.Pass {
		b.WriteString("  PASS")
		if len(st.Overruled) > 0 {
			b.WriteString(" (on the second run)")
		}
	} else {
		fmt.Fprintf(&b, "  FAIL: %s", joinFailures(st.Failures))
		if st.Attempts > 1 {
			b.WriteString(" (confirmed)")
		}
	}
	return b.String()
}
