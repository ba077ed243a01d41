package report

import "github.com/coldbench/coldbench/results"

// Files renders a study's reports into its directory: what the run, tune
// and plan commands hand to internal/runner, internal/tune and
// internal/capacity, which do not import this package.
type Files struct{}

// Run writes a run's reports (WriteFiles).
func (Files) Run(dir string, r *results.Run) error { return WriteFiles(dir, r) }

// Tune writes a tuning run's reports (WriteTuneFiles).
func (Files) Tune(dir string, t *results.Tune) error { return WriteTuneFiles(dir, t) }

// Capacity writes a capacity plan's reports (WriteCapacityFiles).
func (Files) Capacity(dir string, p *results.Capacity) error { return WriteCapacityFiles(dir, p) }
