package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/coldbench/coldbench/scenarios"
)

func scenariosCommand(ctx context.Context, args []string, out io.Writer) error {
	fs := newFlags("scenarios", "", out)
	if _, err := parse(fs, args); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tDESCRIPTION")
	for _, b := range scenarios.Builtins() {
		fmt.Fprintf(tw, "%s\t%s\n", b.Name, b.Description)
	}
	return tw.Flush()
}
