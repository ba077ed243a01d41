package results

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"time"
)

// Journal keeps a run directory's run.json current while the run goes, so
// that a run killed at any moment leaves a valid, loadable record of what
// it measured up to its last update, marked incomplete.
//
// The engine calls Update with a tally snapshot (say every second) and
// Finish once at the end. A Journal is safe for concurrent use.
type Journal struct {
	dir string
	now func() time.Time // the clock; replaced in tests

	mu       sync.Mutex
	meta     Meta
	finished bool
}

// NewJournal starts a journal in dir, creating dir if needed, and writes an
// initial record with no phases, marked incomplete. Fields of meta that are
// only known at the end (FinishedAt, Complete, Interrupted) are ignored.
func NewJournal(dir string, meta Meta) (*Journal, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("start run journal: %w", err)
	}
	if meta.Host == (Host{}) {
		meta.Host = LocalHost()
	}
	meta.Complete, meta.Interrupted = false, ""
	j := &Journal{dir: dir, now: time.Now, meta: meta}
	if err := j.Update(&Tally{}); err != nil {
		return nil, err
	}
	return j, nil
}

// Update summarizes t as of now and replaces run.json atomically, marked
// incomplete. t is only read, and only during the call; the caller passes a
// snapshot (Tally.Clone) if recording goes on meanwhile.
func (j *Journal) Update(t *Tally) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.finished {
		return errors.New("update run journal: already finished")
	}
	m := j.meta
	m.FinishedAt = j.now()
	return Write(j.dir, Summarize(t, m))
}

// Finish writes the histogram log and the final record. meta says how the
// run ended: set FinishedAt (zero means now) and, for a run stopped early,
// Interrupted; the run is complete unless Interrupted is set. Fields left
// zero (scenario, target, start, host, ...) keep their values from
// NewJournal. Both files are attempted even if one fails. Later calls to
// Update or Finish fail.
func (j *Journal) Finish(t *Tally, meta Meta) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.finished {
		return errors.New("finish run journal: already finished")
	}
	j.finished = true
	m := j.meta
	keep := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	keep(&m.Scenario, meta.Scenario)
	keep(&m.ScenarioFile, meta.ScenarioFile)
	keep(&m.Target, meta.Target)
	keep(&m.Driver, meta.Driver)
	keep(&m.Version, meta.Version)
	if !meta.StartedAt.IsZero() {
		m.StartedAt = meta.StartedAt
	}
	if meta.Host != (Host{}) {
		m.Host = meta.Host
	}
	if !meta.Fleet.empty() {
		m.Fleet = meta.Fleet
	}
	m.FinishedAt = meta.FinishedAt
	if m.FinishedAt.IsZero() {
		m.FinishedAt = j.now()
	}
	m.Interrupted = meta.Interrupted
	m.Thresholds = meta.Thresholds
	m.Complete = m.Interrupted == ""
	j.meta = m
	// The log first: run.json is what marks the run finished, so it is
	// written last, and written even if the log could not be.
	logErr := WriteHistogramLog(j.dir, t)
	return errors.Join(logErr, Write(j.dir, Summarize(t, m)))
}
