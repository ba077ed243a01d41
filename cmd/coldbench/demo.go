package main

import (
	"context"
	"io"

	"github.com/coldbench/coldbench/scenarios"
)

// DemoScenario is the built-in scenario `coldbench demo` tunes.
const DemoScenario = "tune-demo"

// demoCommand runs the built-in tuning demo against the in-process
// emulator: 4 memory sizes × 3 prewarm levels, cold and warm samples and a
// short replay at each, then the recommendation and the path of
// report.html. No flags are needed and no configuration is read.
func demoCommand(ctx context.Context, args []string, out io.Writer) error {
	fs := newFlags("demo", "", out)
	dir := fs.String("out", "", "tuning run directory (default results/<UTC time>-"+DemoScenario+"/)")
	quiet := fs.Bool("quiet", false, "no progress lines")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	s, err := scenarios.Load(DemoScenario)
	if err != nil {
		return err
	}
	return tuneScenario(ctx, s, *dir, *quiet, out)
}
