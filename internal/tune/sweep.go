package tune

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"path/filepath"
	"time"

	"github.com/coldbench/coldbench/drivers"
	"github.com/coldbench/coldbench/internal/cost"
	"github.com/coldbench/coldbench/internal/engine"
	"github.com/coldbench/coldbench/internal/runner"
	"github.com/coldbench/coldbench/internal/study"
	"github.com/coldbench/coldbench/results"
	"github.com/coldbench/coldbench/scenarios"
)

// Config is one tuning run.
type Config struct {
	Scenario *scenarios.Scenario
	// Sweep is what to sweep; nil means NewSweep(Scenario).
	Sweep *Sweep
	// Driver, when set, is used instead of opening the scenario's target;
	// the caller keeps ownership.
	Driver drivers.Driver
	// Dir is the tuning run directory; empty means
	// results/<UTC time>-<name>-tune/ under ResultsBase (no "-tune" when
	// the name already says it).
	Dir         string
	ResultsBase string
	Version     string
	// Progress receives a line per setting; nil for none.
	Progress io.Writer
	// Render writes the reports of the sweep and of each setting's run
	// at their end; nil writes none.
	Render study.Renderer
	// Metrics, when set, sees each setting's phases as they run and its
	// projected cost once measured (internal/telemetry).
	Metrics Metrics
}

// Metrics exports a sweep's metrics setting by setting.
type Metrics interface {
	// Setting is what sees the phases of setting s.
	Setting(s drivers.Settings) runner.Metrics
	// Cost is s's projected cost per million requests, in US dollars.
	Cost(s drivers.Settings, perMillion float64)
}

// Result is what a tuning run produced.
type Result struct {
	Dir  string
	Tune *results.Tune
}

// ErrNotConfigurable is returned for a driver that cannot change memory or
// prewarm: it does not implement drivers.Configurer.
var ErrNotConfigurable = errors.New("the driver cannot change memory or prewarm (it does not implement drivers.Configurer)")

// Run runs cfg's sweep. The function's configuration before the sweep is
// put back at the end, also when a setting fails and when ctx is cancelled
// (with a fresh context, so a cancelled ctx does not skip it). tune.json
// is rewritten after every setting, so an interrupted sweep leaves a
// record; the reports are rendered at the end either way (Config.Render).
// When the sweep stops early the partial result is returned with the
// error.
func Run(ctx context.Context, cfg Config) (res *Result, err error) {
	s := cfg.Scenario
	sweep := cfg.Sweep
	if sweep == nil {
		if sweep, err = NewSweep(s); err != nil {
			return nil, err
		}
	}
	d, release, err := study.Target(ctx, cfg.Driver, s)
	if err != nil {
		return nil, err
	}
	defer release()
	conf, ok := d.(drivers.Configurer)
	if !ok {
		return nil, fmt.Errorf("tune with driver %s: %w", s.Target.Driver, ErrNotConfigurable)
	}
	if sweep.Mechanism == cost.KeepWarm && sweep.KeepWarmEvery <= 0 {
		return nil, errors.New("tune: keep-warm pings need a positive period (tune.keep_warm.every)")
	}
	orig, err := original(ctx, d, sweep, s.Target.Driver)
	if err != nil {
		return nil, err
	}
	dir, err := study.Dir(study.Tune, cfg.Dir, cfg.ResultsBase, s)
	if err != nil {
		return nil, err
	}
	sw := &sweeper{cfg: cfg, sweep: sweep, d: d, conf: conf, dir: dir, rec: newRecord(cfg, sweep, orig), out: cfg.Progress}
	if sw.out == nil {
		sw.out = io.Discard
	}

	// Put the original back whatever happens below, panics included.
	restored := false
	restore := func() {
		if restored {
			return
		}
		restored = true
		fmt.Fprintf(sw.out, "restoring the original setting (%s)...\n", settingText(orig.MemoryMB, orig.Prewarm))
		if rerr := sw.restore(orig); rerr != nil {
			sw.rec.RestoreError = rerr.Error()
			fmt.Fprintf(sw.out, "restore failed: %v\n", rerr)
			return
		}
		sw.rec.Restored = true
	}
	defer restore()

	sweepErr := sw.run(ctx)
	restore()
	return sw.finish(ctx, sweepErr)
}

