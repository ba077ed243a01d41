package main

import (
	"bufio"
	"bytes"
	"errors"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coldbench/coldbench/drivers/sim"
	"github.com/coldbench/coldbench/results"
	"github.com/coldbench/coldbench/scenarios"
)

// planScenarioYAML is a function whose capacity follows from two of the
// emulator's settings: 30 instances at once, each request holding one for
// the handler time, 600 ms at full CPU and so 600 × 1769/1024 ≈ 1036 ms
// at 1024 MB (the emulator's CPU share is proportional to memory): about
// 28.9 requests/s. The handler is long on purpose: a stall of the loaded
// test machine delays completions and bunches arrivals, which adds
// concurrency in proportion to the stall over the handler time, so a
// second-long handler shrugs off stalls of tens of milliseconds. Steps
// of 1/s resolve 3.5% of the capacity.
const planScenarioYAML = `
name: limited
target: {driver: sim, memory_mb: 1024, handler: 600ms, handler_jitter: 0s, init: {mean: 20ms, stddev: 0s}, keep_alive: 30s, concurrency_limit: 30}
phases:
  - {name: unused, duration: 1s, rate: 1}
capacity:
  start: 25/s
  step: 1/s
  max: 40/s
  settle: 1500ms
  measure: 2500ms
  stop: {error_rate: 1%, throttle_rate: 2%}
  projection:
    traffic: {rate: 20/s}
    headroom: 25%
    prewarm: 1
`

// TestPlanFindsCapacity: on the emulator with a concurrency limit, the
// plan's break rate (its first failing step) and maximum sustainable
// rate are within 10% of the capacity that follows from the limit and
// the handler time, and every report file is written.
//
// Not parallel: the break point is a measurement of timing.
func TestPlanFindsCapacity(t *testing.T) {
	p := writeScenario(t, planScenarioYAML)
	s, err := scenarios.Load(p)
	if err != nil {
		t.Fatal(err)
	}
	cfg := s.Target.Config.(*sim.Config)
	emu := cfg.Emulator()
	want := float64(emu.ConcurrencyLimit) / emu.HandlerTime(emu.MemoryMB).Seconds()

	dir := filepath.Join(t.TempDir(), "plan")
	start := time.Now()
	out, code := coldbench(t, "plan", p, "--out", dir)
	t.Logf("%.0f s:\n%s", time.Since(start).Seconds(), out)
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	rec, err := results.LoadCapacity(dir)
	if err != nil {
		t.Fatal(err)
	}
	r := rec.Result
	if !rec.Complete || r.Break < 0 || r.MaxSustainable < 0 {
		t.Fatalf("complete=%v break=%d max=%d", rec.Complete, r.Break, r.MaxSustainable)
	}
	t.Logf("capacity %.2f/s from the limit and handler time; max sustainable %v/s, break %v/s", want, r.MaxSustainableRPS, r.BreakRPS)
	for name, got := range map[string]float64{"break rate": r.BreakRPS, "max sustainable rate": r.MaxSustainableRPS} {
		if got < 0.9*want || got > 1.1*want {
			t.Errorf("%s %v/s, want within 10%% of %.2f/s", name, got, want)
		}
	}
	brk := rec.Steps[r.Break]
	if brk.Throttled == 0 || !strings.Contains(strings.Join(brk.Failures, ";"), "throttled") {
		t.Errorf("break step %s: throttled %d, failures %v", brk.Name, brk.Throttled, brk.Failures)
	}
	for _, st := range rec.Steps {
		if st.Instances == nil || st.Instances.Max == 0 || st.Instances.Max > emu.ConcurrencyLimit {
			t.Errorf("step %s: instances %+v, want 1 to %d", st.Name, st.Instances, emu.ConcurrencyLimit)
		}
		// Little's law at the step's goodput with the ~1 s handler.
		if exp := st.GoodputRPS * emu.HandlerTime(emu.MemoryMB).Seconds(); st.Concurrency < 0.95*exp || st.Concurrency > 1.3*exp {
			t.Errorf("step %s: concurrency %.2f, want about %.2f", st.Name, st.Concurrency, exp)
		}
		if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(st.RunDir), "run.json")); err != nil {
			t.Error(err)
		}
	}
	pr := rec.Projection
	if pr == nil || pr.TrafficFrom != "scenario" || pr.Traffic.PeakPerS != 20 || pr.MemoryMB != 1024 || pr.MemoryFrom != "describe" || pr.Cost.Monthly <= 0 {
		t.Fatalf("projection %+v", pr)
	}
	// 20/s × ~1.04 s busy × 1.25 headroom ≈ 26 instances.
	if pr.Instances < 25 || pr.Instances > 28 {
		t.Errorf("instances at peak %d, want about 26", pr.Instances)
	}
	for _, f := range []string{"report.md", "report.html", "scenario.yaml", "plan-latency.svg", "plan-errors.png"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, "plan-concurrency.png"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := png.Decode(bytes.NewReader(b)); err != nil {
		t.Errorf("plan-concurrency.png: %v", err)
	}
	for _, want := range []string{"Sustained ", "Instances needed at peak", "report:  " + filepath.Join(dir, "report.html")} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}

	// `coldbench report` re-renders the plan from plan.json alone.
	for _, f := range []string{"report.md", "report.html", "plan-latency.svg"} {
		if err := os.Remove(filepath.Join(dir, f)); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct{ format, want string }{
		{"text", "Instances needed at peak"},
		{"json", `"schema": "coldbench.plan/v1"`},
		{"md", "# coldbench capacity plan: "},
		{"html", "<html"},
	} {
		out, code := coldbench(t, "report", dir, "--format", c.format, "--write")
		if code != 0 || !strings.Contains(out, c.want) {
			t.Errorf("report --format %s: exit %d, output lacks %q:\n%.500s", c.format, code, c.want, out)
		}
	}
	for _, f := range []string{"report.md", "report.html", "plan-latency.svg"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("report --write: %v", err)
		}
	}
	if out, code := coldbench(t, "report", filepath.Join(dir, "plan.json"), "--format", "csv"); code != 2 || !strings.Contains(out, "capacity plan renders as") {
		t.Errorf("report --format csv of a plan: exit %d\n%s", code, out)
	}
}

