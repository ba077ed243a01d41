package main

import (
	"errors"
	"fmt"

	"github.com/coldbench/coldbench/internal/runner"
	"github.com/coldbench/coldbench/results"
)

// gateError marks a failed gate (exit 1): a threshold of the run, or a
// regression found by compare.
type gateError struct{ error }

func (e gateError) Unwrap() error { return e.error }

// runOutcome maps how a run ended to the error the command returns: a
// threshold that stopped the run, or one that failed at the end, is a
// gate failure (exit 1); any other early end is an incomplete run (exit 3).
func runOutcome(res *runner.Result, err error) error {
	var abort *runner.ThresholdAbort
	switch {
	case errors.As(err, &abort):
		return gateError{fmt.Errorf("%v; the run was stopped early (abort_on_fail), partial results in %s", abort, res.Dir)}
	case refusedInvalid(err):
		// Refused before anything was sent: a usage error (exit 2, main),
		// its record on disk.
		return fmt.Errorf("%w; nothing was run, the record is in %s", err, res.Dir)
	case err != nil:
		return incompleteError{fmt.Errorf("run stopped early (%v); partial results in %s", err, res.Dir)}
	case results.ThresholdsFailed(res.Run.Thresholds):
		return gateError{fmt.Errorf("a threshold failed; results in %s", res.Dir)}
	}
	return nil
}
