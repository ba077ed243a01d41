package main

import (
	"context"
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coldbench/coldbench/compare"
	"github.com/coldbench/coldbench/internal/runner"
	"github.com/coldbench/coldbench/results"
	"github.com/coldbench/coldbench/scenarios"
)

// noiseScenario is a short steady run on the emulator at full CPU, so the
// handler time is exactly `handler`: 300 requests, about 280 warm and 20
// cold, plenty for the medians the default gate compares.
func noiseScenario(t *testing.T, handler time.Duration) *scenarios.Scenario {
	t.Helper()
	src := fmt.Sprintf(`
name: noise
target: {driver: sim, memory_mb: 1769, handler: %s, handler_jitter: 3ms, keep_alive: 60s, init: {mean: 100ms, stddev: 10ms}, seed: 1}
phases:
  - {name: steady, duration: 1s, rate: 300/s}
`, handler)
	s, err := scenarios.Parse("noise.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// runIn runs s in-process into dir and returns the record.
func runIn(t *testing.T, s *scenarios.Scenario, dir string) *results.Run {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := runner.Run(ctx, runner.Config{Scenario: s, Dir: dir, Version: "test"})
	if err != nil {
		t.Fatalf("run into %s: %v", dir, err)
	}
	return res.Run
}

// TestCompareNoise: pairs of runs of one scenario on the emulator are
// never called worse (or better) on a gated metric, and each pair's
// overall verdict is same (20 pairs, default options); with the warm
// handler time raised by 30% the new run is worse on warm p50. The
// verdict path, JUnit, Markdown and a baseline set and compared against
// are then driven through the binary, with exit codes 0 and 1.
//
// The runs go one after another: two at once on a loaded 2-core machine
// stall each other by seconds, which no statistics should excuse.
func TestCompareNoise(t *testing.T) {
	if testing.Short() {
		t.Skip("40 runs of the emulator")
	}
	if raceEnabled {
		// Under the detector the generator itself stalls for seconds and
		// 40 runs take four minutes: `make test` runs this test again
		// without -race.
		t.Skip("measures latency; run without -race (make test does)")
	}
	const handler = 50 * time.Millisecond
	dir := t.TempDir()
	s := noiseScenario(t, handler)
	start := time.Now()
	var x, y []*results.Run
	for i := range 20 {
		x = append(x, runIn(t, s, filepath.Join(dir, fmt.Sprint("x", i))))
		y = append(y, runIn(t, s, filepath.Join(dir, fmt.Sprint("y", i))))
	}
	t.Logf("40 runs in %s", time.Since(start).Round(time.Millisecond))

	opts := compare.DefaultOptions()
	same := 0
	for k := range 20 {
		res, err := compare.Runs(x[k], y[k], opts)
		if err != nil {
			t.Fatal(err)
		}
		var line []string
		for _, c := range res.Changes {
			if c.Phase != "" || !(c.Gated || c.Metric == "warm.p99") {
				continue
			}
			line = append(line, fmt.Sprintf("%s %.1f→%.1f [%.1f,%.1f] %s", c.Metric, scaled(c, c.Base), scaled(c, c.New), scaled(c, c.Lo), scaled(c, c.Hi), c.Verdict))
			if c.Gated && (c.Verdict == compare.Worse || c.Verdict == compare.Better) {
				t.Errorf("pair %d: %s is %s on two runs of one scenario: a false alarm", k, c.Metric, c.Verdict)
			}
		}
		t.Logf("pair %2d: %s; %s", k, res.Verdict, strings.Join(line, "; "))
		for _, n := range res.Notes {
			t.Logf("pair %2d: note: %s", k, n)
		}
		if res.Verdict == compare.Same {
			same++
		}
	}
	if same != 20 {
		t.Errorf("%d of 20 pairs are same, want all", same)
	}

	slowDir := filepath.Join(dir, "slow")
	slow := runIn(t, noiseScenario(t, handler*13/10), slowDir)
	res, err := compare.Runs(x[0], slow, opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range res.Gated() {
		t.Logf("slow: %s %.1f→%.1f [%.1f,%.1f] min %.1f: %s", c.Metric, scaled(c, c.Base), scaled(c, c.New), scaled(c, c.Lo), scaled(c, c.Hi), scaled(c, c.MinEffect), c.Verdict)
	}
	if c := res.Gated()[0]; c.Metric != "warm.p50" || c.Verdict != compare.Worse || res.Verdict != compare.Worse {
		t.Errorf("30%% slower handler: warm.p50 %s, overall %s; want worse", c.Verdict, res.Verdict)
	}

	// Through the binary: the regression exits 1 and writes the files.
	junit, md := filepath.Join(dir, "compare.xml"), filepath.Join(dir, "compare.md")
	out, code := coldbench(t, "compare", filepath.Join(dir, "x0"), slowDir, "--junit", junit, "--markdown", md)
	if code != exitThreshold || !strings.Contains(out, "compare: WORSE (warm.p50") {
		t.Errorf("compare against the slow run: exit %d, want 1 and WORSE:\n%s", code, out)
	}
	var doc struct {
		Suites []struct {
			Cases []struct {
				Name    string    `xml:"name,attr"`
				Failure *struct{} `xml:"failure"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	b, err := os.ReadFile(junit)
	if err == nil {
		err = xml.Unmarshal(b, &doc)
	}
	if err != nil || len(doc.Suites) != 1 || len(doc.Suites[0].Cases) != 3 || doc.Suites[0].Cases[0].Failure == nil {
		t.Errorf("JUnit (%v): want one suite of 3 cases, warm.p50 failed:\n%s", err, b)
	}
	if b, err := os.ReadFile(md); err != nil || !strings.Contains(string(b), "| Metric | Base | New |") {
		t.Errorf("Markdown (%v):\n%s", err, b)
	}

	// A baseline from the cache directory named by the environment, and a
	// run of the same scenario against it: exit 0.
	env := []string{"COLDBENCH_BASELINES=" + filepath.Join(dir, "cache")}
	if out, code := coldbenchEnv(t, "", env, "baseline", "set", filepath.Join(dir, "x0"), "nightly"); code != 0 {
		t.Fatalf("baseline set: exit %d\n%s", code, out)
	}
	if out, code := coldbenchEnv(t, "", env, "baseline", "list"); code != 0 || !strings.Contains(out, "nightly") {
		t.Errorf("baseline list: exit %d\n%s", code, out)
	}
	out, code = coldbenchEnv(t, "", env, "compare", "--baseline", "nightly", filepath.Join(dir, "y19"))
	if code != exitOK || !strings.Contains(out, "compare: same") {
		t.Errorf("compare --baseline nightly against a run of the same scenario: exit %d, want 0 and same:\n%s", code, out)
	}
	if out, code := coldbenchEnv(t, "", env, "compare", "--baseline", "nope", filepath.Join(dir, "y19")); code != exitUsage {
		t.Errorf("compare against a missing baseline: exit %d, want 2\n%s", code, out)
	}
}

// scaled shows a change's number in ms or percent.
func scaled(c compare.Change, v float64) float64 {
	if c.Unit == "share" {
		return v * 100
	}
	return v
}
