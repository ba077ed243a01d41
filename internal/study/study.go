// Package study lays out what a run, a tuning sweep and a capacity plan
// share: a directory of their own with a copy of the scenario, the header
// their record starts with, why an interrupted one stopped, and the
// reports rendered at the end through a Renderer that the caller (cmd)
// supplies, so that no library imports the report layer.
package study

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/coldbench/coldbench/drivers"
	"github.com/coldbench/coldbench/internal/fleet"
	"github.com/coldbench/coldbench/results"
	"github.com/coldbench/coldbench/scenarios"
)

// Renderer writes a study's reports into its directory beside the record;
// package report's Files is the one coldbench uses.
type Renderer interface {
	Run(dir string, r *results.Run) error
	Tune(dir string, t *results.Tune) error
	Capacity(dir string, p *results.Capacity) error
}

// Kind is what a study is: it names the study's directory and its errors.
type Kind struct {
	label  string // "run directory"
	suffix string // added to the default directory's name unless the scenario's name says it
}

// The kinds of study.
var (
	Run      = Kind{label: "run directory"}
	Tune     = Kind{label: "tuning run directory", suffix: "tune"}
	Capacity = Kind{label: "plan directory", suffix: "plan"}
)

// Dir makes the study's directory, dir when given, else a new
// <UTC time>-<scenario name>[-suffix]/ under base ("results" when empty),
// and copies the scenario's source into it when it has one.
func Dir(k Kind, dir, base string, s *scenarios.Scenario) (string, error) {
	if dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return "", fmt.Errorf("%s: %w", k.label, err)
		}
	} else {
		if base == "" {
			base = "results"
		}
		name := s.Name
		if k.suffix != "" && !strings.Contains(name, k.suffix) {
			name += "-" + k.suffix
		}
		var err error
		if dir, err = results.NewDir(base, name, time.Now()); err != nil {
			return "", err
		}
	}
	if len(s.Source) > 0 {
		if err := os.WriteFile(filepath.Join(dir, results.ScenarioFile), s.Source, 0o644); err != nil {
			return "", fmt.Errorf("%s: %w", k.label, err)
		}
	}
	return dir, nil
}

// Header starts the header of a record of schema for s, begun at start:
// finished then too, until the record is written again.
func Header(schema string, s *scenarios.Scenario, version string, start time.Time) results.Header {
	start = start.UTC()
	return results.Header{
		Schema:           schema,
		Scenario:         s.Name,
		ScenarioFile:     s.File,
		Target:           Describe(s.Target),
		Driver:           s.Target.Driver,
		ColdbenchVersion: version,
		StartedAt:        start,
		FinishedAt:       start,
	}
}

// Describe says what a target is, for people.
func Describe(t scenarios.Target) string {
	if s, ok := t.Config.(fmt.Stringer); ok {
		return t.Driver + " " + s.String()
	}
	return t.Driver
}

// Interruption says why a study stopped early when ctx ended: ctx's cause
// when it has one other than a plain cancel, else err.
func Interruption(ctx context.Context, err error) string {
	if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) {
		return cause.Error()
	}
	if strings.TrimSpace(err.Error()) == "" {
		return "interrupted"
	}
	return err.Error()
}

// End closes the header of a sweep's or a ramp's record: finished now,
// complete when err is nil, else why it stopped: an interruption when ctx
// ended, otherwise a failure.
func End(ctx context.Context, h *results.Header, err error) (interrupted, failure string) {
	h.FinishedAt = time.Now().UTC()
	h.Complete = err == nil
	switch {
	case err == nil:
	case ctx.Err() != nil:
		interrupted = Interruption(ctx, err)
	default:
		failure = err.Error()
	}
	return interrupted, failure
}

// Target is d when the caller gives one (and keeps it), else the
// scenario's target opened, which release closes.
func Target(ctx context.Context, d drivers.Driver, s *scenarios.Scenario) (_ drivers.Driver, release func(), err error) {
	if d != nil {
		return d, func() {}, nil
	}
	if d, err = fleet.OpenTarget(ctx, s); err != nil {
		return nil, nil, err
	}
	return d, func() { d.Close() }, nil
}
