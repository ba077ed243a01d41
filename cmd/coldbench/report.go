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
	format := fs.String("format", "text", "text, json, md, html, hgrm, csv, or vegeta for a run made with --requests (a tuning run or a capacity plan: text, json, md or html)")
	write := fs.Bool("write", false, "also rewrite the directory's report.md, report.html and charts from its record")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		fs.Usage()
		return usagef("want one run, tuning run or plan directory")
	}
	dir := pos[0]
	if fi, err := os.Stat(dir); err == nil && !fi.IsDir() {
		dir = filepath.Dir(dir) // given run.json, tune.json or plan.json itself
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
	switch {
	case holds(pos[0], results.TuneFile):
		t, err := results.LoadTune(pos[0])
		if err != nil {
			return usageError{err}
		}
		return reportStudy(studyReport{
			what: "a tuning run", rec: t,
			write: func() error { return report.WriteTuneFiles(dir, t) },
			text:  func(w io.Writer) error { return report.TuneText(w, t) },
			page:  func() (report.Page, error) { return report.TunePage(dir, t) },
		}, *format, *write, out)
	case holds(pos[0], results.CapacityFile):
		p, err := results.LoadCapacity(pos[0])
		if err != nil {
			return usageError{err}
		}
		return reportStudy(studyReport{
			what: "a capacity plan", rec: p,
			write: func() error { return report.WriteCapacityFiles(dir, p) },
			text:  func(w io.Writer) error { return report.CapacityText(w, p) },
			page:  func() (report.Page, error) { return report.CapacityPage(dir, p) },
		}, *format, *write, out)
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

// holds reports whether path is a study's record file (tune.json,
// plan.json) or a directory holding one.
func holds(path, file string) bool {
	if filepath.Base(path) == file {
		return true
	}
	if fi, err := os.Stat(path); err == nil && !fi.IsDir() {
		return false // another record file: run.json
	}
	_, err := os.Stat(filepath.Join(path, file))
	return err == nil || !errors.Is(err, fs.ErrNotExist)
}

// studyReport is a tuning run's or a capacity plan's record, with its
// renderings.
type studyReport struct {
	what  string // "a tuning run", for errors
	rec   any    // the record, for json
	write func() error
	text  func(io.Writer) error
	page  func() (report.Page, error)
}

// reportStudy renders a tuning run's or a capacity plan's record.
func reportStudy(st studyReport, format string, write bool, out io.Writer) error {
	if write {
		if err := st.write(); err != nil {
			return err
		}
	}
	switch format {
	case "text":
		return st.text(out)
	case "json":
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(st.rec)
	case "md", "markdown", "html":
		p, err := st.page()
		if err != nil {
			return err
		}
		if format == "html" {
			return report.WriteHTML(out, p)
		}
		return report.WriteMarkdown(out, p)
	}
	return usagef("--format %q: %s renders as text, json, md or html", format, st.what)
}
