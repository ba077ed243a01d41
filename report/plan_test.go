package report

import (
	"bytes"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coldbench/coldbench/results"
)

// planRecord is a capacity plan of five steps from 50/s: the fourth
// passed on a second run, the fifth broke on throttling with p99 up,
// with a projection of 120/s.
func planRecord() *results.Capacity {
	p := &results.Capacity{
		Header: results.Header{
			Schema: results.CapacitySchema, Scenario: "checkout", Target: "sim in-process emulator", Driver: "sim",
			StartedAt: time.Date(2026, 11, 28, 23, 0, 0, 0, time.UTC), FinishedAt: time.Date(2026, 11, 28, 23, 1, 0, 0, time.UTC),
			Complete: true,
		},
		Ramp:     results.CapacityRamp{Rates: []float64{50, 100, 150, 200, 250, 300}, Step: 50, SettleS: 2, MeasureS: 8, Confirm: true},
		Stop:     results.CapacityStop{P99Ms: 250, ErrorRate: 0.01, ThrottleRate: 0.01, MinAchieved: 0.9},
		KneeRise: 0.5,
	}
	for i, r := range []float64{50, 100, 150, 200, 250} {
		s := results.CapacityStep{
			Name: []string{"01-50rps", "02-100rps", "03-150rps", "04-200rps-again2", "05-250rps-again2"}[i], Target: r, Complete: true, Pass: true,
			Sent: int64(8 * r), OK: int64(8 * r), AchievedRPS: r, GoodputRPS: r, Attempts: 1,
			Latency:       results.Percentiles{Count: int64(8 * r), P50Ms: 20 + float64(i*i), P99Ms: 40 + float64(i*i*20)},
			ServiceMeanMs: 21, Concurrency: r * 0.021, Instances: &results.CapacityInstances{Max: 2 + i*2, Mean: 1.5 + float64(i*2), Samples: 30},
			Billed: results.TuneBilled{Source: "platform", WarmMeanMs: 20, ColdMeanMs: 20, BusyMs: 20, Count: int64(8 * r)},
		}
		if i == 3 {
			s.Attempts, s.Overruled = 2, []string{"throttled 1.2% above 1%"}
		}
		if i == 4 {
			s.Pass, s.Attempts, s.Throttled, s.ThrottleRate = false, 2, 60, 0.03
			s.Failures = []string{"p99 360 ms above the SLO 250 ms", "throttled 3% above 1%"}
		}
		p.Steps = append(p.Steps, s)
	}
	p.Result = results.CapacityResult{MaxSustainable: 3, MaxSustainableRPS: 200, Break: 4, BreakRPS: 250, Knee: 3, KneeRPS: 200,
		Baseline: 0, BaselineP50: 20, BaselineP99: 40, KneeReason: "p99 220 ms is 450% above the baseline's 40.0 ms",
		Summary: "Sustained 200/s; broke at 250/s.", StepsRun: 5, StepsPlanned: 6}
	hourly := make([]float64, 24)
	cold := make([]float64, 24)
	for h := range hourly {
		hourly[h], cold[h] = 60, 12
	}
	hourly[12], cold[12] = 120, 30
	p.Projection = &results.CapacityProjection{
		Traffic:     results.TuneTraffic{Description: "60/s shaped by a daily pattern (peak 120/s)", RequestsPerMonth: 1.6e8, PeakPerS: 120, Hourly: hourly},
		TrafficFrom: "scenario", Headroom: 0.2, MemoryMB: 1024, MemoryFrom: "describe", Prewarm: 1,
		KeepAlive: results.TuneKeepAlive{S: 600, Source: "scenario"},
		Pricing: results.TunePricing{Table: "aws-lambda-arm64", Description: "AWS Lambda, arm64, us-east-1", Source: "aws.amazon.com/lambda/pricing",
			GranularityMs: 1},
		DurationFrom: "02-100rps", Billed: results.TuneBilled{Source: "platform", WarmMeanMs: 20, ColdMeanMs: 20, BusyMs: 20, Count: 800},
		PeakConcurrency: 2.4, Instances: 3, ColdStartsPerHour: cold, ColdStartsPerDay: 306, PeakColdPerHour: 30,
		Cost: results.TuneCost{Monthly: 123.4, PerMillion: 0.77},
	}
	return p
}

