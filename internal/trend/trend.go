// Package trend lines up the runs of a scheduled benchmark in time order:
// the gated metrics of each, whether compare calls it worse than the run
// before it, and the baselines that were set from it.
package trend

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/coldbench/coldbench/compare"
	"github.com/coldbench/coldbench/internal/baseline"
	"github.com/coldbench/coldbench/results"
)

// Point is one run of the history.
type Point struct {
	Dir       string    `json:"dir"`
	Scenario  string    `json:"scenario"`
	Version   string    `json:"coldbench_version"`
	StartedAt time.Time `json:"started_at"`
	Complete  bool      `json:"complete"`
	Requests  int64     `json:"requests"`
	// Latencies of successful requests, ms, from the intended send time;
	// nil when the run had no such requests (a run with no cold start has
	// no cold p50).
	WarmP50 *float64 `json:"warm_p50_ms"`
	WarmP99 *float64 `json:"warm_p99_ms"`
	ColdP50 *float64 `json:"cold_p50_ms"`
	ColdP99 *float64 `json:"cold_p99_ms"`
	// ColdRate and ErrorRate are fractions; RateAchieved is requests per
	// second.
	ColdRate     float64 `json:"cold_rate"`
	ErrorRate    float64 `json:"error_rate"`
	RateAchieved float64 `json:"rate_achieved"`
	// VsPrevious is compare's overall verdict against the run before
	// (empty for the first); Worse names the gated metrics it calls worse.
	VsPrevious compare.Verdict `json:"vs_previous,omitempty"`
	Worse      []string        `json:"worse,omitempty"`
	// Baselines are the names of the baselines set from this run.
	Baselines []string `json:"baselines,omitempty"`
}

// Regressed reports whether compare would have failed this run against
// the one before it.
func (p *Point) Regressed() bool { return p.VsPrevious == compare.Worse }

// Trend is the history, oldest run first.
type Trend struct {
	Points  []Point         `json:"runs"`
	Options compare.Options `json:"compare_options"`
}

// Dirs expands the command line's arguments into run directories: a glob
// pattern is expanded, a run directory is taken as is, and a directory
// holding run directories (a nightly job's results/) stands for them.
func Dirs(args []string) ([]string, error) {
	var out []string
	for _, a := range args {
		matches := []string{a}
		if strings.ContainsAny(a, "*?[") {
			m, err := filepath.Glob(a)
			if err != nil {
				return nil, fmt.Errorf("pattern %q: %w", a, err)
			}
			if len(m) == 0 {
				return nil, fmt.Errorf("pattern %q matches nothing", a)
			}
			matches = m
		}
		for _, m := range matches {
			if isRun(m) {
				out = append(out, m)
				continue
			}
			ents, err := os.ReadDir(m)
			if err != nil {
				return nil, fmt.Errorf("%s: not a run directory: %w", m, err)
			}
			n := len(out)
			for _, e := range ents {
				if sub := filepath.Join(m, e.Name()); e.IsDir() && isRun(sub) {
					out = append(out, sub)
				}
			}
			if len(out) == n && len(matches) == 1 {
				return nil, fmt.Errorf("%s: neither a run directory (no %s) nor a directory of them", m, results.RunFile)
			}
		}
	}
	return out, nil
}

func isRun(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, results.RunFile))
	return err == nil || !errors.Is(err, fs.ErrNotExist)
}

// Build loads the runs in dirs, puts them in time order (by start), and
// compares each with the one before it. Baselines whose record matches a
// run (same scenario and start) are named on it.
func Build(dirs []string, bases []baseline.Info, opts compare.Options) (*Trend, error) {
	type loaded struct {
		dir string
		run *results.Run
	}
	var runs []loaded
	for _, d := range dirs {
		r, err := results.Load(d)
		if err != nil {
			return nil, err
		}
		runs = append(runs, loaded{d, r})
	}
	if len(runs) == 0 {
		return nil, errors.New("no runs")
	}
	slices.SortStableFunc(runs, func(a, b loaded) int { return a.run.StartedAt.Compare(b.run.StartedAt) })
	t := &Trend{Options: opts}
	for i, l := range runs {
		r := l.run
		p := Point{
			Dir: l.dir, Scenario: r.Scenario, Version: r.ColdbenchVersion, StartedAt: r.StartedAt,
			Complete: r.Complete, Requests: r.Totals.Requests,
			WarmP50: ms(r.Totals.Warm, r.Totals.Warm.P50Ms), WarmP99: ms(r.Totals.Warm, r.Totals.Warm.P99Ms),
			ColdP50: ms(r.Totals.Cold, r.Totals.Cold.P50Ms), ColdP99: ms(r.Totals.Cold, r.Totals.Cold.P99Ms),
			ColdRate: r.Totals.ColdRate, ErrorRate: r.Totals.ErrorRate, RateAchieved: r.Totals.RateAchieved,
		}
		for _, b := range bases {
			if b.Scenario == r.Scenario && b.StartedAt.Equal(r.StartedAt) {
				p.Baselines = append(p.Baselines, b.Name)
			}
		}
		if i > 0 {
			res, err := compare.Runs(runs[i-1].run, r, opts)
			if err != nil {
				return nil, fmt.Errorf("compare %s with %s: %w", l.dir, runs[i-1].dir, err)
			}
			p.VsPrevious = res.Verdict
			for _, c := range res.Gated() {
				if c.Verdict == compare.Worse {
					p.Worse = append(p.Worse, c.Name())
				}
			}
		}
		t.Points = append(t.Points, p)
	}
	return t, nil
}

// ms is v when p holds samples, else nil.
func ms(p results.Percentiles, v float64) *float64 {
	if p.Count == 0 {
		return nil
	}
	return &v
}
