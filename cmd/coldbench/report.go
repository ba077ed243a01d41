package main

import (
	"context"
	"io"

	"github.com/coldbench/coldbench/report"
	"github.com/coldbench/coldbench/results"
)

func reportCommand(ctx context.Context, args []string, out io.Writer) error {
	fs := newFlags("report", "RUN_DIR", out)
	format := fs.String("format", "text", "text, json, md, hgrm or csv")
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
	if err := report.Render(out, r, *format); err != nil {
		return usageError{err}
	}
	return nil
}
