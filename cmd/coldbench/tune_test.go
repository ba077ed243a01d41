package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coldbench/coldbench/results"
)

// tuneScenario is a quick function to tune: a short handler and init, and
// a one-second replay at each setting. The tune: block is overridden by
// flags below.
const tuneScenarioYAML = `
name: quick
target: {driver: sim, memory_mb: 1024, handler: 10ms, handler_jitter: 0s, init: {mean: 40ms, stddev: 4ms}, keep_alive: 5s}
phases:
  - {name: burst, duration: 400ms, burst: {requests: 4}}
  - {name: steady, duration: 600ms, rate: 20}
tune:
  memory: [512, 1024, 1769, 3008]
  prewarm: [0, 2, 5]
  strategy: cost
`

// TestTuneEndToEnd runs a 2 × 2 sweep through the binary, with flags that
// override the scenario's tune: block, and checks the record, the run
// directory of every setting and the reports.
func TestTuneEndToEnd(t *testing.T) {
	t.Parallel()
	p := writeScenario(t, tuneScenarioYAML)
	dir := filepath.Join(t.TempDir(), "tune")
	out, code := coldbench(t, "tune", p, "--out", dir, "--memory", "1024,1769", "--prewarm", "0,1",
		"--strategy", "speed", "--cold-samples", "2", "--warm-samples", "5", "--requests-per-month", "200000")
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	for _, want := range []string{"[1/4] 1024 MB, prewarm 0", "RECOMMENDATION (strategy speed)", "restoring the original setting (1024 MB, prewarm 0)",
		"report:      " + filepath.Join(dir, "report.html")} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	rec, err := results.LoadTune(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !rec.Complete || !rec.Restored || rec.Strategy != "speed" || len(rec.Settings) != 4 || rec.Recommendation == nil {
		t.Fatalf("complete=%v restored=%v strategy=%s settings=%d recommendation=%v", rec.Complete, rec.Restored, rec.Strategy, len(rec.Settings), rec.Recommendation)
	}
	if rec.Traffic.RequestsPerMonth < 199_999 || rec.Samples.Cold != 2 || rec.Original.Source != "describe" {
		t.Errorf("traffic %v, samples %+v, original %+v", rec.Traffic.RequestsPerMonth, rec.Samples, rec.Original)
	}
	// Speed: the 1769 MB handler is faster than 1024 MB's, and prewarm
	// keeps this sparse traffic from starting cold.
	if w := rec.Recommendation.Winner; w != "1769mb-p1" {
		t.Errorf("speed chose %s, want 1769mb-p1", w)
	}
	for _, s := range rec.Settings {
		r := loadRun(t, filepath.Join(dir, filepath.FromSlash(s.RunDir)))
		if !r.Complete || r.Totals.Requests != 16 || s.Cold.Count < 2 || s.Warm.Count < 5 {
			t.Errorf("%s: run complete=%v requests=%d; %d cold, %d warm samples", s.Name, r.Complete, r.Totals.Requests, s.Cold.Count, s.Warm.Count)
		}
	}
	page, err := os.ReadFile(filepath.Join(dir, "report.html"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(page, []byte("src=\"http")) || !bytes.Contains(page, []byte("Recommendation")) {
		t.Errorf("report.html refers outside itself or lacks the recommendation")
	}
	for _, f := range []string{"report.md", "tune-memory.png", "tune-prewarm.svg", "scenario.yaml"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}

	// `coldbench report` re-renders the tuning run from tune.json alone.
	md, err := os.ReadFile(filepath.Join(dir, "report.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"report.md", "report.html", "tune-memory.png"} {
		os.Remove(filepath.Join(dir, f))
	}
	for _, c := range []struct{ format, want string }{
		{"text", "RECOMMENDATION (strategy speed)"},
		{"json", `"schema": "coldbench.tune/v1"`},
		{"md", "## Recommendation"},
		{"html", "<html"},
	} {
		out, code := coldbench(t, "report", dir, "--format", c.format, "--write")
		if code != 0 || !strings.Contains(out, c.want) {
			t.Errorf("report --format %s: exit %d, output lacks %q:\n%.400s", c.format, code, c.want, out)
		}
	}
	again, err := os.ReadFile(filepath.Join(dir, "report.md"))
	if err != nil || !bytes.Equal(again, md) {
		t.Errorf("report --write did not rewrite report.md as the tuning run wrote it (err %v)", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "tune-memory.png")); err != nil {
		t.Error(err)
	}
	if out, code := coldbench(t, "report", dir, "--format", "csv"); code != 2 || !strings.Contains(out, "tuning run renders as") {
		t.Errorf("report --format csv of a tuning run: exit %d:\n%s", code, out)
	}
}

func TestTuneErrors(t *testing.T) {
	t.Parallel()
	p := writeScenario(t, tuneScenarioYAML)
	tests := []struct {
		name     string
		args     []string
		code     int
		contains []string
	}{
		// Flags are checked like the file.
		{"bad strategy", []string{"tune", p, "--strategy", "cheapest"}, 2, []string{`tune.strategy: unknown strategy "cheapest"`}},
		{"bad memory list", []string{"tune", p, "--memory", "512,lots"}, 2, []string{"comma-separated list of integers"}},
		{"bad price", []string{"tune", p, "--price", "gb_seconds=1"}, 2, []string{`unknown price "gb_seconds"`}},
		// A driver that cannot change the function's settings is named.
		{"no Configure", []string{"tune", p, "--target", "http://127.0.0.1:9/"}, 2, []string{"driver http", "drivers.Configurer"}},
		{"no scenario", []string{"tune"}, 2, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, code := coldbench(t, tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d:\n%s", code, tt.code, out)
			}
			for _, s := range tt.contains {
				if !strings.Contains(out, s) {
					t.Errorf("output lacks %q:\n%s", s, out)
				}
			}
		})
	}
}

// TestTuneInterrupted: Ctrl-C during the second setting stops the sweep,
// restores the original setting, writes the partial record and reports,
// and exits 3.
func TestTuneInterrupted(t *testing.T) {
	t.Parallel()
	p := writeScenario(t, tuneScenarioYAML)
	dir := filepath.Join(t.TempDir(), "tune")
	cmd := exec.Command(bin, "tune", p, "--out", dir, "--memory", "1024,1769", "--prewarm", "0", "--cold-samples", "1", "--warm-samples", "2")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var log strings.Builder
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		log.WriteString(sc.Text() + "\n")
		if strings.HasPrefix(sc.Text(), "[2/2]") {
			time.Sleep(200 * time.Millisecond) // into the setting's samples
			cmd.Process.Signal(syscall.SIGINT)
		}
	}
	err = cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != exitIncomplete {
		t.Fatalf("exit: %v, want %d\n%s%s", err, exitIncomplete, log.String(), stdout.String())
	}
	rec, err := results.LoadTune(dir)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Complete || rec.Interrupted == "" || !rec.Restored || len(rec.Settings) != 2 || !rec.Settings[0].Complete {
		t.Errorf("complete=%v interrupted=%q restored=%v settings=%d", rec.Complete, rec.Interrupted, rec.Restored, len(rec.Settings))
	}
	if !strings.Contains(log.String(), "restoring the original setting") {
		t.Errorf("no restore on the way out:\n%s", log.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "report.html")); err != nil {
		t.Error(err)
	}
}

// TestTuneCostTies: a CPU-bound handler costs about the same at every
// memory size up to a full CPU (the emulator gives CPU in proportion to
// memory, so the time shrinks as the price per second grows). Two
// identical `tune --strategy cost` sweeps, each from a few samples with
// 10% jitter, recommend the same setting, and report it tied within noise
// with the others (picked by the least memory) instead of a percentage
// the samples cannot show.
func TestTuneCostTies(t *testing.T) {
	t.Parallel()
	// The emulator's jitter is seeded: the two sweeps differ only in its
	// seed, so each draws its own noise, as two runs against a real
	// platform would.
	scenario := func(seed int) string {
		return writeScenario(t, fmt.Sprintf(`
name: cpu-bound
target: {driver: sim, memory_mb: 1024, handler: 20ms, handler_jitter: 2ms, init: {mean: 20ms, stddev: 2ms}, keep_alive: 5s, seed: %d}
phases:
  - {name: steady, duration: 400ms, rate: 5}
tune:
  memory: [128, 512, 1024]
  prewarm: [0]
  strategy: cost
`, seed))
	}
	recs := make([]*results.Tune, 2)
	outs := make([]string, 2)
	for i := range recs {
		p := scenario(3 + i)
		dir := filepath.Join(t.TempDir(), "tune")
		out, code := coldbench(t, "tune", p, "--out", dir, "--cold-samples", "3", "--warm-samples", "10", "--requests-per-month", "100000000")
		if code != 0 {
			t.Fatalf("sweep %d: exit %d:\n%s", i+1, code, out)
		}
		rec, err := results.LoadTune(dir)
		if err != nil {
			t.Fatal(err)
		}
		recs[i], outs[i] = rec, out
		r := rec.Recommendation
		for _, s := range rec.Settings {
			if iv := s.Intervals; iv != nil {
				t.Logf("sweep %d: %s $%.2f a month (%.2f–%.2f), billed %.1f ms (%.1f–%.1f)", i+1, s.Name, s.Cost.Monthly, iv.MonthlyLo, iv.MonthlyHi,
					s.Billed.WarmMeanMs, iv.BilledLoMs, iv.BilledHiMs)
			}
		}
		t.Logf("sweep %d: winner %s, tied %v, %d samples would separate them; %s", i+1, r.Winner, r.Tied, r.SeparateSamples, r.Reason)
		if len(r.Tied) < 2 || r.Tied[0] != r.Winner || r.TieRule == "" {
			t.Errorf("sweep %d: tied %v, rule %q: want the winner tied with another", i+1, r.Tied, r.TieRule)
		}
		for _, want := range []string{"tied within noise", "Tied within noise", "least memory, then least prewarm"} {
			if !strings.Contains(out, want) {
				t.Errorf("sweep %d: the terminal output lacks %q:\n%s", i+1, want, out)
			}
		}
		if strings.Contains(r.Reason, "% below") {
			t.Errorf("sweep %d: a percentage the samples cannot show: %s", i+1, r.Reason)
		}
	}
	if a, b := recs[0].Recommendation.Winner, recs[1].Recommendation.Winner; a != b || a != "128mb-p0" {
		t.Errorf("the sweeps recommend %s and %s, want the same, the least memory among the tied: 128mb-p0", a, b)
	}
}
