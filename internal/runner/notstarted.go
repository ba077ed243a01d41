package runner

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/coldbench/coldbench/report"
	"github.com/coldbench/coldbench/results"
)

// runDir makes the run directory cfg asks for: cfg.Dir, or a new
// results/<timestamp>-<name>/ under cfg.ResultsBase. It writes the scenario
// source beside the record, so that the run can be reproduced.
func runDir(cfg Config, now time.Time) (string, error) {
	s := cfg.Scenario
	dir := cfg.Dir
	if dir == "" {
		base := cfg.ResultsBase
		if base == "" {
			base = "results"
		}
		var err error
		if dir, err = results.NewDir(base, s.Name, now); err != nil {
			return "", err
		}
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("run directory: %w", err)
	}
	if len(s.Source) > 0 {
		if err := os.WriteFile(filepath.Join(dir, results.ScenarioFile), s.Source, 0o644); err != nil {
			return "", fmt.Errorf("run directory: %w", err)
		}
	}
	return dir, nil
}

// notStarted records a run that could not start (its target could not be
// opened, an agent could not be reached or refused): a run directory whose
// run.json says complete: false, with the reason in interrupted and no
// requests. CI jobs archive the run directory whatever the outcome, so the
// reason belongs there too, not only on stderr. It returns the result with
// startErr, for exit 3; if even the directory cannot be written, it returns
// no result and both errors.
func notStarted(cfg Config, startErr error) (*Result, error) {
	s := cfg.Scenario
	now := time.Now().UTC()
	dir, err := runDir(cfg, now)
	if err != nil {
		return nil, errors.Join(startErr, err)
	}
	meta := results.Meta{
		Scenario:     s.Name,
		ScenarioFile: s.File,
		Target:       Describe(s.Target),
		Driver:       s.Target.Driver,
		Version:      cfg.Version,
		StartedAt:    now,
	}
	j, err := results.NewJournal(dir, meta)
	if err != nil {
		return nil, errors.Join(startErr, err)
	}
	meta.FinishedAt = time.Now().UTC()
	meta.Interrupted = "could not start: " + startErr.Error()
	empty := &results.Tally{}
	if err := j.Finish(empty, meta); err != nil {
		return nil, errors.Join(startErr, err)
	}
	run := results.Summarize(empty, meta)
	if err := report.WriteFiles(dir, run); err != nil {
		return nil, errors.Join(startErr, err)
	}
	return &Result{Dir: dir, Run: run}, startErr
}