// original learns the function's setting before the sweep, the one put
// back at the end: from the driver, which knows, else from the scenario's
// tune.current.
func original(ctx context.Context, d drivers.Driver, sweep *Sweep, driver string) (results.TuneOriginal, error) {
	desc, ok := d.(drivers.Describer)
	if !ok && sweep.Current != nil {
		return results.TuneOriginal{MemoryMB: sweep.Current.MemoryMB, Prewarm: sweep.Current.Prewarm, Source: "scenario"}, nil
	}
	if !ok {
		return results.TuneOriginal{}, fmt.Errorf("tune with driver %s: it cannot report the current setting (no drivers.Describer); set tune.current or --current so that it can be restored", driver)
	}
	dctx, cancel := context.WithTimeout(ctx, sweep.StepTimeout)
	defer cancel()
	de, err := desc.Describe(dctx)
	if err != nil {
		return results.TuneOriginal{}, fmt.Errorf("tune: read the current setting: %w", err)
	}
	return results.TuneOriginal{MemoryMB: de.MemoryMB, Prewarm: de.Prewarm, Source: "describe"}, nil
}

// sweeper is one tuning run in progress.
type sweeper struct {
	cfg   Config
	sweep *Sweep
	d     drivers.Driver
	conf  drivers.Configurer
	dir   string
	rec   *results.Tune
	out   io.Writer
}

// current is the setting the recommendation is compared with: the
// scenario's tune.current when it gives one, else the original.
func (sw *sweeper) current() drivers.Settings {
	if c := sw.sweep.Current; c != nil {
		return *c
	}
	return drivers.Settings{MemoryMB: sw.rec.Original.MemoryMB, Prewarm: sw.rec.Original.Prewarm}
}

// settings lists what to measure: the sweep's, plus the current setting
// when the sweep leaves it out, so that the change can be told.
func (sw *sweeper) settings() []drivers.Settings {
	list := append([]drivers.Settings(nil), sw.sweep.Settings...)
	o := sw.current()
	for _, s := range list {
		if s == o {
			return list
		}
	}
	return append(list, o)
}

// run measures every setting in turn, stopping at the first failure or
// when ctx ends. Each finished setting is written to tune.json at once.
func (sw *sweeper) run(ctx context.Context) error {
	list := sw.settings()
	p := sw.sweep
	fmt.Fprintf(sw.out, "tuning %s: %d settings, %d cold and %d warm samples each%s; pricing %s, traffic %s\n",
		sw.cfg.Scenario.Name, len(list), p.ColdSamples, p.WarmSamples, phasesNote(sw.cfg.Scenario, p),
		p.Table.Name, p.TrafficDesc)
	if _, ok := sw.d.(drivers.ColdForcer); !ok && p.ColdSamples > 0 {
		wait := time.Duration(len(list)*p.ColdSamples) * idleGap(p.KeepAlive)
		fmt.Fprintf(sw.out, "the driver cannot force cold starts: each cold sample waits out the keep-alive (%v), %v in all; fewer with --cold-samples\n",
			p.KeepAlive, wait)
	}
	for i, set := range list {
		ts := results.TuneSetting{
			Name:     results.SettingName(set.MemoryMB, set.Prewarm),
			MemoryMB: set.MemoryMB,
			Prewarm:  set.Prewarm,
			Current:  set == sw.current(),
		}
		fmt.Fprintf(sw.out, "[%*d/%d] %s...\n", len(fmt.Sprint(len(list))), i+1, len(list), settingText(set.MemoryMB, set.Prewarm))
		start := time.Now()
		err := sw.measure(ctx, set, &ts)
		ts.ElapsedS = time.Since(start).Seconds()
		if err != nil {
			ts.Error = err.Error()
		}
		sw.rec.Settings = append(sw.rec.Settings, ts)
		sw.rec.FinishedAt = time.Now().UTC()
		if werr := results.WriteTune(sw.dir, sw.rec); werr != nil {
			return errors.Join(err, werr)
		}
		if err != nil {
			fmt.Fprintf(sw.out, "      stopped: %v\n", err)
			return fmt.Errorf("setting %s: %w", settingText(set.MemoryMB, set.Prewarm), err)
		}
		fmt.Fprintf(sw.out, "      %s\n", progressLine(&ts))
	}
	return nil
}

