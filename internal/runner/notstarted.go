package runner

import (
	"errors"
	"time"

	"github.com/coldbench/coldbench/internal/study"
	"github.com/coldbench/coldbench/results"
)

// notStarted records a run that could not start (its target could not be
// opened, an agent could not be reached or refused): a run directory whose
// run.json says complete: false, with the reason in interrupted and no
// requests. CI jobs archive the run directory whatever the outcome, so the
// reason belongs there too, not only on stderr. It returns the result with
// startErr, for exit 3; if even the directory cannot be written, it returns
// no result and both errors.
func notStarted(cfg Config, startErr error) (*Result, error) {
	dir, meta, j, err := openRecord(cfg, time.Now())
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
	if cfg.Render != nil {
		if err := cfg.Render.Run(dir, run); err != nil {
			return nil, errors.Join(startErr, err)
		}
	}
	return &Result{Dir: dir, Run: run}, startErr
}

// openRecord makes the run directory and starts its journal with the
// run's meta, started at started (in UTC): the start of a run and of one
// that could not start (notStarted) record the same header.
func openRecord(cfg Config, started time.Time) (string, results.Meta, *results.Journal, error) {
	s := cfg.Scenario
	dir, err := study.Dir(study.Run, cfg.Dir, cfg.ResultsBase, s)
	if err != nil {
		return "", results.Meta{}, nil, err
	}
	meta := results.Meta{
		Scenario:     s.Name,
		ScenarioFile: s.File,
		Target:       study.Describe(s.Target),
		Driver:       s.Target.Driver,
		Version:      cfg.Version,
		StartedAt:    started.UTC(),
	}
	j, err := results.NewJournal(dir, meta)
	if err != nil {
		return "", results.Meta{}, nil, err
	}
	return dir, meta, j, nil
}
