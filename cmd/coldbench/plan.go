package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/coldbench/coldbench/internal/capacity"
	"github.com/coldbench/coldbench/report"
	"github.com/coldbench/coldbench/scenarios"
)

// planCommand ramps a scenario's target step by step to its break point
// and projects a traffic. Flags override the scenario's capacity: block
// field by field.
func planCommand(ctx context.Context, args []string, out io.Writer) error {
	fs := newFlags("plan", "SCENARIO", out)
	outDir := fs.String("out", "", "plan directory (default results/<UTC time>-<scenario>-plan/)")
	target := fs.String("target", "", "override the scenario's target with this URL")
	quiet := fs.Bool("quiet", false, "no progress lines")
	var o capacity.Override
	fs.Func("start", `the first step's rate: "50/s"`, parsed(scenarios.ParseRate, &o.Start))
	fs.Func("step", `add this rate at each step: "25/s"`, parsed(scenarios.ParseRate, &o.Step))
	fs.Func("factor", "multiply the rate by this at each step: 1.2", floatPtr(&o.Factor))
	fs.Func("max", `the highest rate to try: "2000/s"`, parsed(scenarios.ParseRate, &o.Max))
	fs.Func("settle", `how long each step runs before it is measured: "2s"`, parsed(scenarios.ParseDuration, &o.Settle))
	fs.Func("measure", `how long each step is measured: "8s"`, parsed(scenarios.ParseDuration, &o.Measure))
	fs.Func("slo-p99", `fail a step whose p99 is above this: "250ms"`, parsed(scenarios.ParseDuration, &o.P99))
	fs.Func("max-errors", `fail a step whose error rate is above this: "1%"`, parsed(scenarios.ParsePercent, &o.ErrorRate))
	fs.Func("max-throttled", `fail a step whose throttle rate is above this: "1%"`, parsed(scenarios.ParsePercent, &o.ThrottleRate))
	noConfirm := fs.Bool("no-confirm", false, "stop at the first failing step without running it again")
	fs.Func("knee", `the latency rise over the baseline that marks the knee: "50%"`, parsed(scenarios.ParsePercent, &o.Knee))
	fs.Func("rate", `traffic to project, as a peak rate: "300/s" (the scenario's daily shape applies)`, parsed(scenarios.ParseRate, &o.Rate))
	fs.Func("requests-per-month", "traffic to project, flat", floatPtr(&o.RequestsPerMonth))
	fs.Func("headroom", `instances beyond Little's law at peak: "20%"`, parsed(scenarios.ParsePercent, &o.Headroom))
	fs.Func("prewarm", "prewarmed instances in the projection", intPtr(&o.Prewarm))
	fs.Func("memory", "memory size priced, MB (default: the function's, from the driver)", intPtr(&o.Memory))
	fs.Func("keep-alive", `idle lifetime of an instance for the cold-start model: "10m"`, parsed(scenarios.ParseDuration, &o.KeepAlive))
	fs.StringVar(&o.PricingTable, "pricing", "", "pricing table: aws-lambda-x86_64, aws-lambda-arm64 or cloud-run")
	fs.Func("price", "override one rate of the pricing table, KEY=VALUE (repeatable)", pricesFlag(&o.Prices))
	s, err := scenarioArg(fs, args, target)
	if err != nil {
		return err
	}
	if *noConfirm {
		o.Confirm = new(false)
	}
	if err := o.Apply(s); err != nil {
		return err
	}
	return planScenario(ctx, s, *outDir, *quiet, out)
}

// planScenario runs a capacity plan of s, prints the result, and says
// where the reports are.
func planScenario(ctx context.Context, s *scenarios.Scenario, dir string, quiet bool, out io.Writer) error {
	set, err := capacity.NewSettings(s)
	if err != nil {
		return usageError{err}
	}
	d, err := openControlled(ctx, s) // tune.go
	if err != nil {
		return err
	}
	defer d.Close()
	cfg := capacity.Config{Scenario: s, Settings: set, Driver: d, Dir: dir, Version: version, Render: report.Files{}}
	if !quiet {
		cfg.Progress = os.Stderr
	}
	res, err := capacity.Run(ctx, cfg)
	if res == nil {
		return err
	}
	fmt.Fprintln(out)
	if rerr := report.CapacityText(out, res.Capacity); rerr != nil {
		return errors.Join(err, rerr)
	}
	fmt.Fprintf(out, "plan:    %s\nreport:  %s\n", res.Dir, filepath.Join(res.Dir, report.HTMLFile))
	if err != nil {
		return incompleteError{fmt.Errorf("the ramp stopped early (%v); the steps done are in %s", err, res.Dir)}
	}
	return nil
}
