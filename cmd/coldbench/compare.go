package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"

	"github.com/coldbench/coldbench/compare"
	"github.com/coldbench/coldbench/internal/baseline"
	"github.com/coldbench/coldbench/report"
	"github.com/coldbench/coldbench/results"
	"github.com/coldbench/coldbench/scenarios"
)

// compareCommand compares NEW against BASE (a run directory) or against a
// named baseline, prints the table and writes the requested files.
func compareCommand(ctx context.Context, args []string, out io.Writer) error {
	fs := newFlags("compare", "BASE_RUN NEW_RUN | --baseline NAME NEW_RUN", out)
	name := fs.String("baseline", "", "compare against this named baseline (see `coldbench baseline`)")
	dir := fs.String("baselines", "", "baseline directory (default $"+baseline.EnvDir+", else "+baseline.DefaultDir+")")
	o := compare.DefaultOptions()
	fs.Func("min-effect", "smallest relative change that counts, such as 20% (default 20%)", share(&o.MinEffect))
	fs.Float64Var(&o.MinEffectMs, "min-effect-ms", o.MinEffectMs, "smallest latency change that counts, ms")
	fs.Func("min-rate-effect", "smallest change of a cold-start or error rate that counts, in points: 1% (default 1%)", share(&o.MinRateEffect))
	fs.Func("confidence", "two-sided confidence of the intervals (default 95%)", share(&o.Confidence))
	fs.IntVar(&o.Resamples, "resamples", o.Resamples, "bootstrap resamples per percentile")
	fs.Uint64Var(&o.Seed, "seed", o.Seed, "bootstrap seed")
	fs.Func("gate", "metrics whose worse verdict fails (default warm.p50,cold.p50,errors.rate; PHASE:metric for one phase)", func(v string) error {
		g, err := compare.ParseGate(v)
		if err == nil {
			o.Gate = g
		}
		return err
	})
	md := fs.String("markdown", "", "also write the comparison as GitHub Markdown to this file")
	js := fs.String("json", "", "also write the comparison as JSON to this file")
	junit := fs.String("junit", "", "also write JUnit XML (one test case per gated metric) to this file")
	quiet := fs.Bool("quiet", false, "no table on standard output")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}

	var base, cur *results.Run
	var baseLabel string
	switch {
	case *name != "" && len(pos) == 1:
		r, _, err := baseline.Get(baseline.Dir(*dir), *name)
		if err != nil {
			return usageError{err}
		}
		base, baseLabel = r, "baseline "+*name
	case *name == "" && len(pos) == 2:
		if base, err = results.Load(pos[0]); err != nil {
			return usageError{err}
		}
		baseLabel = pos[0]
		pos = pos[1:]
	default:
		fs.Usage()
		return usagef("want BASE_RUN NEW_RUN, or --baseline NAME NEW_RUN")
	}
	if cur, err = results.Load(pos[0]); err != nil {
		return usageError{err}
	}
	res, err := compare.Runs(base, cur, o)
	if err != nil {
		return usageError{err}
	}
	res.Base, res.New = baseLabel, pos[0]

	for _, f := range []struct {
		path   string
		render func(io.Writer, *compare.Result) error
	}{{*md, report.CompareMarkdown}, {*js, report.CompareJSON}, {*junit, report.CompareJUnit}} {
		if f.path == "" {
			continue
		}
		var b bytes.Buffer
		if err := f.render(&b, res); err != nil {
			return err
		}
		if err := os.WriteFile(f.path, b.Bytes(), 0o644); err != nil {
			return fmt.Errorf("write %s: %w", f.path, err)
		}
	}
	if !*quiet {
		if err := report.CompareText(out, res); err != nil {
			return err
		}
	}
	if res.Regressed() {
		return gateError{fmt.Errorf("regression against %s: a gated metric is worse", baseLabel)}
	}
	return nil
}

// share is a flag that takes a percentage ("15%") or a fraction (0.15).
func share(dst *float64) func(string) error {
	return func(v string) error {
		p, err := scenarios.ParsePercent(v)
		if err != nil {
			return err
		}
		*dst = float64(p)
		return nil
	}
}
