package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coldbench/coldbench/results"
)

// coldbenchEnv runs the binary in dir (none: the test's) with extra
// environment variables, and returns its output and exit code.
func coldbenchEnv(t *testing.T, dir string, env []string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
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

// thresholdScenario is a short steady run with the given thresholds: lines
// (and other top-level keys) appended as written.
func thresholdScenario(t *testing.T, duration, extra string) string {
	return writeScenario(t, `
name: gate
target: {driver: sim, memory_mb: 1769, handler: 5ms, keep_alive: 60s, init: {mean: 30ms, stddev: 3ms}}
phases:
  - {name: steady, duration: `+duration+`, rate: 100/s}
`+extra)
}

// TestExitCodes drives each exit code of `coldbench run` through the
// binary, with thresholds: 0 when all pass, 1 when one fails at the end or
// stops the run (abort_on_fail), 2 for a threshold that does not parse (its
// position named), 3 for a run interrupted before its end (even with a
// threshold that would fail: the run did not complete).
func TestExitCodes(t *testing.T) {
	t.Parallel()
	t.Run("0 pass", func(t *testing.T) {
		t.Parallel()
		dir := filepath.Join(t.TempDir(), "run")
		p := thresholdScenario(t, "1s", `thresholds:
  - warm.p99 < 5s
  - steady: [errors.rate < 50%, rate >= 50%]
  - cold.rate <= 100%
`)
		out, code := coldbench(t, "run", p, "--out", dir, "--quiet")
		if code != exitOK {
			t.Fatalf("exit %d, want 0:\n%s", code, out)
		}
		r := loadRun(t, dir)
		if len(r.Thresholds) != 4 || results.ThresholdsFailed(r.Thresholds) {
			t.Fatalf("run.json thresholds %+v: want 4, none failed", r.Thresholds)
		}
		for _, v := range r.Thresholds {
			if v.Status != results.ThresholdPass || v.Samples == 0 {
				t.Errorf("%s: status %s on %d samples, want pass on some", v.Threshold, v.Status, v.Samples)
			}
		}
		if !strings.Contains(out, "Thresholds: all 4 passed.") || !strings.Contains(out, "steady: rate >= 50%") {
			t.Errorf("no pass/fail table in the output:\n%s", out)
		}
		md, err := os.ReadFile(filepath.Join(dir, "report.md"))
		if err != nil || !strings.Contains(string(md), "## Thresholds") {
			t.Errorf("report.md lacks the thresholds section (%v)", err)
		}
	})
	t.Run("1 fail at the end", func(t *testing.T) {
		t.Parallel()
		dir := filepath.Join(t.TempDir(), "run")
		p := thresholdScenario(t, "1s", "thresholds: [warm.p50 < 1ms, errors.rate < 1%]\n")
		out, code := coldbench(t, "run", p, "--out", dir, "--quiet")
		if code != exitThreshold {
			t.Fatalf("exit %d, want 1:\n%s", code, out)
		}
		r := loadRun(t, dir)
		if !r.Complete {
			t.Error("a run whose threshold failed at the end is still complete")
		}
		v := r.Thresholds
		if len(v) != 2 || v[0].Status != results.ThresholdFail || v[1].Status != results.ThresholdPass {
			t.Fatalf("verdicts %+v: want warm.p50 failed, errors.rate passed", v)
		}
		if v[0].Value < 5 || v[0].Unit != "ms" {
			t.Errorf("warm.p50 measured %v %s, want at least the 5 ms handler", v[0].Value, v[0].Unit)
		}
		if !strings.Contains(out, "Thresholds: 1 of 2 FAILED.") || !strings.Contains(out, "FAIL") {
			t.Errorf("output lacks the failure:\n%s", out)
		}
	})
	t.Run("1 abort on fail", func(t *testing.T) {
		t.Parallel()
		dir := filepath.Join(t.TempDir(), "run")
		p := thresholdScenario(t, "60s", `thresholds: [warm.p50 < 1ms, warm.p99 < 10s]
abort_on_fail: {after: 1s, min_samples: 50}
`)
		start := time.Now()
		out, code := coldbench(t, "run", p, "--out", dir, "--quiet")
		took := time.Since(start)
		if code != exitThreshold {
			t.Fatalf("exit %d, want 1:\n%s", code, out)
		}
		if took > 40*time.Second {
			t.Errorf("took %s: the 60 s run was not stopped early", took)
		}
		r := loadRun(t, dir)
		if r.Complete || !strings.Contains(r.Interrupted, "warm.p50 < 1ms") {
			t.Errorf("complete %v, interrupted %q: want a partial record that says which threshold stopped it", r.Complete, r.Interrupted)
		}
		if r.Totals.OK < 50 {
			t.Errorf("%d requests kept: the partial record lost what was measured", r.Totals.OK)
		}
		v := r.Thresholds
		if len(v) != 2 || v[0].Status != results.ThresholdFail || !strings.Contains(v[0].Note, "stopped") || v[1].Status != results.ThresholdPass {
			t.Errorf("verdicts %+v: want warm.p50 failed (stopping the run), warm.p99 passed", v)
		}
		if !strings.Contains(out, "abort_on_fail") {
			t.Errorf("output does not say the run was stopped:\n%s", out)
		}
	})
	t.Run("2 bad threshold", func(t *testing.T) {
		t.Parallel()
		p := thresholdScenario(t, "1s", "thresholds:\n  - warm.p99 < 250\n  - steady: wram.p99 < 1s\n  - nosuch: cold.rate < 5%\n")
		for _, cmd := range []string{"validate", "run"} {
			out, code := coldbench(t, cmd, p, "--out", filepath.Join(t.TempDir(), "run"))
			if cmd == "validate" {
				out, code = coldbench(t, cmd, p)
			}
			if code != exitUsage {
				t.Fatalf("%s: exit %d, want 2:\n%s", cmd, code, out)
			}
			// Line 7 col 16 is the value 250; line 8 col 13 the metric
			// wram.p99; line 9 the phase key.
			for _, want := range []string{p + ":7:16: thresholds[0]: warm.p99 is a latency: write the unit, such as \"250ms\"",
				p + ":8:13: thresholds[1].steady: unknown metric \"wram.p99\"",
				p + ":9:5: thresholds[2].nosuch: no phase named \"nosuch\""} {
				if !strings.Contains(out, want) {
					t.Errorf("%s: output lacks %q:\n%s", cmd, want, out)
				}
			}
		}
	})
	t.Run("3 interrupted", func(t *testing.T) {
		t.Parallel()
		dir := filepath.Join(t.TempDir(), "run")
		p := thresholdScenario(t, "30s", "thresholds: [warm.p50 < 1ms]\n")
		cmd := exec.Command(bin, "run", p, "--out", dir, "--quiet")
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
		if r.Complete || len(r.Thresholds) != 1 || r.Thresholds[0].Status != results.ThresholdFail {
			t.Errorf("complete %v, thresholds %+v: want the partial record judged too", r.Complete, r.Thresholds)
		}
	})
}
