// Package runner runs one scenario end to end: it opens the driver, compiles
// the plan, drives the engine, journals the run directory as the run goes,
// and renders the report at the end. A run interrupted at any point leaves a
// readable, incomplete-marked record.
package runner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/coldbench/coldbench/drivers"
	"github.com/coldbench/coldbench/internal/engine"
	"github.com/coldbench/coldbench/report"
	"github.com/coldbench/coldbench/results"
	"github.com/coldbench/coldbench/scenarios"
)

// Config is one run.
type Config struct {
	Scenario *scenarios.Scenario
	// Dir is the run directory; empty means results/<timestamp>-<name>/
	// under ResultsBase.
	Dir         string
	ResultsBase string
	Version     string
	// Progress receives live progress; nil for none. TTY chooses a
	// redrawing progress bar over plain periodic lines.
	Progress io.Writer
	TTY      bool
	// Journal is how often the run record is rewritten while the run goes.
	Journal time.Duration
	// Observer, when set, sees every finished request (tests use it to
	// check the harness against the emulator's ground truth).
	Observer engine.Observer
	// Driver, when set, is used instead of opening the scenario's target;
	// the caller keeps ownership.
	Driver drivers.Driver
}

// Result is what a run produced.
type Result struct {
	Dir string
	Run *results.Run
}

// Run runs cfg's scenario once. When ctx ends early the partial result is
// written and returned together with ctx's error.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	s := cfg.Scenario
	plan, err := scenarios.Compile(s)
	if err != nil {
		return nil, err
	}
	d := cfg.Driver
	if d == nil {
		if d, err = Open(ctx, s); err != nil {
			return nil, err
		}
		defer d.Close()
	}
	opts := []engine.Option{
		engine.WithMaxInFlight(s.MaxInFlight),
		engine.WithSeed(s.Seed),
		engine.WithDetection(Detection(s.Cold)),
	}
	if cfg.Observer != nil {
		opts = append(opts, engine.WithObserver(cfg.Observer))
	}
	eng, err := engine.New(d, plan, opts...)
	if err != nil {
		return nil, err
	}

	dir := cfg.Dir
	if dir == "" {
		base := cfg.ResultsBase
		if base == "" {
			base = "results"
		}
		if dir, err = results.NewDir(base, s.Name, time.Now()); err != nil {
			return nil, err
		}
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("run directory: %w", err)
	}
	if len(s.Source) > 0 {
		if err := os.WriteFile(filepath.Join(dir, results.ScenarioFile), s.Source, 0o644); err != nil {
			return nil, fmt.Errorf("run directory: %w", err)
		}
	}
	meta := results.Meta{
		Scenario:     s.Name,
		ScenarioFile: s.File,
		Target:       Describe(s.Target),
		Driver:       s.Target.Driver,
		Version:      cfg.Version,
		StartedAt:    time.Now().UTC(),
	}
	j, err := results.NewJournal(dir, meta)
	if err != nil {
		return nil, err
	}

	// Journal the record as the run goes, so that even SIGKILL leaves a
	// renderable partial result.
	every := cfg.Journal
	if every <= 0 {
		every = time.Second
	}
	jctx, stopJournal := context.WithCancel(ctx)
	journaled := make(chan error, 1)
	go func() {
		tick := time.NewTicker(every)
		defer tick.Stop()
		var first error
		for {
			select {
			case <-jctx.Done():
				journaled <- first
				return
			case <-tick.C:
				if err := j.Update(eng.Snapshot()); err != nil && first == nil {
					first = err
				}
			}
		}
	}()
	stopProgress := func() {}
	if cfg.Progress != nil {
		stopProgress = showProgress(cfg.Progress, cfg.TTY, eng)
	}

	tally, runErr := eng.Run(ctx)
	stopProgress()
	stopJournal()
	jerr := <-journaled

	meta.FinishedAt = time.Now().UTC()
	meta.Complete = runErr == nil
	if runErr != nil {
		meta.Interrupted = interruption(ctx, runErr)
	}
	if err := j.Finish(tally, meta); err != nil {
		return nil, errors.Join(runErr, err)
	}
	run := results.Summarize(tally, meta)
	if err := results.WriteHistogramLog(dir, tally); err != nil {
		return nil, errors.Join(runErr, err)
	}
	if err := report.WriteFiles(dir, run); err != nil {
		return nil, errors.Join(runErr, err)
	}
	if jerr != nil {
		// The final record is on disk; a failed intermediate write only
		// weakened the crash guarantee, so warn instead of failing.
		fmt.Fprintf(os.Stderr, "warning: journaling %s: %v\n", filepath.Join(dir, results.RunFile), jerr)
	}
	return &Result{Dir: dir, Run: run}, runErr
}

// Open opens the scenario's target, with the scenario's cold: headers
// applied to drivers that read them.
func Open(ctx context.Context, s *scenarios.Scenario) (drivers.Driver, error) {
	if hs, ok := s.Target.Config.(drivers.ColdHeaderSetter); ok {
		hs.SetColdHeaders(s.Cold.Headers, s.Cold.InstanceHeader)
	}
	d, err := drivers.Open(ctx, s.Target.Driver, s.Target.Config)
	if err != nil {
		return nil, fmt.Errorf("target: %w", err)
	}
	return d, nil
}

// Detection maps a scenario's cold: block to the engine's signals.
func Detection(c scenarios.Cold) engine.Detection {
	return engine.Detection{
		Platform: !c.IgnorePlatform,
		Header:   true,
		Instance: !c.IgnorePlatform,
		Infer:    c.InferEnabled(),
	}
}

// Describe says what a target is, for people.
func Describe(t scenarios.Target) string {
	if s, ok := t.Config.(fmt.Stringer); ok {
		return t.Driver + " " + s.String()
	}
	return t.Driver
}

func interruption(ctx context.Context, err error) string {
	if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) {
		return cause.Error()
	}
	return err.Error()
}
