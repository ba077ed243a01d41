package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/coldbench/coldbench/scenarios"
)

// validateCommand checks each scenario and prints every error it finds.
func validateCommand(ctx context.Context, args []string, out io.Writer) error {
	fs := newFlags("validate", "SCENARIO...", out)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		fs.Usage()
		return usagef("want at least one scenario")
	}
	var bad []error
	for _, name := range pos {
		s, err := scenarios.Load(name)
		if err != nil {
			fmt.Fprintln(out, err)
			bad = append(bad, err)
			continue
		}
		if _, err := scenarios.Compile(s); err != nil {
			fmt.Fprintln(out, err)
			bad = append(bad, err)
			continue
		}
		fmt.Fprintf(out, "%s: ok (%s, %d phases)\n", name, s.Name, len(s.Phases))
	}
	if len(bad) > 0 {
		return usageError{fmt.Errorf("%d of %d scenarios invalid: %w", len(bad), len(pos), errors.Join(bad...))}
	}
	return nil
}
