package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/coldbench/coldbench/internal/trend"
)

// TestTrend: five nightly runs of which the fourth is slower (its handler
// takes 400 ms instead of 5; --min-effect 100% keeps a loaded machine's
// noise between the fast runs from counting). trend, given them out of order and by glob,
// puts them in time order, marks the fourth as worse than the third (and
// only it), marks the baseline set from the second, draws the slowdown,
// and writes a self-contained page.
func TestTrend(t *testing.T) {
	root := t.TempDir()
	nights := filepath.Join(root, "nightly")
	for i := range 5 {
		handler := "5ms"
		if i == 3 {
			handler = "400ms"
		}
		p := writeScenario(t, fmt.Sprintf(`
name: nightly
target: {driver: sim, memory_mb: 1769, keep_alive: 60s, handler: %s, handler_jitter: 1ms, init: {mean: 100ms, stddev: 5ms}, seed: %d}
seed: %d
phases:
  - {name: steady, duration: 2s, rate: 50/s}
`, handler, i+1, i+1))
		if out, code := coldbench(t, "run", p, "--quiet", "--out", filepath.Join(nights, fmt.Sprintf("night-%c", 'e'-i))); code != 0 {
			t.Fatalf("run %d: exit %d\n%s", i, code, out)
		}
	}
	// Night names run backwards (night-e is the first), so that name
	// order is not time order.
	bases := filepath.Join(root, "baselines")
	if out, code := coldbench(t, "baseline", "set", filepath.Join(nights, "night-d"), "good", "--baselines", bases); code != 0 {
		t.Fatalf("baseline set: exit %d\n%s", code, out)
	}
	outDir := filepath.Join(root, "trend")
	if out, code := coldbench(t, "trend", filepath.Join(nights, "night-*"), "--baselines", bases, "--min-effect", "100%", "--out", outDir); code != 0 {
		t.Fatalf("trend: exit %d\n%s", code, out)
	}

	var tr trend.Trend
	b, err := os.ReadFile(filepath.Join(outDir, "trend.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &tr); err != nil {
		t.Fatal(err)
	}
	if len(tr.Points) != 5 {
		t.Fatalf("%d runs, want 5", len(tr.Points))
	}
	for i, p := range tr.Points {
		if want := fmt.Sprintf("night-%c", 'e'-i); filepath.Base(p.Dir) != want {
			t.Errorf("run %d is %s, want %s: not in time order", i+1, p.Dir, want)
		}
		if p.WarmP50 == nil {
			t.Fatalf("run %d: no warm p50", i+1)
		}
		// The data behind the latency chart: run 4 stands out.
		if i != 3 && *p.WarmP50*2 > *tr.Points[3].WarmP50 {
			t.Errorf("run %d: warm p50 %.1f ms, run 4's %.1f ms", i+1, *p.WarmP50, *tr.Points[3].WarmP50)
		}
		if p.Regressed() != (i == 3) {
			t.Errorf("run %d: vs previous %q (worse: %v); want worse only for run 4", i+1, p.VsPrevious, p.Worse)
		}
		if got := strings.Join(p.Baselines, ","); (got == "good") != (i == 1) || got != "" && got != "good" {
			t.Errorf("run %d: baselines %q", i+1, got)
		}
	}
	if !strings.Contains(strings.Join(tr.Points[3].Worse, ","), "warm.p50") {
		t.Errorf("run 4 worse in %v, want warm.p50 among them", tr.Points[3].Worse)
	}

	// The table marks it; the chart labels it.
	md, err := os.ReadFile(filepath.Join(outDir, "report.md"))
	if err != nil {
		t.Fatal(err)
	}
	rows := regexp.MustCompile(`(?m)^\| (?:\*\*)?(\d)(?:\*\*)? \|.*$`).FindAllStringSubmatch(string(md), -1)
	if len(rows) != 5 {
		t.Fatalf("report.md: %d run rows, want 5:\n%s", len(rows), md)
	}
	for i, r := range rows {
		if marked := strings.Contains(r[0], "▲ worse"); marked != (i == 3) {
			t.Errorf("report.md row %d: %s", i+1, r[0])
		}
		if based := strings.Contains(r[0], "| good |"); based != (i == 1) {
			t.Errorf("report.md row %d baseline: %s", i+1, r[0])
		}
	}
	svg, err := os.ReadFile(filepath.Join(outDir, "trend-latency.svg"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(svg), "worse") || !strings.Contains(string(svg), "baseline good") {
		t.Error("trend-latency.svg: the worse run or the baseline is not labelled")
	}

	// Self-contained: every reference in the page is inline or an anchor.
	page, err := os.ReadFile(filepath.Join(outDir, "report.html"))
	if err != nil {
		t.Fatal(err)
	}
	refs := regexp.MustCompile(`(?i)\b(?:src|href|url)\s*[=(]\s*["']?([^"' )>]*)`).FindAllStringSubmatch(string(page), -1)
	imgs := 0
	for _, m := range refs {
		switch {
		case strings.HasPrefix(m[1], "data:image/"):
			imgs++
		case strings.HasPrefix(m[1], "#"):
		default:
			t.Errorf("report.html refers to %q: not self-contained", m[1])
		}
	}
	if imgs != 2 {
		t.Errorf("report.html has %d inline images, want the 2 charts", imgs)
	}
	if regexp.MustCompile(`https?://`).Match(page) {
		t.Error("report.html holds an external URL")
	}
}