// quickPlanYAML ramps fast, for the tests of the command rather than the
// measurement.
const quickPlanYAML = `
name: quick
target: {driver: sim, memory_mb: 1769, handler: 10ms, handler_jitter: 0s, init: {mean: 10ms, stddev: 0s}}
phases:
  - {name: unused, duration: 1s, rate: 1}
capacity: {start: 10/s, step: 10/s, max: 200/s, settle: 0s, measure: 1s}
`

func TestPlanErrors(t *testing.T) {
	t.Parallel()
	p := writeScenario(t, quickPlanYAML)
	bad := writeScenario(t, strings.Replace(quickPlanYAML, "step: 10/s", "step: 10/s, factor: 2", 1))
	tests := []struct {
		name     string
		args     []string
		contains []string
	}{
		// The block's mistakes are named at their place in the file.
		{"bad block", []string{"plan", bad}, []string{bad + ":6:", "capacity.factor", "not both"}},
		// Flags are checked like the file.
		{"bad flag value", []string{"plan", p, "--max", "5/s"}, []string{"capacity.max", "below start"}},
		{"bad percent", []string{"plan", p, "--max-throttled", "5"}, []string{`write "5%"`}},
		{"bad rate", []string{"plan", p, "--start", "fast"}, []string{`invalid rate "fast"`}},
		{"no scenario", []string{"plan"}, []string{"want one scenario"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, code := coldbench(t, tt.args...)
			if code != exitUsage {
				t.Errorf("exit %d, want %d:\n%s", code, exitUsage, out)
			}
			for _, s := range tt.contains {
				if !strings.Contains(out, s) {
					t.Errorf("output lacks %q:\n%s", s, out)
				}
			}
		})
	}
}

// TestPlanInterrupted: Ctrl-C during the third step stops the ramp,
// writes plan.json with the steps done and the reports, and exits 3.
func TestPlanInterrupted(t *testing.T) {
	t.Parallel()
	p := writeScenario(t, quickPlanYAML)
	dir := filepath.Join(t.TempDir(), "plan")
	cmd := exec.Command(bin, "plan", p, "--out", dir)
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
		if strings.HasPrefix(sc.Text(), "[ 3/20]") {
			time.Sleep(300 * time.Millisecond) // into the step's run
			cmd.Process.Signal(syscall.SIGINT)
		}
	}
	err = cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != exitIncomplete {
		t.Fatalf("exit: %v, want %d\n%s%s", err, exitIncomplete, log.String(), stdout.String())
	}
	rec, err := results.LoadCapacity(dir)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Complete || rec.Interrupted == "" || len(rec.Steps) != 3 || !rec.Steps[0].Complete || !rec.Steps[1].Complete || rec.Steps[2].Complete {
		t.Errorf("complete=%v interrupted=%q steps=%d", rec.Complete, rec.Interrupted, len(rec.Steps))
	}
	if rec.Result.StepsRun != 2 || rec.Result.MaxSustainableRPS != 20 {
		t.Errorf("result %+v", rec.Result)
	}
	for _, f := range []string{"report.html", "report.md"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
	if !strings.Contains(stdout.String(), "INCOMPLETE: interrupted") {
		t.Errorf("output does not flag the ramp incomplete:\n%s", stdout.String())
	}
}
