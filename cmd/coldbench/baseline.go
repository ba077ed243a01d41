package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/coldbench/coldbench/internal/baseline"
	"github.com/coldbench/coldbench/report"
)

const baselineUsage = "set RUN_DIR NAME | list | show NAME | rm NAME"

// baselineCommand manages the named baselines in the baseline directory.
func baselineCommand(ctx context.Context, args []string, out io.Writer) error {
	fs := newFlags("baseline", baselineUsage, out)
	dirFlag := fs.String("baselines", "", "baseline directory (default $"+baseline.EnvDir+", else "+baseline.DefaultDir+")")
	force := fs.Bool("force", false, "set: accept an incomplete run")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	dir := baseline.Dir(*dirFlag)
	want := func(n int) error {
		if len(pos) != n+1 {
			fs.Usage()
			return usagef("baseline %s: want %d arguments, got %d", pos[0], n, len(pos)-1)
		}
		return nil
	}
	if len(pos) == 0 {
		fs.Usage()
		return usagef("want a subcommand: %s", baselineUsage)
	}
	switch pos[0] {
	case "set":
		if err := want(2); err != nil {
			return err
		}
		info, err := baseline.Set(dir, pos[2], pos[1], *force)
		if err != nil {
			return usageError{err}
		}
		fmt.Fprintf(out, "baseline %s: %s (%s, %d requests) in %s\n", info.Name, info.Source, info.Scenario, info.Requests, dir)
	case "list":
		if err := want(0); err != nil {
			return err
		}
		infos, err := baseline.List(dir)
		if err != nil {
			return err
		}
		if len(infos) == 0 {
			fmt.Fprintf(out, "no baselines in %s\n", dir)
			return nil
		}
		tw := tabwriter.NewWriter(out, 0, 8, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tSCENARIO\tRUN STARTED\tREQUESTS\tSET\tFROM")
		for _, i := range infos {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\n", i.Name, i.Scenario, i.StartedAt.Format("2006-01-02 15:04:05Z"),
				i.Requests, i.SetAt.Format("2006-01-02 15:04:05Z"), i.Source)
		}
		return tw.Flush()
	case "show":
		if err := want(1); err != nil {
			return err
		}
		r, info, err := baseline.Get(dir, pos[1])
		if err != nil {
			return usageError{err}
		}
		fmt.Fprintf(out, "baseline %s, set %s from %s\n\n", info.Name, info.SetAt.Format("2006-01-02 15:04:05Z"), info.Source)
		return report.Text(out, r)
	case "rm":
		if err := want(1); err != nil {
			return err
		}
		if err := baseline.Remove(dir, pos[1]); err != nil {
			return usageError{err}
		}
		fmt.Fprintf(out, "removed baseline %s from %s\n", pos[1], dir)
	default:
		fs.Usage()
		return usagef("unknown baseline subcommand %q: want %s", pos[0], baselineUsage)
	}
	return nil
}
