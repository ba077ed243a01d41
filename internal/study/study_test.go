package study

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/coldbench/coldbench/results"
	"github.com/coldbench/coldbench/scenarios"
)

// TestDir: a given directory is made and used; else each kind names a new
// one under the base, with its suffix unless the scenario's name says it;
// the scenario's source is copied in when it has one.
func TestDir(t *testing.T) {
	t.Parallel()
	tests := []struct {
		kind     Kind
		name     string
		given    bool
		source   string
		wantBase string // the directory's name ends so
	}{
		{Run, "smoke", true, "name: smoke\n", ""},        // as given
		{Run, "smoke", false, "", "-smoke"},              // no suffix for a run
		{Tune, "checkout", false, "x", "-checkout-tune"}, // the kind's suffix
		{Tune, "tune-demo", false, "", "-tune-demo"},     // the name says it already
		{Capacity, "checkout", false, "", "-checkout-plan"},
	}
	for _, tt := range tests {
		base := t.TempDir()
		given := ""
		if tt.given {
			given = filepath.Join(base, "a", "b")
		}
		s := &scenarios.Scenario{Name: tt.name, Source: []byte(tt.source)}
		dir, err := Dir(tt.kind, given, base, s)
		if err != nil {
			t.Fatalf("%s %s: %v", tt.kind.label, tt.name, err)
		}
		if tt.given && dir != given || !tt.given && (filepath.Dir(dir) != base || !strings.HasSuffix(dir, tt.wantBase)) {
			t.Errorf("%s %s: directory %s", tt.kind.label, tt.name, dir)
		}
		b, err := os.ReadFile(filepath.Join(dir, "scenario.yaml"))
		if tt.source == "" && !errors.Is(err, os.ErrNotExist) || tt.source != "" && string(b) != tt.source {
			t.Errorf("%s %s: scenario copy %q, %v; want %q", tt.kind.label, tt.name, b, err, tt.source)
		}
	}
}

// TestInterruption: the cause of a context stopped for a reason wins over
// the error it gave; a plain cancel leaves the error, never an empty text.
func TestInterruption(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(errors.New("signal: interrupt"))
	if got := Interruption(ctx, context.Canceled); got != "signal: interrupt" {
		t.Errorf("with a cause: %q", got)
	}
	plain, stop := context.WithCancel(context.Background())
	stop()
	if got := Interruption(plain, errors.New("phases: context canceled")); got != "phases: context canceled" {
		t.Errorf("plain cancel: %q", got)
	}
	if got := Interruption(plain, errors.New(" ")); got != "interrupted" {
		t.Errorf("blank error: %q", got)
	}
}

// TestEnd: a record ends complete, interrupted or failed.
func TestEnd(t *testing.T) {
	t.Parallel()
	live := context.Background()
	stopped, cancel := context.WithCancelCause(context.Background())
	cancel(errors.New("signal: terminated"))
	tests := []struct {
		name                 string
		ctx                  context.Context
		err                  error
		complete             bool
		interrupted, failure string
	}{
		{"complete", live, nil, true, "", ""},
		{"interrupted", stopped, errors.New("setting 512 MB: context canceled"), false, "signal: terminated", ""},
		{"failed", live, errors.New("setting 512 MB: configure: quota"), false, "", "setting 512 MB: configure: quota"},
	}
	for _, tt := range tests {
		var h results.Header
		in, fail := End(tt.ctx, &h, tt.err)
		if h.Complete != tt.complete || h.FinishedAt.IsZero() || in != tt.interrupted || fail != tt.failure {
			t.Errorf("%s: complete %v finished %v, interrupted %q, failure %q", tt.name, h.Complete, h.FinishedAt, in, fail)
		}
	}
}
