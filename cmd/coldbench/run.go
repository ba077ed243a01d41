package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"golang.org/x/term"

	"github.com/coldbench/coldbench/internal/runner"
	"github.com/coldbench/coldbench/report"
	"github.com/coldbench/coldbench/scenarios"
)

func runCommand(ctx context.Context, args []string, out io.Writer) error {
	fs := newFlags("run", "SCENARIO", out)
	outDir := fs.String("out", "", "run directory (default results/<UTC time>-<scenario>/)")
	target := fs.String("target", "", "override the scenario's target with this URL")
	quiet := fs.Bool("quiet", false, "no live progress")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		fs.Usage()
		return usagef("want one scenario (a file or a built-in name), got %d arguments", len(pos))
	}
	s, err := loadScenario(pos[0], *target)
	if err != nil {
		return err
	}
	return runScenario(ctx, s, *outDir, *quiet, out)
}

// loadScenario loads a file or built-in scenario and applies --target.
func loadScenario(name, target string) (*scenarios.Scenario, error) {
	s, err := scenarios.Load(name)
	if err != nil {
		return nil, err
	}
	if target != "" {
		if err := scenarios.SetTarget(s, target); err != nil {
			return nil, usagef("--target: %v", err)
		}
	}
	return s, nil
}

// runScenario runs s, prints the summary table and says where the run is.
func runScenario(ctx context.Context, s *scenarios.Scenario, dir string, quiet bool, out io.Writer) error {
	cfg := runner.Config{Scenario: s, Dir: dir, Version: version}
	if !quiet {
		cfg.Progress, cfg.TTY = os.Stderr, term.IsTerminal(int(os.Stderr.Fd()))
	}
	res, err := runner.Run(ctx, cfg)
	if res == nil {
		return err
	}
	if rerr := report.Text(out, res.Run); rerr != nil {
		return errors.Join(err, rerr)
	}
	fmt.Fprintf(out, "\nrun directory: %s\nreport:        %s\n", res.Dir, filepath.Join(res.Dir, "report.md"))
	if err != nil {
		return incompleteError{fmt.Errorf("run stopped early (%v); partial results in %s", err, res.Dir)}
	}
	return nil
}
