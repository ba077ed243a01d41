package report

import (
	"fmt"
	"html/template"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/coldbench/coldbench/internal/trend"
)

// This file renders a benchmark's history (trend.Trend): a table of the
// gated metrics run by run, marking the runs compare calls worse than the
// one before and the baselines set, and charts of the same numbers.

// TrendPage is the history as a report page: report.html and report.md
// render it like any other (WriteHTML, WriteMarkdown).
func TrendPage(t *trend.Trend) (Page, error) {
	tb := TrendTable(t)
	note := fmt.Sprintf("Runs in time order. Latencies in ms of successful requests, from the intended send time; rates of requests per second. "+
		"\"vs previous\" is coldbench compare of each run against the one before it (gated: %s; minimum effect %s and %s ms); "+
		"a run it calls worse is marked ▲.", gateNames(t), pct(t.Options.MinEffect), num(t.Options.MinEffectMs))
	worse := 0
	for i := range t.Points {
		if t.Points[i].Regressed() {
			worse++
		}
	}
	lede := fmt.Sprintf("%d runs, %d worse than the run before.", len(t.Points), worse)
	sec := Section{
		ID: "runs", Title: "Runs",
		Markdown: lede + "\n\n" + tb.Markdown() + "\n" + mdText(note) + "\n",
		HTML: template.HTML("<p>"+template.HTMLEscapeString(lede)+"</p>\n") + tb.HTML() +
			template.HTML("<p class=\"note\">"+template.HTMLEscapeString(note)+"</p>\n"),
	}
	charts, err := TrendCharts(t)
	if err != nil {
		return Page{}, err
	}
	title := "coldbench trend"
	if len(t.Points) > 0 && t.Points[0].Scenario != "" {
		title += ": " + t.Points[0].Scenario
	}
	return Page{Title: title, Sections: []Section{sec}, Charts: charts, Raw: t}, nil
}

// TrendTable is one row per run, oldest first.
func TrendTable(t *trend.Trend) Table {
	tb := Table{
		Header: []string{"#", "Run", "Started", "Version", "Warm p50", "Warm p99", "Cold p50", "Cold p99", "Cold-start rate", "Error rate", "Achieved rate", "vs previous", "Baseline"},
		Align:  "rlllrrrrrrrll",
	}
	for i, p := range t.Points {
		vs := "-"
		switch {
		case p.Regressed():
			vs = "▲ worse: " + strings.Join(p.Worse, ", ")
			tb.Strong = append(tb.Strong, i)
		case p.VsPrevious != "":
			vs = string(p.VsPrevious)
		}
		tb.Rows = append(tb.Rows, []string{
			strconv.Itoa(i + 1), filepath.Base(p.Dir), stamp(p.StartedAt), orDash(p.Version),
			msPtr(p.WarmP50), msPtr(p.WarmP99), msPtr(p.ColdP50), msPtr(p.ColdP99),
			percent(p.ColdRate), percent(p.ErrorRate), rps(p.RateAchieved), vs, orDash(strings.Join(p.Baselines, ", ")),
		})
	}
	return tb
}

// TrendSeries are the numbers the trend charts draw, by chart: x is the
// run's number (1 is the oldest); a run without a value (no cold start)
// has no point.
func TrendSeries(t *trend.Trend) (latency, rates []Series) {
	line := func(name string, f func(p *trend.Point) (float64, bool)) Series {
		s := Series{Name: name}
		for i := range t.Points {
			if v, ok := f(&t.Points[i]); ok {
				s.X, s.Y = append(s.X, float64(i+1)), append(s.Y, v)
			}
		}
		return s
	}
	ptr := func(get func(p *trend.Point) *float64) func(p *trend.Point) (float64, bool) {
		return func(p *trend.Point) (float64, bool) {
			if v := get(p); v != nil {
				return *v, true
			}
			return 0, false
		}
	}
	latency = []Series{
		line("warm p50", ptr(func(p *trend.Point) *float64 { return p.WarmP50 })),
		line("warm p99", ptr(func(p *trend.Point) *float64 { return p.WarmP99 })),
		line("cold p50", ptr(func(p *trend.Point) *float64 { return p.ColdP50 })),
		line("cold p99", ptr(func(p *trend.Point) *float64 { return p.ColdP99 })),
	}
	rates = []Series{
		line("cold-start rate", func(p *trend.Point) (float64, bool) { return 100 * p.ColdRate, true }),
		line("error rate", func(p *trend.Point) (float64, bool) { return 100 * p.ErrorRate, true }),
	}
	return latency, rates
}

// TrendCharts draws the latency percentiles, and the cold-start and error
// rates over the achieved rate, run by run; a run compare calls worse is
// marked on both, a baseline ruled.
func TrendCharts(t *trend.Trend) ([]Chart, error) {
	latency, rates := TrendSeries(t)
	var opts []ChartOption
	var ticks []float64
	for i, p := range t.Points {
		x := float64(i + 1)
		ticks = append(ticks, x)
		if p.Regressed() {
			opts = append(opts, Mark(x, "worse"))
		}
		if len(p.Baselines) > 0 {
			opts = append(opts, VLine(x, "baseline "+strings.Join(p.Baselines, ", ")))
		}
	}
	opts = append(opts, XTicks(ticks...))
	nonEmpty := func(ss []Series) []Series {
		var out []Series
		for _, s := range ss {
			if len(s.X) > 0 {
				out = append(out, s)
			}
		}
		return out
	}
	var charts []Chart
	if l := nonEmpty(latency); len(l) > 0 {
		c, err := LineChart("Latency run by run (ms)", "run", "latency (ms)", l, append(opts, ChartName("trend-latency"))...)
		if err != nil {
			return nil, err
		}
		charts = append(charts, c)
	}
	achieved := Series{Name: "achieved rate"}
	for i, p := range t.Points {
		achieved.X, achieved.Y = append(achieved.X, float64(i+1)), append(achieved.Y, p.RateAchieved)
	}
	c, err := LineChart("Cold starts, errors and rate run by run", "run", "share of requests (%)", rates,
		append(opts, ChartName("trend-rates"), Below(Panel{YLabel: "achieved (req/s)", Series: []Series{achieved}}))...)
	if err != nil {
		return nil, err
	}
	return append(charts, c), nil
}

func msPtr(v *float64) string {
	if v == nil {
		return "-"
	}
	return msCell(*v, 1)
}

func gateNames(t *trend.Trend) string {
	var gs []string
	for _, g := range t.Options.Gate {
		gs = append(gs, g.String())
	}
	return strings.Join(gs, ", ")
}