func TestPlanText(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	if err := CapacityText(&b, planRecord()); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"Sustained 200/s; broke at 250/s.", "04-200rps-again2", "pass (second run; the first: throttled 1.2% above 1%)",
		"FAIL: p99 360 ms above the SLO 250 ms; throttled 3% above 1% (confirmed)", "Instances needed at peak", "3 (with 20% headroom)",
		"306 a day, 30 in the busiest hour", "$123 (1024 MB, aws-lambda-arm64"} {
		if !strings.Contains(out, want) {
			t.Errorf("text lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "INCOMPLETE") {
		t.Errorf("a complete plan flagged incomplete:\n%s", out)
	}
}

// TestPlanPage pins the capacity report: its sections in order, the three
// charts (PNG and SVG that decode), report.html self-contained with every
// chart inline, and report.md's tables well formed.
func TestPlanPage(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	rec := planRecord()
	if err := os.WriteFile(filepath.Join(dir, results.ScenarioFile), []byte("name: checkout\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := CapacityPage(dir, rec)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, s := range append(append([]Section(nil), p.Lead...), p.Sections...) {
		ids = append(ids, s.ID)
	}
	if strings.Join(ids, ",") != "capacity,steps,projection,plan-method" {
		t.Errorf("sections %v", ids)
	}
	var names []string
	for _, c := range p.Charts {
		names = append(names, c.Name)
		checkChart(t, c)
	}
	if strings.Join(names, ",") != "plan-latency,plan-concurrency,plan-errors" {
		t.Errorf("charts %v", names)
	}
	st := stepsTable(rec)
	if len(st.Strong) != 1 || st.Strong[0] != 3 {
		t.Errorf("the maximum sustainable step is not the one in bold: %v", st.Strong)
	}

	if err := WriteCapacityFiles(dir, rec); err != nil {
		t.Fatal(err)
	}
	page, err := os.ReadFile(filepath.Join(dir, HTMLFile))
	if err != nil {
		t.Fatal(err)
	}
	checkSelfContained(t, page)
	srcs := imageSources(page)
	for _, c := range p.Charts {
		if !srcs["data:image/svg+xml;base64,"+base64.StdEncoding.EncodeToString(c.SVG)] {
			t.Errorf("report.html lacks chart %s", c.Name)
		}
		for _, ext := range []string{".png", ".svg"} {
			if _, err := os.Stat(filepath.Join(dir, c.Name+ext)); err != nil {
				t.Error(err)
			}
		}
	}
	md, err := os.ReadFile(filepath.Join(dir, MarkdownFile))
	if err != nil {
		t.Fatal(err)
	}
	tables := checkMarkdownTables(t, md)
	for _, want := range []string{"|  | Rate (req/s) |  |", "| Step | Target (req/s) | Sent (req/s) | p50 (ms) | p99 (ms) | Errors | Throttled | Concurrency | Instances | Result |",
		"| Projection | Value |", "| Hour | Rate (req/s) | Concurrency | Cold starts |"} {
		if !tables[want] {
			t.Errorf("report.md lacks the table headed %s", want)
		}
	}
	for _, want := range []string{"## Capacity", "## Steps", "## Projection", "## How the numbers were worked out",
		"![Latency by request rate (successful requests)](plan-latency.png)", "more than 50% above the baseline"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("report.md lacks %q", want)
		}
	}
}

// checkMarkdownTables checks that every table in md has a header, a
// separator row and rows of the header's width, and returns the headers.
func checkMarkdownTables(t *testing.T, md []byte) map[string]bool {
	t.Helper()
	cells := func(l string) int { // unescaped pipes, less the outer ones
		n := 0
		for i := range l {
			if l[i] == '|' && (i == 0 || l[i-1] != '\\') {
				n++
			}
		}
		return n - 1
	}
	heads := map[string]bool{}
	lines := strings.Split(string(md), "\n")
	for i := 0; i < len(lines); i++ {
		if !strings.HasPrefix(lines[i], "|") {
			continue
		}
		head := lines[i]
		heads[head] = true
		if i+1 >= len(lines) || !mdSeparator.MatchString(lines[i+1]) || cells(lines[i+1]) != cells(head) {
			t.Errorf("table %q: no separator row of its width", head)
		}
		j := i + 2
		for ; j < len(lines) && strings.HasPrefix(lines[j], "|"); j++ {
			if !strings.HasSuffix(lines[j], "|") || cells(lines[j]) != cells(head) {
				t.Errorf("table %q: row %q has %d cells, want %d", head, lines[j], cells(lines[j]), cells(head))
			}
		}
		if j == i+2 {
			t.Errorf("table %q has no rows", head)
		}
		i = j
	}
	if len(heads) == 0 {
		t.Error("no table")
	}
	return heads
}

// TestPlanPageInterrupted: a ramp stopped after one step still renders,
// flagged, without charts.
func TestPlanPageInterrupted(t *testing.T) {
	t.Parallel()
	rec := planRecord()
	rec.Complete, rec.Interrupted = false, "signal: interrupt"
	rec.Steps = rec.Steps[:2]
	rec.Steps[1].Complete = false
	rec.Result = results.CapacityResult{MaxSustainable: 0, MaxSustainableRPS: 50, Break: -1, Knee: -1, Baseline: 0, StepsRun: 1, StepsPlanned: 6,
		Summary: "Sustained 50/s; the ramp stopped before a break was found."}
	rec.Projection = nil
	dir := t.TempDir()
	if err := WriteCapacityFiles(dir, rec); err != nil {
		t.Fatal(err)
	}
	md, err := os.ReadFile(filepath.Join(dir, MarkdownFile))
	if err != nil {
		t.Fatal(err)
	}
	checkMarkdownTables(t, md)
	for _, want := range []string{"> **INCOMPLETE: interrupted (signal: interrupt); 1 of 6 steps measured**", "cut short"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("report.md lacks %q:\n%s", want, md)
		}
	}
	if strings.Contains(string(md), "## Projection") || strings.Contains(string(md), "![") {
		t.Errorf("an interrupted one-step plan shows a projection or charts:\n%s", md)
	}
}
