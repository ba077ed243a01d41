package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coldbench/coldbench/drivers"
	"github.com/coldbench/coldbench/results"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// t0 is the fixed start of the fixture run, so that output is the same on
// every machine and every day.
var t0 = time.Date(2026, 11, 25, 17, 1, 2, 0, time.UTC)

// record adds n samples to p with latencies lat, lat+step, ... ms and a
// service time 2 ms shorter.
func record(p *results.PhaseTally, n int, temp drivers.Temperature, src drivers.ColdSource, o drivers.Outcome, lat, step float64) {
	for i := 0; i < n; i++ {
		l := time.Duration((lat + float64(i)*step) * float64(time.Millisecond))
		p.Record(results.Sample{Temp: temp, Source: src, Outcome: o, Latency: l, Service: l - 2*time.Millisecond})
	}
}

var (
	fixtureOnce sync.Once
	fixtureJSON []byte
)

// fixture returns a fresh copy of a deterministic two-phase run: a warm-up
// with cold starts decided by the platform, a few errors, dropped arrivals
// and requests of unknown temperature, then a steady phase whose
// temperatures were inferred.
func fixture(t *testing.T) *results.Run {
	t.Helper()
	fixtureOnce.Do(func() {
		b, err := json.Marshal(makeFixture())
		if err != nil {
			panic(err)
		}
		fixtureJSON = b
	})
	var r results.Run
	if err := json.Unmarshal(fixtureJSON, &r); err != nil {
		t.Fatal(err)
	}
	return &r
}

func makeFixture() *results.Run {
	tally := results.NewTally([]results.PhasePlan{
		{Name: "warm-up", Duration: 10 * time.Second, Planned: 100},
		{Name: "steady", Duration: 20 * time.Second, Planned: 400},
	})
	w := tally.Phases[0]
	w.Start, w.End = t0, t0.Add(10*time.Second)
	record(w, 10, drivers.Cold, drivers.SourcePlatform, drivers.OK, 251.3, 7.7)
	record(w, 80, drivers.Warm, drivers.SourcePlatform, drivers.OK, 12.4, 0.5)
	record(w, 4, drivers.Warm, drivers.SourcePlatform, drivers.Timeout, 5000, 0)
	record(w, 2, drivers.Warm, drivers.SourcePlatform, drivers.ServerError, 30, 0)
	record(w, 2, drivers.Unknown, drivers.SourceNone, drivers.OK, 0.8, 0.1)
	w.Dropped = 2

	s := tally.Phases[1]
	s.Start, s.End = t0.Add(10*time.Second), t0.Add(30*time.Second)
	record(s, 3, drivers.Cold, drivers.SourceInferred, drivers.OK, 402, 11)
	record(s, 397, drivers.Warm, drivers.SourceInferred, drivers.OK, 3.1, 0.05)
	// The evidence behind them: 9 candidates, 3 confirmed cold.
	s.Inference = results.Inference{Candidates: 9, Cold: 3, NotSlow: 4, HostLag: 1, TargetWide: 1,
		Compared: 9, BaselineUs: 9 * 4100, ThresholdUs: 9 * 24100}

	return results.Summarize(tally, results.Meta{
		Scenario:     "cold-and-warm",
		ScenarioFile: "builtin:cold-and-warm",
		Target:       "sim http://127.0.0.1:8080/fn",
		Driver:       "sim",
		Version:      "v0.1.0-test",
		StartedAt:    t0,
		FinishedAt:   t0.Add(30 * time.Second),
		Complete:     true,
		Host:         results.Host{Hostname: "bench-1", Cores: 8},
	})
}

// interrupted is the fixture as a run stopped by a signal.
func interrupted(t *testing.T) *results.Run {
	r := fixture(t)
	r.Complete = false
	r.Interrupted = "signal: interrupt"
	return r
}

// golden compares got with testdata/name, or rewrites it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (run go test -update to accept):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

