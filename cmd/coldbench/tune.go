package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/coldbench/coldbench/drivers"
	"github.com/coldbench/coldbench/internal/runner"
	"github.com/coldbench/coldbench/internal/telemetry"
	"github.com/coldbench/coldbench/internal/tune"
	"github.com/coldbench/coldbench/pricing"
	"github.com/coldbench/coldbench/report"
	"github.com/coldbench/coldbench/scenarios"
)

// tuneCommand sweeps a scenario's memory × prewarm settings and recommends
// one. Flags override the scenario's tune: block field by field.
func tuneCommand(ctx context.Context, args []string, out io.Writer) error {
	fs := newFlags("tune", "SCENARIO", out)
	outDir := fs.String("out", "", "tuning run directory (default results/<UTC time>-<scenario>-tune/)")
	target := fs.String("target", "", "override the scenario's target with this URL")
	quiet := fs.Bool("quiet", false, "no progress lines")
	var o tune.Override
	fs.Func("memory", "memory sizes to sweep, MB, comma-separated: 512,1024,1769", intList(&o.Memory))
	fs.Func("prewarm", "prewarm levels to sweep, comma-separated: 0,2,5", intList(&o.Prewarm))
	fs.StringVar(&o.Strategy, "strategy", "", "cost, speed, balanced or slo")
	fs.Func("weight", "balanced: the weight on cost, 0 (all latency) to 1 (all cost)", floatPtr(&o.Weight))
	fs.Func("cold-samples", "cold samples per setting", intPtr(&o.ColdSamples))
	fs.Func("warm-samples", "warm samples per setting", intPtr(&o.WarmSamples))
	fs.Func("requests-per-month", "traffic to project costs for", floatPtr(&o.RequestsPerMonth))
	fs.Func("rate", `traffic to project costs for, as a rate: "20/s"`, parsed(scenarios.ParseRate, &o.Rate))
	fs.StringVar(&o.PricingTable, "pricing", "", "pricing table: aws-lambda-x86_64, aws-lambda-arm64 or cloud-run")
	fs.Func("price", "override one rate of the pricing table, KEY=VALUE (repeatable): gb_second=0.0000166667", pricesFlag(&o.Prices))
	fs.Func("current", "the setting to compare the recommendation with, MEMORY:PREWARM (default: the function's, from the driver)", func(v string) error {
		m, p, ok := strings.Cut(v, ":")
		mi, err1 := strconv.Atoi(m)
		pi, err2 := strconv.Atoi(p)
		if !ok || err1 != nil || err2 != nil {
			return fmt.Errorf("%q: want MEMORY:PREWARM, such as 1024:0", v)
		}
		o.Current = &scenarios.TuneSetting{Memory: mi, Prewarm: pi}
		return nil
	})
	noPhases := fs.Bool("no-phases", false, "only sample cold and warm requests; skip the scenario's phases")
	metrics := addMetricsFlags(fs)
	s, err := scenarioArg(fs, args, target)
	if err != nil {
		return err
	}
	if *noPhases {
		o.Phases = new(false)
	}
	if err := o.Apply(s); err != nil {
		return err
	}
	mx, err := metrics.start(ctx, s, telemetry.NewRunID(s.Name, time.Now()), true)
	if err != nil {
		return err
	}
	var tm tune.Metrics
	if mx != nil {
		tm = mx.e
		defer mx.close(ctx)
	}
	return tuneWithMetrics(ctx, s, *outDir, *quiet, out, tm)
}

// tuneScenario runs a tuning sweep of s, prints the recommendation and the
// settings table, and says where the reports are.
func tuneScenario(ctx context.Context, s *scenarios.Scenario, dir string, quiet bool, out io.Writer) error {
	return tuneWithMetrics(ctx, s, dir, quiet, out, nil)
}

// tuneWithMetrics is tuneScenario exporting metrics as it goes; nil
// metrics exports none.
func tuneWithMetrics(ctx context.Context, s *scenarios.Scenario, dir string, quiet bool, out io.Writer, metrics tune.Metrics) error {
	sweep, err := tune.NewSweep(s)
	if err != nil {
		return usageError{err}
	}
	d, err := openControlled(ctx, s)
	if err != nil {
		return err
	}
	defer d.Close()
	cfg := tune.Config{Scenario: s, Sweep: sweep, Driver: d, Dir: dir, Version: version, Metrics: metrics, Render: report.Files{}}
	if !quiet {
		cfg.Progress = os.Stderr
	}
	res, err := tune.Run(ctx, cfg)
	if res == nil {
		if errors.Is(err, tune.ErrNotConfigurable) {
			return usageError{err}
		}
		return err
	}
	fmt.Fprintln(out)
	if rerr := report.TuneText(out, res.Tune); rerr != nil {
		return errors.Join(err, rerr)
	}
	fmt.Fprintf(out, "\ntuning run:  %s\nreport:      %s\n", res.Dir, filepath.Join(res.Dir, report.HTMLFile))
	if err != nil {
		return incompleteError{fmt.Errorf("tuning stopped early (%v); partial results in %s", err, res.Dir)}
	}
	return nil
}

// openControlled opens s's target for tune and plan, which need its
// control plane: a driver that says it is missing (a Lambda emulator that
// serves only Invoke) is refused before anything is sent, a usage error
// (exit 2) in one sentence; tune and plan would otherwise fail midway, or
// measure settings they never applied. The driver's warnings at open are
// held back until then, so that a refusal is not preceded by a warning
// that says the same.
func openControlled(ctx context.Context, s *scenarios.Scenario) (drivers.Driver, error) {
	var warnings []string
	d, err := runner.Open(drivers.WithWarn(ctx, func(msg string) { warnings = append(warnings, msg) }), s)
	if err != nil {
		return nil, err
	}
	if c, ok := d.(drivers.ControlChecker); ok {
		if err := c.ControlPlane(); err != nil {
			d.Close()
			return nil, usageError{err}
		}
	}
	for _, w := range warnings {
		drivers.Warn(ctx, w)
	}
	return d, nil
}

// intList parses a comma-separated list of integers into *dst.
func intList(dst *[]int) func(string) error {
	return func(v string) error {
		var out []int
		for _, f := range strings.Split(v, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil {
				return fmt.Errorf("%q is not a comma-separated list of integers", v)
			}
			out = append(out, n)
		}
		*dst = out
		return nil
	}
}

// parsed is a flag that sets *dst to what parse makes of its value: a
// scenario rate ("20/s"), duration ("10m") or percentage ("1%").
func parsed[T any](parse func(string) (T, error), dst **T) func(string) error {
	return func(v string) error {
		x, err := parse(v)
		if err == nil {
			*dst = &x
		}
		return err
	}
}

// pricesFlag sets one rate of a pricing table, KEY=VALUE, in *dst.
func pricesFlag(dst *pricing.Overrides) func(string) error {
	return func(v string) error {
		k, val, ok := strings.Cut(v, "=")
		if !ok {
			return fmt.Errorf("%q: want KEY=VALUE", v)
		}
		return dst.Set(strings.TrimSpace(k), strings.TrimSpace(val))
	}
}

func intPtr(dst **int) func(string) error {
	return func(v string) error {
		n, err := strconv.Atoi(v)
		if err != nil {
			return fmt.Errorf("%q is not an integer", v)
		}
		*dst = &n
		return nil
	}
}

func floatPtr(dst **float64) func(string) error {
	return func(v string) error {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return fmt.Errorf("%q is not a number", v)
		}
		*dst = &f
		return nil
	}
}
