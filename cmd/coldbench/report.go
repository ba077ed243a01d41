package main

import (
	"context"
	"io"
	"os"
	"path/filepath"

	"github.com/coldbench/coldbench/report"
	"github.com/coldbench/coldbench/results"
)

func reportCommand(ctx context.Context, args []string, out io.Writer) error {
	fs := newFlags("report", "RUN_DIR", out)
	format := fs.String("format", "text", "text, json, md, html, hgrm or csv")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		fs.Usage()
		return usagef("want one run directory")
	}
	r, err := results.Load(pos[0])
	if err != nil {
		return usageError{err}
	}
	if *format == "html" {
		// The page shows the scenario kept in the run directory too.
		dir := pos[0]
		if fi, err := os.Stat(dir); err == nil && !fi.IsDir() {
			dir = filepath.Dir(dir) // given run.json itself
		}
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
