package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coldbench/coldbench/drivers/sim"
	"github.com/coldbench/coldbench/results"
	"github.com/coldbench/coldbench/scenarios"
)

// bin is the coldbench binary built once for these tests: they drive it
// end to end as a user would, as a real child process.
var bin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "coldbench-test")
	if err != nil {
		panic(err)
	}
	bin = filepath.Join(dir, "coldbench")
	if runtime.GOOS == "windows" {
		bin += ".exe"
	}
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		panic("build coldbench: " + err.Error())
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// coldbench runs the binary and returns its output and exit code.
func coldbench(t *testing.T, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return out.String(), ee.ExitCode()
	}
	if err != nil {
		t.Fatalf("coldbench %v: %v", args, err)
	}
	return out.String(), 0
}

func loadRun(t *testing.T, dir string) *results.Run {
	t.Helper()
	r, err := results.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func writeScenario(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "scenario.yaml")
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestRunSmoke: the built-in smoke scenario against the built-in emulator
// finds cold and warm requests, and the cold-minus-warm median is the
// emulator's configured init time.
//
// Not parallel: the cold-minus-warm gap is a measurement, and a busy CPU
// delays a burst of new connections more than steady warm traffic.
func TestRunSmoke(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	out, code := coldbench(t, "run", "smoke", "--out", dir, "--quiet")
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	r := loadRun(t, dir)
	if !r.Complete || r.Schema != "coldbench.run/v1" {
		t.Fatalf("complete=%v schema=%q", r.Complete, r.Schema)
	}
	cold, warm := r.Totals.Cold, r.Totals.Warm
	if cold.Count == 0 || warm.Count == 0 {
		t.Fatalf("cold %d, warm %d: want both > 0", cold.Count, warm.Count)
	}
	s, err := scenarios.Load("smoke")
	if err != nil {
		t.Fatal(err)
	}
	init := s.Target.Config.(*sim.Config).Init.Mean
	gap := time.Duration((cold.P50Ms - warm.P50Ms) * float64(time.Millisecond))
	t.Logf("cold p50 %.1f ms, warm p50 %.1f ms, gap %v, configured init %v", cold.P50Ms, warm.P50Ms, gap, init)
	if d := gap - init; d < -init/10 || d > init/10 {
		t.Errorf("cold p50 - warm p50 = %v, want within 10%% of %v", gap, init)
	}
	for _, f := range []string{"run.json", "report.md", "histograms.hlog"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
	// What the run cost coldbench itself is in the host block, its resident
	// set split into heap (anon) and executable (file) pages on Linux.
	if rt := r.Host.Runtime; rt == nil || rt.HeapAllocBytes == 0 || rt.GoMemoryBytes == 0 || (runtime.GOOS == "linux" && (rt.PeakRSSBytes == 0 || rt.PeakAnonBytes == 0 || rt.PeakFileBytes == 0 || rt.PeakAnonBytes > rt.PeakRSSBytes)) {
		t.Errorf("host runtime %+v", rt)
	}
	if !strings.Contains(out, dir) {
		t.Errorf("output does not name the run directory:\n%s", out)
	}
}

// TestAchievedCount: over a 500 rps constant phase the count sent is within
// 2% of the schedule (a count, not a timing assertion).
func TestAchievedCount(t *testing.T) {
	t.Parallel()
	p := writeScenario(t, `
name: count
target: {driver: sim, handler: 2ms, init: {mean: 20ms, stddev: 2ms}}
phases:
  - {name: steady, duration: 10s, rate: 500/s}
`)
	dir := filepath.Join(t.TempDir(), "run")
	out, code := coldbench(t, "run", p, "--out", dir, "--quiet")
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	ph := loadRun(t, dir).Phases[0]
	if d := float64(ph.OK) - 5000; d < -100 || d > 100 {
		t.Errorf("ok %d (sent %d, dropped %d, errors %v), want 5000 ± 2%%", ph.OK, ph.Sent, ph.Dropped, ph.Errors)
	}
}

// longScenario runs long enough to be stopped halfway.
const longScenario = `
name: long
target: {driver: sim, handler: 5ms, init: {mean: 50ms, stddev: 5ms}}
phases:
  - {name: first, duration: 2s, rate: 100}
  - {name: second, duration: 30s, rate: 100}
`

// TestKilledRunIsRenderable: SIGKILL halfway leaves a run record that
// `coldbench report` renders, marked incomplete.
func TestKilledRunIsRenderable(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "run")
	cmd := exec.Command(bin, "run", writeScenario(t, longScenario), "--out", dir, "--quiet")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(4 * time.Second)
	cmd.Process.Kill()
	cmd.Wait()

	r := loadRun(t, dir)
	if r.Complete {
		t.Error("a killed run is marked complete")
	}
	if r.Totals.Requests < 200 {
		t.Errorf("requests %d: the record lost what was measured", r.Totals.Requests)
	}
	out, code := coldbench(t, "report", dir)
	if code != 0 || !strings.Contains(out, "INCOMPLETE") {
		t.Errorf("report exit %d, want 0 and INCOMPLETE:\n%s", code, out)
	}
	for _, f := range []string{"md", "json", "csv", "hgrm", "html"} {
		if out, code := coldbench(t, "report", dir, "--format", f); code != 0 || out == "" {
			t.Errorf("report --format %s: exit %d\n%s", f, code, out)
		}
	}
}

// TestInterruptedRun: Ctrl-C stops the run, writes the partial result with
// the reason and exits 3.
func TestInterruptedRun(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "run")
	cmd := exec.Command(bin, "run", writeScenario(t, longScenario), "--out", dir, "--quiet")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * time.Second)
	cmd.Process.Signal(syscall.SIGINT)
	err := cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != exitIncomplete {
		t.Fatalf("exit: %v, want %d\n%s", err, exitIncomplete, out.String())
	}
	r := loadRun(t, dir)
	if r.Complete || r.Interrupted == "" || r.Phases[0].OK < 150 {
		t.Errorf("complete=%v interrupted=%q first phase ok=%d", r.Complete, r.Interrupted, r.Phases[0].OK)
	}
	if _, err := os.Stat(filepath.Join(dir, "report.md")); err != nil {
		t.Error(err)
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	good := writeScenario(t, "name: ok\ntarget: {driver: sim}\nphases:\n  - {name: a, duration: 1s, rate: 10}\n")
	hugeBurst := writeScenario(t, "name: huge\ntarget: {driver: sim}\nphases:\n  - name: flood\n    duration: 2s\n    # a trillion requests in a second\n    burst: {requests: 1000000000000, within: 1s}\n")
	bad := writeScenario(t, "name: bad\ntarget: {driver: nope}\nphases:\n  - {name: a, duration: -1s, rate: 10, idle: true}\n  - {name: b, durration: 1s}\n")
	tests := []struct {
		name     string
		args     []string
		code     int
		contains []string
	}{
		{"good file", []string{"validate", good}, 0, []string{"ok"}},
		{"built-in", []string{"validate", "smoke"}, 0, []string{"ok"}},
		// Every error of the file, each with its position and field.
		{"bad file", []string{"validate", bad}, 2, []string{bad + ":2:", "target.driver", "phases[0].duration", "phases[1].durration", `unknown driver "nope"`}},
		{"missing file", []string{"validate", "/nonexistent/x.yaml"}, 2, []string{"x.yaml"}},
		{"no args", []string{"validate"}, 2, nil},
		// The runaway burst: refused before anything runs.
		{"huge burst run", []string{"run", hugeBurst, "--quiet"}, 2, []string{hugeBurst + ":7:23", "burst.requests", "maximum 10000000"}},
		{"syntax error", []string{"validate", "../../scenarios/testdata/bad/syntax.yaml"}, 2, []string{"syntax.yaml:9:15: invalid YAML"}},
		{"binary file", []string{"validate", "../../scenarios/testdata/bad/binary.yaml"}, 2, []string{"binary.yaml:2:1: not a text file: byte 0x7f at offset 13"}},
		{"unknown command", []string{"frobnicate"}, 2, []string{"unknown command"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			began := time.Now()
			out, code := coldbench(t, tt.args...)
			// A refused scenario costs no time, whatever it asks for.
			if took := time.Since(began); code == 2 && took > time.Second {
				t.Errorf("exit 2 after %v, want under a second", took)
			}
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

func TestScenariosList(t *testing.T) {
	t.Parallel()
	out, code := coldbench(t, "scenarios")
	if code != 0 || !strings.Contains(out, "smoke") || !strings.Contains(out, "demo") {
		t.Errorf("exit %d:\n%s", code, out)
	}
}

func TestReportJSONIsTheRecord(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "run")
	p := writeScenario(t, "name: tiny\ntarget: {driver: sim, handler: 1ms}\nphases:\n  - {name: a, duration: 500ms, rate: 40}\n")
	if out, code := coldbench(t, "run", p, "--out", dir, "--quiet"); code != 0 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	out, code := coldbench(t, "report", dir, "--format", "json")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	var v map[string]any
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("report --format json is not JSON: %v", err)
	}
	for _, k := range []string{"schema", "scenario", "target", "started_at", "finished_at", "complete", "totals", "phases"} {
		if _, ok := v[k]; !ok {
			t.Errorf("run.json lacks %q", k)
		}
	}
}