// phasesNote says what phases run at each setting, for the first line.
func phasesNote(s *scenarios.Scenario, p *Sweep) string {
	if !p.Phases || len(s.Phases) == 0 {
		return ""
	}
	var d time.Duration
	for _, ph := range s.Phases {
		d += time.Duration(ph.Duration)
		for _, st := range ph.Steps {
			if ph.Duration == 0 {
				d += time.Duration(st.Duration)
			}
		}
	}
	return fmt.Sprintf(", then the scenario's %d phases (%v)", len(s.Phases), d)
}

// measure configures one setting and measures it into ts.
func (sw *sweeper) measure(ctx context.Context, set drivers.Settings, ts *results.TuneSetting) error {
	p := sw.sweep
	platform := set // what the platform is asked for
	if p.Mechanism == cost.KeepWarm {
		platform.Prewarm = 0 // the pings do the prewarming
	}
	if err := sw.step(ctx, func(ctx context.Context) error { return sw.conf.Configure(ctx, platform) }); err != nil {
		return fmt.Errorf("configure: %w", err)
	}

	col := cost.NewCollector(p.Table)
	sp := newSampler(sw.d, runner.Detection(sw.cfg.Scenario.Cold), col, "tune-"+ts.Name+"-")
	if p.ColdSamples > 0 {
		if _, err := sp.cold(ctx, p.ColdSamples, platform.Prewarm, sw.makeCold); err != nil {
			return fmt.Errorf("cold samples: %w", err)
		}
	}
	if err := sp.warm(ctx, p.WarmSamples); err != nil {
		return fmt.Errorf("warm samples: %w", err)
	}

	// The samples are requests sent like any other: the setting's metrics
	// count them, and count the phases' requests on top of them.
	var metrics runner.Metrics
	if m := sw.cfg.Metrics; m != nil {
		metrics = withSamples{m: m.Setting(set), samples: sp.samples()}
		metrics.Observe(&results.Tally{}, engine.Progress{Phase: -1})
	}

	var run *results.Run
	if p.Phases && len(sw.cfg.Scenario.Phases) > 0 {
		stop := func() {}
		if p.Mechanism == cost.KeepWarm && set.Prewarm > 0 {
			stop = sp.keepWarm(ctx, set.Prewarm, p.KeepWarmEvery)
		}
		ts.RunDir = path.Join(results.SettingsDir, ts.Name) // slashes in the record, on any OS
		// The phases run as a plain run of the scenario: without its
		// tune: block, which is this sweep's business only.
		plain := *sw.cfg.Scenario
		plain.Tune = nil
		rc := runner.Config{
			Scenario: &plain,
			Dir:      filepath.Join(sw.dir, filepath.FromSlash(ts.RunDir)),
			Version:  sw.cfg.Version,
			Observer: col.Observe,
			Driver:   sw.d,
			Render:   sw.cfg.Render,
		}
		rc.Metrics = metrics
		res, err := runner.Run(ctx, rc)
		stop()
		if res != nil {
			run = res.Run
		}
		if err != nil {
			summarize(ts, sp.samples(), run)
			return fmt.Errorf("phases: %w", err)
		}
	}
	summarize(ts, sp.samples(), run)
	b, err := col.Billing()
	if err != nil {
		return err
	}
	ts.Billed = b.Record()
	ts.MaxMemoryUsedMB = b.MaxMemoryMB
	ts.MemoryUsed = b.Memory
	if b.MaxMemoryMB > 0 && set.MemoryMB > 0 {
		ts.MemoryHeadroom = max(0, 1-float64(b.MaxMemoryMB)/float64(set.MemoryMB))
	}
	est, err := cost.Compute(p.Table, p.Traffic, cost.Usage{
		MemoryMB:      set.MemoryMB,
		Prewarm:       set.Prewarm,
		Mechanism:     p.Mechanism,
		KeepWarmEvery: p.KeepWarmEvery,
		WarmBilled:    b.Warm,
		ColdBilled:    b.Cold,
		Busy:          b.Busy,
		KeepAlive:     p.KeepAlive,
	})
	if err != nil {
		return fmt.Errorf("cost: %w", err)
	}
	ts.Cost = cost.CostRecord(est)
	if m := sw.cfg.Metrics; m != nil {
		m.Cost(set, ts.Cost.PerMillion)
	}
	ts.TypicalMs, ts.TypicalFrom = typical(ts, b)
	ts.Complete = true
	return nil
}

