package main

import (
	"context"
	"io"

	"github.com/coldbench/coldbench/scenarios"
)

// demoCommand runs the built-in demo scenario against the in-process
// emulator: no flags, no configuration.
func demoCommand(ctx context.Context, args []string, out io.Writer) error {
	fs := newFlags("demo", "", out)
	dir := fs.String("out", "", "run directory (default results/<UTC time>-demo/)")
	quiet := fs.Bool("quiet", false, "no live progress")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	s, err := scenarios.Load("demo")
	if err != nil {
		return err
	}
	return runScenario(ctx, s, *dir, *quiet, out)
}
