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

// tuneRecord is a tuning record of 2 memory sizes × 2 prewarm levels, the
// last one failed, with 1769 MB without prewarm the winner over the
// current 1024 MB.
func tuneRecord() *results.Tune {
	t := &results.Tune{
		Header: results.Header{
			Schema:     results.TuneSchema,
			Scenario:   "checkout",
			Target:     "sim in-process emulator",
			Driver:     "sim",
			StartedAt:  time.Date(2026, 11, 25, 17, 0, 0, 0, time.UTC),
			FinishedAt: time.Date(2026, 11, 25, 17, 2, 0, 0, time.UTC),
		},
		Strategy: "cost",
		Traffic:  results.TuneTraffic{Description: "1,000,000 requests a month", RequestsPerMonth: 1e6},
		Pricing: results.TunePricing{Table: "aws-lambda-x86_64", Description: "AWS Lambda, x86_64, us-east-1",
			Source: "aws.amazon.com/lambda/pricing, as published on 2025-01-15", GranularityMs: 1},
		Mechanism: "provisioned",
		KeepAlive: results.TuneKeepAlive{S: 300, Source: "default"},
		Samples:   results.TuneSamples{Cold: 10, Warm: 50},
		Original:  results.TuneOriginal{MemoryMB: 1024, Source: "describe"},
		Restored:  true,
		Error:     "setting 1769 MB, prewarm 2: configure: quota exceeded",
	}
	add := func(mem, pre int, warm, cold, coldRate, monthly float64, complete bool) {
		s := results.TuneSetting{
			Name: results.SettingName(mem, pre), MemoryMB: mem, Prewarm: pre, Complete: complete,
			Current: mem == 1024 && pre == 0,
			Warm:    results.Percentiles{Count: 50, P50Ms: warm, P99Ms: warm * 1.2},
			Cold:    results.Percentiles{Count: 10, P50Ms: cold, P99Ms: cold * 1.1},
			Billed:  results.TuneBilled{Source: "platform", WarmMeanMs: warm},
			Cost:    results.TuneCost{ColdRate: coldRate, Monthly: monthly, PerMillion: monthly, Requests: 0.2, Duration: monthly - 0.2},
		}
		s.TypicalMs = (1-coldRate)*warm + coldRate*cold
		if !complete {
			s.Error = "configure: quota exceeded"
		}
		t.Settings = append(t.Settings, s)
	}
	add(1024, 0, 40, 300, 0.05, 1.40, true)
	add(1024, 2, 40, 300, 0.001, 23.1, true)
	add(1769, 0, 23, 280, 0.05, 1.38, true)
	add(1769, 2, 0, 0, 0, 0, false)
	t.Recommendation = &results.Recommendation{
		Strategy: "cost", Winner: "1769mb-p0", RunnerUp: "1024mb-p0", Partial: true,
		Reason: "1769 MB without prewarm is the cheapest setting at $1.38 a month.",
		Before: &results.TuneSnapshot{Setting: "1024mb-p0", ColdP99Ms: 330, WarmP99Ms: 48, ColdRate: 0.05, Monthly: 1.40},
		After:  results.TuneSnapshot{Setting: "1769mb-p0", ColdP99Ms: 308, WarmP99Ms: 27.6, ColdRate: 0.05, Monthly: 1.38},
	}
	for i := range t.Settings {
		t.Settings[i].Rank = map[string]int{"1769mb-p0": 1, "1024mb-p0": 2, "1024mb-p2": 3}[t.Settings[i].Name]
	}
	return t
}

func TestTuneText(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	if err := TuneText(&b, tuneRecord()); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"INCOMPLETE: setting 1769 MB, prewarm 2: configure: quota exceeded; 3 settings measured",
		"RECOMMENDATION (strategy cost): 1769 MB, prewarm 0",
		"1769 MB without prewarm is the cheapest",
		"Runner-up: 1024 MB, prewarm 0.",
		"Monthly cost     $1.40               $1.38",
		"★ 1769mb-p0",
		"1024mb-p0 (current)",
		"failed",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("text lacks %q:\n%s", want, out)
		}
	}
}

// TestTunePage pins the structure of the tuning report: its sections in
// order, the settings table's columns, and that report.html is
// self-contained with every chart inline.
func TestTunePage(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	rec := tuneRecord()
	if err := os.WriteFile(filepath.Join(dir, results.ScenarioFile), []byte("name: checkout\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := TunePage(dir, rec)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, s := range append(append([]Section(nil), p.Lead...), p.Sections...) {
		ids = append(ids, s.ID)
	}
	if strings.Join(ids, ",") != "recommendation,settings,cost-model" {
		t.Errorf("sections %v", ids)
	}
	st := settingsTable(rec)
	if got := strings.Join(st.Header, "|"); got != "Setting|Memory (MB)|Prewarm|Cold p50|Cold p99|Warm p50|Warm p99|Cold-start rate|Typical|Per 1M|Monthly|Rank" {
		t.Errorf("settings columns %s", got)
	}
	if len(st.Strong) != 1 || st.Rows[st.Strong[0]][0] != "★ 1769mb-p0" {
		t.Errorf("winner row %v", st.Strong)
	}
	var names []string
	for _, c := range p.Charts {
		names = append(names, c.Name)
		checkChart(t, c)
	}
	if strings.Join(names, ",") != "tune-memory,tune-prewarm,tune-cost-latency" {
		t.Errorf("charts %v", names)
	}

	if err := WriteTuneFiles(dir, rec); err != nil {
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
	}
	md, err := os.ReadFile(filepath.Join(dir, MarkdownFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"## Recommendation", "**Run at 1769 MB, prewarm 0**", "## Settings", "## How the costs were worked out",
		"| Setting | Memory (MB) |", "![Warm latency and monthly cost by memory size](tune-memory.png)", "as published on 2025-01-15"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("report.md lacks %q", want)
		}
	}
	for _, f := range []string{"tune-memory.png", "tune-memory.svg", "tune-prewarm.png", "tune-cost-latency.svg"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
}

// TestTuneChartsOneAxis: a sweep of one memory size has no memory chart,
// and one of nothing complete has no chart at all.
func TestTuneChartsOneAxis(t *testing.T) {
	t.Parallel()
	rec := tuneRecord()
	rec.Settings = rec.Settings[:2] // 1024 MB only
	charts, err := TuneCharts(rec)
	if err != nil {
		t.Fatal(err)
	}
	if len(charts) != 2 || charts[0].Name != ChartTunePrewarm {
		t.Errorf("%d charts, first %s", len(charts), charts[0].Name)
	}
	rec.Settings = tuneRecord().Settings[3:] // the failed one
	if charts, err := TuneCharts(rec); err != nil || len(charts) != 0 {
		t.Errorf("no complete setting: %d charts, %v", len(charts), err)
	}
}
