// Package runner runs one scenario end to end: it hands the scenario to a
// fleet controller (one in-process agent for a local run, remote agents
// with --agents), journals the run directory as the run goes from the
// controller's merged snapshots, and has the report rendered at the end
// (Config.Render). A run interrupted at any point leaves a readable,
// incomplete-marked record. It prints nothing: progress goes to the writer
// the caller gives.
package runner

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/coldbench/coldbench/drivers"
	"github.com/coldbench/coldbench/internal/engine"
	"github.com/coldbench/coldbench/internal/fleet"
	"github.com/coldbench/coldbench/internal/study"
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
	// the caller keeps ownership. Local runs only.
	Driver drivers.Driver
	// Render writes the reports beside the record at the end; nil writes
	// none.
	Render study.Renderer

	// Agents, when set, runs the scenario on these agents ("host:port" or
	// "dns:///name:port") instead of one agent in this process.
	Agents []string
	// TLS is the controller's mutual-TLS configuration for Agents; nil
	// means plaintext, which only loopback agents may use (--insecure).
	TLS *tls.Config
	// OnAgentLoss overrides the scenario's on_agent_loss when set.
	OnAgentLoss scenarios.AgentLoss
	// Lease is the agents' dead-man lease (default 3 s).
	Lease time.Duration
	// Log receives the controller's structured log; nil for none.
	Log *slog.Logger
	// Metrics, when set, sees the controller's merged view every time the
	// agents' snapshots are merged (about once a second) and once more
	// at the end, for export while the run goes (internal/telemetry).
	Metrics Metrics
	// RunID names the run for the agents' logs and the metrics; empty
	// picks one.
	RunID string
}

// Metrics sees the run's merged tally and the fleet's progress. The tally
// is read-only. At the end Progress.Phase is -1: nothing runs any more.
type Metrics interface {
	Observe(t *results.Tally, p engine.Progress)
}

// Result is what a run produced.
type Result struct {
	Dir string
	Run *results.Run
	// JournalErr is the first failure to rewrite the record while the
	// run went: the final record is on disk, so it weakened only the
	// guarantee that a killed run leaves one, and is a warning.
	JournalErr error
}

// Run runs cfg's scenario once. When ctx ends early the partial result is
// written and returned together with ctx's error.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	s := cfg.Scenario
	// Heap against executable pages, for run.json's host block: sampled
	// on its own goroutine, off the request path.
	mem := results.WatchMemory(0, 50*time.Millisecond)
	defer mem.Stop()
	ctl, closeAgents, err := startFleet(ctx, cfg)
	if err != nil {
		return notStarted(cfg, err) // notstarted.go
	}
	defer closeAgents()
	defer ctl.Close() // stops the agents if we return before the run's end

	dir, meta, j, err := openRecord(cfg, ctl.StartTime())
	if err != nil {
		return nil, err
	}
	// The run waits on runCtx: a threshold that surely fails on a live
	// snapshot (abort_on_fail) cancels it.
	jd, runCtx, stopJudge := newJudge(ctx, s, meta.StartedAt)
	defer stopJudge()

	// Journal the record as the run goes, so that even SIGKILL leaves a
	// renderable partial result: as soon as a snapshot comes in from an
	// agent (every second), and at most once every cfg.Journal.
	every := cfg.Journal
	if every <= 0 {
		every = time.Second
	}
	jctx, stopJournal := context.WithCancel(ctx)
	journaled := make(chan error, 1)
	go func() {
		var first error
		defer func() { journaled <- first }()
		var last time.Time
		for {
			select {
			case <-jctx.Done():
				return
			case <-ctl.Updated():
			}
			if wait := every - time.Since(last); wait > 0 {
				select {
				case <-jctx.Done():
					return
				case <-time.After(wait):
				}
			}
			last = time.Now()
			j.SetFleet(ctl.LiveFleet())
			snap := ctl.Snapshot()
			if cfg.Metrics != nil {
				cfg.Metrics.Observe(snap, ctl.Progress())
			}
			if err := j.Update(snap); err != nil && first == nil {
				first = err
			}
			jd.snapshot(snap, meta)
		}
	}()
	stopProgress := func() {}
	if cfg.Progress != nil {
		stopProgress = showProgress(cfg.Progress, cfg.TTY, ctl)
	}

	tally, runErr := ctl.Wait(runCtx)
	stopProgress()
	stopJournal()
	jerr := <-journaled
	if cfg.Metrics != nil {
		cfg.Metrics.Observe(tally, engine.Progress{Phase: -1, Elapsed: ctl.Progress().Elapsed})
	}

	meta.FinishedAt = time.Now().UTC()
	meta.Host = results.LocalHost()
	meta.Host.Runtime = results.ReadRuntime() // what the run cost this process, before the report is rendered
	meta.Host.Runtime.SetPeaks(mem.Stop())
	meta.Fleet = ctl.Fleet()
	meta.Complete = runErr == nil
	if runErr != nil {
		meta.Interrupted = study.Interruption(ctx, runErr)
	}
	meta.Thresholds = jd.final(tally, meta)
	if err := j.Finish(tally, meta); err != nil {
		return nil, errors.Join(runErr, err)
	}
	run := results.Summarize(tally, meta)
	if err := results.WriteHistogramLog(dir, tally); err != nil {
		return nil, errors.Join(runErr, err)
	}
	if cfg.Render != nil {
		if err := cfg.Render.Run(dir, run); err != nil {
			return nil, errors.Join(runErr, err)
		}
	}
	res := &Result{Dir: dir, Run: run}
	if jerr != nil {
		res.JournalErr = fmt.Errorf("journaling %s: %w", filepath.Join(dir, results.RunFile), jerr)
	}
	return res, runErr
}

// Open opens the scenario's target, with the scenario's cold: headers
// applied to drivers that read them (as every agent does).
func Open(ctx context.Context, s *scenarios.Scenario) (drivers.Driver, error) {
	return fleet.OpenTarget(ctx, s)
}

// Detection maps a scenario's cold: block to the engine's signals.
func Detection(c scenarios.Cold) engine.Detection { return fleet.Detection(c) }
