package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/coldbench/coldbench/report"
	"github.com/coldbench/coldbench/results"
)

func reportCommand(ctx context.Context, args []string, out io.Writer) error {
	fs := newFlags("report", "DIR", out)
	format := fs.String("format", "text", "text, json, md, html, hgrm, csv, or vegeta for a run made with --requests (a tuning run: text, json, md or html)")
	write := fs.Bool("write", false, "also rewrite the directory's report.md, report.html and charts from its record")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		fs.Usage()
		return usagef("want one run or tuning run directory")
	}
	dir := pos[0]
	if fi, err := os.Stat(dir); err == nil && !fi.IsDir() {
		dir = filepath.Dir(dir) // given run.json or tune.json itself
	}
	if *format == "vegeta" {
		if err := report.VegetaResults(out, dir); err != nil {
			if errors.Is(err, report.ErrNoRequests) {
				return usageError{fmt.Errorf("--format vegeta: %w", err)}
			}
			return err
		}
		return nil
	}
	if isTuneDir(pos[0]) {
		return reportTune(dir, pos[0], *format, *write, out)
	}
	r, err := results.Load(pos[0])
	if err != nil {
		return usageError{err}
	}
	if *write {
		if err := report.WriteFiles(dir, r); err != nil {
			return err
		}
	}
	if *format == "html" {
		// The page shows the scenario kept in the run directory too.
		p, err := report.RunPage(dir, r)
		if err != nil {
			return err
		}
		return report.WriteHTML(out, p)
	}
	if err := report.Render(out, r, *format); err != nil {
		return usageError{err}
	}
	return nil
}

// isTuneDir reports whether path is a tuning run: tune.json itself, or a
// directory holding one.
func isTuneDir(path string) bool {
	if filepath.Base(path) == results.TuneFile {
		return true
	}
	_, err := os.Stat(filepath.Join(path, results.TuneFile))
	return err == nil || !errors.Is(err, fs.ErrNotExist)
}

// reportTune renders a tuning run's record (tune.json) in dir.
func reportTune(dir, path, format string, write bool, out io.Writer) error {
	t, err := results.LoadTune(path)
	if err != nil {
		return usageError{err}
	}
	if write {
		if err := report.WriteTuneFiles(dir, t); err != nil {
			return err
		}
	}
	switch format {
	case "text":
		return report.TuneText(out, t)
	case "json":
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(t)
	case "md", "markdown", "html":
		p, err := report.TunePage(dir, t)
		if err != nil {
			return err
		}
		if format == "html" {
			return report.WriteHTML(out, p)
		}
		return report.WriteMarkdown(out, p)
	}
	return usagef("--format %q: a tuning run renders as text, json, md or html", format)
}