func TestGolden(t *testing.T) {
	tests := []struct {
		file   string
		run    func(*testing.T) *results.Run
		render func(*bytes.Buffer, *results.Run) error
	}{
		// the terminal table of a complete run
		{"text.golden", fixture, func(b *bytes.Buffer, r *results.Run) error { return Text(b, r) }},
		// an interrupted run is flagged on the first line
		{"text-interrupted.golden", interrupted, func(b *bytes.Buffer, r *results.Run) error { return Text(b, r) }},
		// report.md of a complete run
		{"markdown.golden", fixture, func(b *bytes.Buffer, r *results.Run) error { return Markdown(b, r) }},
		// report.md of an interrupted run
		{"markdown-interrupted.golden", interrupted, func(b *bytes.Buffer, r *results.Run) error { return Markdown(b, r) }},
		// the percentile distributions
		{"hgrm.golden", fixture, func(b *bytes.Buffer, r *results.Run) error { return HGRM(b, r) }},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			var buf bytes.Buffer
			if err := tt.render(&buf, tt.run(t)); err != nil {
				t.Fatal(err)
			}
			golden(t, tt.file, buf.Bytes())
		})
	}
}

func TestTextIncompleteFirstLine(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		interrupted string
		want        string
	}{
		// stopped by a signal
		{"signal", "signal: interrupt", "INCOMPLETE: run interrupted (signal: interrupt) — partial results up to 2026-11-25T17:01:32Z"},
		// killed (SIGKILL) or still running: the journal never wrote a reason
		{"no reason", "", "INCOMPLETE: run did not finish (the process was killed or is still running) — partial results up to 2026-11-25T17:01:32Z"},
	}
	for _, tt := range tests {
		r := fixture(t)
		r.Complete, r.Interrupted = false, tt.interrupted
		var buf bytes.Buffer
		if err := Text(&buf, r); err != nil {
			t.Fatal(err)
		}
		if first, _, _ := strings.Cut(buf.String(), "\n"); first != tt.want {
			t.Errorf("%s: first line %q, want %q", tt.name, first, tt.want)
		}
	}
	var buf bytes.Buffer
	if err := Text(&buf, fixture(t)); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "INCOMPLETE") {
		t.Errorf("complete run flagged incomplete:\n%s", buf.String())
	}
}

func TestCSV(t *testing.T) {
	t.Parallel()
	r := fixture(t)
	var buf bytes.Buffer
	if err := CSV(&buf, r); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	wantHeader := []string{"phase", "temperature", "count", "min_ms", "mean_ms", "p50_ms", "p90_ms", "p95_ms", "p99_ms", "p999_ms", "max_ms"}
	if !reflect.DeepEqual(recs[0], wantHeader) {
		t.Errorf("header %v, want %v", recs[0], wantHeader)
	}
	var keys []string
	for _, rec := range recs[1:] {
		if len(rec) != len(wantHeader) {
			t.Errorf("row %v has %d columns", rec, len(rec))
		}
		keys = append(keys, rec[0]+"/"+rec[1]+"/"+rec[2])
	}
	// unknown only where there were such requests
	want := []string{"warm-up/cold/10", "warm-up/warm/80", "warm-up/unknown/2", "steady/cold/3", "steady/warm/397"}
	if !reflect.DeepEqual(keys, want) {
		t.Errorf("rows %v, want %v", keys, want)
	}
	if got, want := recs[1][5], "282.111"; got != want { // warm-up cold p50, from the stored histogram
		t.Errorf("warm-up cold p50_ms = %s, want %s", got, want)
	}
}