// withSamples shows a setting's samples beside its phases to its metrics:
// the phases' tally with the samples as one more phase in front.
type withSamples struct {
	m       runner.Metrics
	samples *results.PhaseTally
}

func (w withSamples) Observe(t *results.Tally, p engine.Progress) {
	all := &results.Tally{Phases: append([]*results.PhaseTally{w.samples}, t.Phases...), Timeline: t.Timeline}
	if p.Phase >= 0 {
		p.Phase++ // the samples phase is in front
	}
	w.m.Observe(all, p)
}

// makeCold makes the next request land on a new instance: the driver's
// ForceCold where it has one, else an idle gap longer than the keep-alive.
func (sw *sweeper) makeCold(ctx context.Context) error {
	if f, ok := sw.d.(drivers.ColdForcer); ok {
		return sw.step(ctx, f.ForceCold)
	}
	t := time.NewTimer(idleGap(sw.sweep.KeepAlive))
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// idleGap is how long to leave a function idle for its instances to
// expire: the keep-alive and a tenth more, since platforms keep instances
// for roughly, not exactly, their keep-alive.
func idleGap(keepAlive time.Duration) time.Duration {
	return keepAlive + max(keepAlive/10, 50*time.Millisecond)
}

// step runs a control-plane call with the sweep's step timeout.
func (sw *sweeper) step(ctx context.Context, f func(context.Context) error) error {
	sctx, cancel := context.WithTimeout(ctx, sw.sweep.StepTimeout)
	defer cancel()
	return f(sctx)
}

// restore puts the original setting back with a fresh context: through
// the driver's drivers.Restorer when it has one (it knows everything it
// changed), else by configuring the original memory and prewarm.
func (sw *sweeper) restore(orig results.TuneOriginal) error {
	ctx, cancel := context.WithTimeout(context.Background(), sw.sweep.StepTimeout)
	defer cancel()
	if r, ok := sw.d.(drivers.Restorer); ok {
		return r.Restore(ctx)
	}
	return sw.conf.Configure(ctx, drivers.Settings{MemoryMB: orig.MemoryMB, Prewarm: orig.Prewarm})
}

// finish ranks the settings, writes the final record and the reports, and
// returns the result with the sweep's error, if any.
func (sw *sweeper) finish(ctx context.Context, sweepErr error) (*Result, error) {
	rec := sw.rec
	rec.Interrupted, rec.Error = study.End(ctx, &rec.Header, sweepErr)
	rec.Recommendation = Recommend(rec)
	var errs []error
	if err := results.WriteTune(sw.dir, rec); err != nil {
		errs = append(errs, err)
	}
	if r := sw.cfg.Render; r != nil {
		if err := r.Tune(sw.dir, rec); err != nil {
			errs = append(errs, fmt.Errorf("tuning report: %w", err))
		}
	}
	if rec.RestoreError != "" {
		errs = append(errs, fmt.Errorf("restore the original setting: %s", rec.RestoreError))
	}
	res := &Result{Dir: sw.dir, Tune: rec}
	if sweepErr != nil {
		errs = append([]error{sweepErr}, errs...)
	}
	return res, errors.Join(errs...)
}
