package runner

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/coldbench/coldbench/internal/threshold"
	"github.com/coldbench/coldbench/results"
	"github.com/coldbench/coldbench/scenarios"
)

// ThresholdAbort is the error of a run that abort_on_fail stopped: a
// threshold failed on the live results. Its partial record is on disk.
type ThresholdAbort struct {
	Failed []results.ThresholdVerdict
}

func (e *ThresholdAbort) Error() string {
	names := make([]string, len(e.Failed))
	for i, v := range e.Failed {
		names[i] = v.Threshold
	}
	return "threshold failed during the run: " + strings.Join(names, "; ")
}

// judge watches a run's thresholds: live, on each merged snapshot the
// journal takes, when the scenario asks to abort on failure; and once over
// the final tally.
type judge struct {
	s      *scenarios.Scenario
	live   *threshold.Live // nil without abort_on_fail
	start  time.Time
	cancel context.CancelCauseFunc

	mu     sync.Mutex
	failed []results.ThresholdVerdict // what stopped the run
}

// newJudge returns a judge for s, and the context the run should wait on:
// a failure seen live cancels it with a *ThresholdAbort.
func newJudge(ctx context.Context, s *scenarios.Scenario, start time.Time) (*judge, context.Context, context.CancelFunc) {
	j := &judge{s: s, start: start}
	if a := s.AbortOnFail; a != nil && a.Enabled && len(s.Thresholds) > 0 {
		j.live = &threshold.Live{Thresholds: s.Thresholds, Abort: *a}
	}
	runCtx, cancel := context.WithCancelCause(ctx)
	j.cancel = cancel
	return j, runCtx, func() { cancel(nil) }
}

// snapshot judges a live snapshot; the first sure failure stops the run.
func (j *judge) snapshot(t *results.Tally, meta results.Meta) {
	if j.live == nil {
		return
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.failed != nil {
		return
	}
	now := time.Now()
	meta.FinishedAt = now
	failed := j.live.Failed(results.Summarize(t, meta), now.Sub(j.start))
	if len(failed) > 0 {
		j.failed = failed
		j.cancel(&ThresholdAbort{Failed: failed})
	}
}

// final judges the finished (or stopped) run. A threshold that stopped the
// run stays failed, with the note of when, whatever the last numbers say.
func (j *judge) final(t *results.Tally, meta results.Meta) []results.ThresholdVerdict {
	if len(j.s.Thresholds) == 0 {
		return nil
	}
	vs := threshold.Evaluate(j.s.Thresholds, results.Summarize(t, meta))
	j.mu.Lock()
	defer j.mu.Unlock()
	for _, f := range j.failed {
		for i := range vs {
			if vs[i].Threshold == f.Threshold {
				vs[i].Status = results.ThresholdFail
				vs[i].Note = f.Note
				if vs[i].Samples == 0 {
					vs[i].Value, vs[i].Samples = f.Value, f.Samples
				}
			}
		}
	}
	return vs
}
