package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/coldbench/coldbench/internal/runner"
	"github.com/coldbench/coldbench/report"
	"github.com/coldbench/coldbench/results"
)

// keepRequests makes a local run keep every request in vegeta's results
// format (report.VegetaFile) in its run directory, which it makes now when
// cfg names none. The returned close flushes the file; its error says
// whether every request was written.
func keepRequests(cfg *runner.Config) (close func() error, err error) {
	if len(cfg.Agents) > 0 {
		return nil, usagef("--requests: per-request records are kept for local runs only; a run on agents keeps histograms")
	}
	if cfg.Dir == "" {
		if cfg.Dir, err = results.NewDir("results", cfg.Scenario.Name, time.Now()); err != nil {
			return nil, err
		}
	} else if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("run directory: %w", err)
	}
	f, err := os.Create(filepath.Join(cfg.Dir, report.VegetaFile))
	if err != nil {
		return nil, err
	}
	l := report.NewVegetaLog(f)
	cfg.Observer = l.Add
	return func() error { return errors.Join(l.Close(), f.Close()) }, nil
}
