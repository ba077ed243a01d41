package results

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/coldbench/coldbench/drivers"
)

func TestJournal(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "run")
	meta := fixtureMeta()
	meta.FinishedAt, meta.Complete = time.Time{}, true // ignored by NewJournal
	j, err := NewJournal(dir, meta)
	if err != nil {
		t.Fatal(err)
	}
	clock := t0.Add(25 * time.Second)
	j.now = func() time.Time { return clock }

	// Right after the start: a loadable, incomplete record with no phases.
	r, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if r.Complete || len(r.Phases) != 0 || r.Scenario != meta.Scenario {
		t.Errorf("initial record: complete %v, %d phases, scenario %q", r.Complete, len(r.Phases), r.Scenario)
	}

	// Mid-run: the steady phase runs, measured up to the clock.
	tally := fixtureTally()
	tally.Phases[1].End = time.Time{}
	if err := j.Update(tally); err != nil {
		t.Fatal(err)
	}
	if r, err = Load(dir); err != nil {
		t.Fatal(err)
	}
	if r.Complete || !r.FinishedAt.Equal(clock) || r.Phases[1].DurationS != 10 {
		t.Errorf("update: complete %v, finished_at %v, steady duration %v", r.Complete, r.FinishedAt, r.Phases[1].DurationS)
	}

	// Finished.
	final := fixtureMeta()
	if err := j.Finish(fixtureTally(), final); err != nil {
		t.Fatal(err)
	}
	if r, err = Load(dir); err != nil {
		t.Fatal(err)
	}
	if !r.Complete || r.Interrupted != "" || !r.FinishedAt.Equal(final.FinishedAt) || r.Totals.Requests != 302 {
		t.Errorf("final: complete %v interrupted %q finished_at %v requests %d", r.Complete, r.Interrupted, r.FinishedAt, r.Totals.Requests)
	}
	if _, err := os.Stat(filepath.Join(dir, HistogramLogFile)); err != nil {
		t.Errorf("no histogram log: %v", err)
	}
	if err := j.Update(tally); err == nil {
		t.Errorf("Update after Finish succeeded")
	}
	if err := j.Finish(tally, final); err == nil {
		t.Errorf("second Finish succeeded")
	}
}

func TestJournalInterrupted(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	j, err := NewJournal(dir, fixtureMeta())
	if err != nil {
		t.Fatal(err)
	}
	// Only how it ended: the rest comes from NewJournal.
	meta := Meta{Interrupted: "signal: interrupt", FinishedAt: t0.Add(20 * time.Second)}
	if err := j.Finish(fixtureTally(), meta); err != nil {
		t.Fatal(err)
	}
	r, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if r.Complete || r.Interrupted != "signal: interrupt" {
		t.Errorf("complete %v interrupted %q, want an interrupted record", r.Complete, r.Interrupted)
	}
	if r.Scenario != "cold-and-warm" || !r.StartedAt.Equal(t0) || r.Host.Hostname != "bench-1" || r.Elapsed() != 20*time.Second {
		t.Errorf("meta not kept from NewJournal: scenario %q started %v host %q elapsed %v", r.Scenario, r.StartedAt, r.Host.Hostname, r.Elapsed())
	}
}

func TestHistogramLog(t *testing.T) {
	t.Parallel()
	tally := fixtureTally()
	var buf bytes.Buffer
	if err := writeHistogramLog(&buf, tally, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	text := buf.String()
	for _, want := range []string{
		"#[Histogram log format version 1.3]",
		"#[StartTime: 1795626062 (seconds since epoch), 2026-11-25T17:01:02Z]",
		"Tag=phase=warm-up;temp=cold,0.000000,10.000000,",
		"Tag=phase=steady;temp=warm,15.000000,20.000000,",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("log lacks %q:\n%s", want, text)
		}
	}

	// Read it back with the library's reader: one entry per phase ×
	// temperature with samples, in order, with the tally's counts.
	type entry struct {
		tag   string
		count int64
	}
	want := []entry{
		{"phase=warm-up;temp=cold", 10},
		{"phase=warm-up;temp=warm", 80},
		{"phase=warm-up;temp=unknown", 2},
		{"phase=steady;temp=cold", 2},
		{"phase=steady;temp=warm", 198},
	}
	rd := hdrhistogram.NewHistogramLogReader(&buf)
	var got []entry
	for {
		h, err := rd.NextIntervalHistogram()
		if err != nil {
			t.Fatal(err)
		}
		if h == nil {
			break
		}
		got = append(got, entry{h.Tag(), h.TotalCount()})
	}
	if len(got) != len(want) {
		t.Fatalf("entries: got %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("entry %d: got %v, want %v", i, got[i], want[i])
		}
	}
	if h := tally.Phases[0].Hist(HistKey{drivers.Cold, drivers.OK, Latency}); h.Tag() != "" {
		t.Errorf("writing the log tagged the tally's own histogram %q", h.Tag())
	}
}

func TestWriteHistogramLogFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := WriteHistogramLog(dir, fixtureTally()); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, HistogramLogFile))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(b), "\nTag="); n != 5 {
		t.Errorf("%d entries, want 5", n)
	}
}
