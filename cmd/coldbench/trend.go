package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/coldbench/coldbench/compare"
	"github.com/coldbench/coldbench/internal/baseline"
	"github.com/coldbench/coldbench/internal/trend"
	"github.com/coldbench/coldbench/report"
	"github.com/coldbench/coldbench/results"
)

// trendFormats are what trend renders.
var trendFormats = []string{"md", "html", "json"}

// trendCommand renders the runs given (directories, a glob, or a directory
// of run directories) in time order.
func trendCommand(ctx context.Context, args []string, out io.Writer) error {
	fs := newFlags("trend", "RUN_DIR... | 'GLOB' | DIR_OF_RUNS", out)
	format := fs.String("format", "md", "md, html or json on standard output")
	outDir := fs.String("out", "", "write report.html (self-contained), report.md with its charts, and trend.json into this directory instead")
	dir := fs.String("baselines", "", "baseline directory whose baselines are marked (default $"+baseline.EnvDir+", else "+baseline.DefaultDir+")")
	o := compare.DefaultOptions()
	fs.Func("min-effect", "smallest relative change that counts, such as 20% (default 20%)", share(&o.MinEffect))
	fs.Func("gate", "metrics whose worse verdict marks a run (default warm.p50,cold.p50,errors.rate)", func(v string) error {
		g, err := compare.ParseGate(v)
		if err == nil {
			o.Gate = g
		}
		return err
	})
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		fs.Usage()
		return usagef("want run directories, a glob or a directory of runs")
	}
	dirs, err := trend.Dirs(pos)
	if err != nil {
		return usageError{err}
	}
	bases, err := baseline.List(baseline.Dir(*dir))
	if err != nil {
		return err
	}
	t, err := trend.Build(dirs, bases, o)
	if err != nil {
		return usageError{err}
	}
	js := func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(t)
	}
	if *format == "json" && *outDir == "" {
		return js(out)
	}
	p, err := report.TrendPage(t)
	if err != nil {
		return err
	}
	if *outDir != "" {
		// report.html (self-contained), report.md with the charts beside
		// it, and the numbers as trend.json.
		if err := os.MkdirAll(*outDir, 0o755); err != nil {
			return err
		}
		if err := report.WritePage(*outDir, p); err != nil {
			return err
		}
		var b bytes.Buffer
		if err := js(&b); err != nil {
			return err
		}
		if err := results.WriteFileAtomic(filepath.Join(*outDir, trendJSON), b.Bytes()); err != nil {
			return err
		}
		fmt.Fprintf(out, "trend of %d runs: %s\n", len(t.Points), filepath.Join(*outDir, report.HTMLFile))
		return nil
	}
	switch *format {
	case "html":
		return report.WriteHTML(out, p)
	case "md":
		p.Charts = nil // no chart files beside standard output to link to
		return report.WriteMarkdown(out, p)
	}
	return usagef("--format %q: want md, html or json", *format)
}

// trendJSON is the numbers of a trend written with --out.
const trendJSON = "trend.json"