// TestHGRMFormat checks the distribution against HdrHistogram's format:
// the header, five columns becoming four on the 100% line, the footer, and
// the same values and counts as the library's own percentile printer.
func TestHGRMFormat(t *testing.T) {
	t.Parallel()
	r := fixture(t)
	var buf bytes.Buffer
	if err := HGRM(&buf, r); err != nil {
		t.Fatal(err)
	}
	blocks := strings.Split(buf.String(), "\n\n#")
	if len(blocks) != 5 {
		t.Fatalf("%d blocks, want 5 (phase × temperature)", len(blocks))
	}
	lines := strings.Split(blocks[0], "\n")
	if want := "# phase=warm-up temp=cold: latency of successful requests in ms, from the intended send time"; lines[0] != want {
		t.Errorf("block header %q, want %q", lines[0], want)
	}
	if want := "       Value     Percentile TotalCount 1/(1-Percentile)"; lines[1] != want {
		t.Errorf("column header %q, want %q", lines[1], want)
	}
	if lines[2] != "" {
		t.Errorf("no blank line after the column header")
	}
	var data [][]string
	for _, l := range lines[3:] {
		if strings.HasPrefix(l, "#[") || l == "" {
			break
		}
		data = append(data, strings.Fields(l))
	}
	last := data[len(data)-1]
	if len(last) != 3 || last[1] != "1.000000000000" || last[2] != "10" {
		t.Errorf("100%% line %v, want value, 1.000000000000, 10", last)
	}
	for _, d := range data[:len(data)-1] {
		if len(d) != 4 {
			t.Errorf("line %v: want 4 columns", d)
		}
	}
	if data[0][1] != "0.000000000000" || data[0][0] != "251.391" {
		t.Errorf("first line %v, want 251.391 at 0.000000000000", data[0])
	}
	for _, want := range []string{
		"#[Max     =      320.767, Total count    =           10]",
		"#[Buckets =           20, SubBuckets     =         2048]",
	} {
		if !strings.Contains(blocks[0], want) {
			t.Errorf("footer lacks %q:\n%s", want, blocks[0])
		}
	}

	// The same distribution as the library prints (in its own layout).
	h, err := r.Phases[0].Cold.Decode()
	if err != nil {
		t.Fatal(err)
	}
	var lib bytes.Buffer
	if _, err := h.PercentilesPrint(&lib, 5, 1000); err != nil {
		t.Fatal(err)
	}
	var libData [][]string
	for _, l := range strings.Split(lib.String(), "\n")[2:] {
		if strings.HasPrefix(l, "#") || l == "" {
			break
		}
		libData = append(libData, strings.Fields(l))
	}
	if len(libData) != len(data) {
		t.Fatalf("%d lines, the library prints %d", len(data), len(libData))
	}
	for i := range data {
		if data[i][0] != libData[i][0] || data[i][2] != libData[i][2] {
			t.Errorf("line %d: %v, the library prints %v", i, data[i], libData[i])
		}
	}
}

func TestJSONRoundTrip(t *testing.T) {
	t.Parallel()
	r := fixture(t)
	var buf bytes.Buffer
	if err := JSON(&buf, r); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(buf.String(), "{\n  \"schema\": \"coldbench.run/v1\",") {
		t.Errorf("not indented run.json:\n%.80s", buf.String())
	}
	var back results.Run
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(&back, r) {
		t.Errorf("JSON does not round-trip")
	}
}

func TestRender(t *testing.T) {
	t.Parallel()
	r := fixture(t)
	for _, f := range Formats {
		var buf bytes.Buffer
		if err := Render(&buf, r, f); err != nil || buf.Len() == 0 {
			t.Errorf("Render(%q): %d bytes, %v", f, buf.Len(), err)
		}
	}
	var md, markdown bytes.Buffer
	Render(&md, r, "md")
	Render(&markdown, r, "markdown")
	if md.String() != markdown.String() {
		t.Errorf("md and markdown differ")
	}
	err := Render(&bytes.Buffer{}, r, "pdf")
	if err == nil || !strings.Contains(err.Error(), `"pdf"`) || !strings.Contains(err.Error(), "csv, hgrm, json, markdown, md, text") {
		t.Errorf("unknown format error %v: want it to name the format and list the known ones", err)
	}
}

func TestWriteFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	r := fixture(t)
	if err := WriteFiles(dir, r); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(dir, MarkdownFile))
	if err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	if err := Markdown(&want, r); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want.Bytes()) {
		t.Errorf("%s differs from Markdown output", MarkdownFile)
	}
}

func TestMarkdownEscapes(t *testing.T) {
	t.Parallel()
	r := fixture(t)
	r.Phases[0].Name = "a|b*c"
	var buf bytes.Buffer
	if err := Markdown(&buf, r); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `| a\|b\*c |`) {
		t.Errorf("phase name not escaped in the table:\n%s", buf.String())
	}
}
