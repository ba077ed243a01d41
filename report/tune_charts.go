package report

import (
	"fmt"
	"path/filepath"
	"slices"

	"github.com/coldbench/coldbench/results"
)

// File stems of a tuning run's own charts.
const (
	ChartTuneMemory  = "tune-memory"
	ChartTunePrewarm = "tune-prewarm"
	ChartTuneTrade   = "tune-cost-latency"
)

// TuneCharts draws a tuning run's charts from its complete settings:
//
//   - warm p50 and p99 against memory (at the winner's prewarm level),
//     over the monthly cost against memory, a line per prewarm level;
//   - the projected cold-start rate against prewarm, a line per memory
//     size, over the monthly cost against prewarm;
//   - monthly cost against typical time in the function, every setting a
//     point.
//
// The recommended setting is marked on each. A chart needs two values on
// its axis: a sweep of one memory size has no memory chart.
func TuneCharts(t *results.Tune) ([]Chart, error) {
	var done []*results.TuneSetting
	for i := range t.Settings {
		if t.Settings[i].Complete {
			done = append(done, &t.Settings[i])
		}
	}
	if len(done) == 0 {
		return nil, nil
	}
	win := done[0]
	if rec := t.Recommendation; rec != nil {
		if s := t.Setting(rec.Winner); s != nil && s.Complete {
			win = s
		}
	}
	mems, pres := axis(done, memoryOf), axis(done, prewarmOf)
	var charts []Chart
	if len(mems) > 1 {
		c, err := memoryChart(done, win, mems, pres)
		if err != nil {
			return nil, err
		}
		charts = append(charts, c)
	}
	if len(pres) > 1 {
		c, err := prewarmChart(done, win, mems, pres)
		if err != nil {
			return nil, err
		}
		charts = append(charts, c)
	}
	if len(done) > 1 {
		c, err := tradeChart(done, win, pres)
		if err != nil {
			return nil, err
		}
		charts = append(charts, c)
	}
	return charts, nil
}

func memoryOf(s *results.TuneSetting) int  { return s.MemoryMB }
func prewarmOf(s *results.TuneSetting) int { return s.Prewarm }

// axis lists the distinct values of key, ascending.
func axis(ss []*results.TuneSetting, key func(*results.TuneSetting) int) []int {
	var out []int
	for _, s := range ss {
		if !slices.Contains(out, key(s)) {
			out = append(out, key(s))
		}
	}
	slices.Sort(out)
	return out
}

// line collects the settings that pass keep into a series of x against y,
// ordered by x.
func line(ss []*results.TuneSetting, name string, keep func(*results.TuneSetting) bool, x, y func(*results.TuneSetting) float64) Series {
	s := Series{Name: name}
	sorted := slices.Clone(ss)
	slices.SortStableFunc(sorted, func(a, b *results.TuneSetting) int {
		switch xa, xb := x(a), x(b); {
		case xa < xb:
			return -1
		case xa > xb:
			return 1
		}
		return 0
	})
	for _, t := range sorted {
		if keep(t) {
			s.X, s.Y = append(s.X, x(t)), append(s.Y, y(t))
		}
	}
	return s
}

func floats(xs []int) []float64 {
	out := make([]float64, len(xs))
	for i, x := range xs {
		out[i] = float64(x)
	}
	return out
}

func memoryChart(done []*results.TuneSetting, win *results.TuneSetting, mems, pres []int) (Chart, error) {
	mem := func(s *results.TuneSetting) float64 { return float64(s.MemoryMB) }
	atWin := func(s *results.TuneSetting) bool { return s.Prewarm == win.Prewarm && s.Warm.Count > 0 }
	top := []Series{
		line(done, fmt.Sprintf("warm p50 (prewarm %d)", win.Prewarm), atWin, mem, func(s *results.TuneSetting) float64 { return s.Warm.P50Ms }),
		line(done, fmt.Sprintf("warm p99 (prewarm %d)", win.Prewarm), atWin, mem, func(s *results.TuneSetting) float64 { return s.Warm.P99Ms }),
	}
	top = slices.DeleteFunc(top, func(s Series) bool { return len(s.X) == 0 })
	if len(top) == 0 {
		top = []Series{line(done, "typical time", func(*results.TuneSetting) bool { return true }, mem,
			func(s *results.TuneSetting) float64 { return s.TypicalMs })}
	}
	var costs []Series
	for _, p := range pres {
		s := line(done, fmt.Sprintf("cost, prewarm %d", p), func(s *results.TuneSetting) bool { return s.Prewarm == p }, mem,
			func(s *results.TuneSetting) float64 { return s.Cost.Monthly })
		s.Highlight = p == win.Prewarm
		costs = append(costs, s)
	}
	return LineChart("Warm latency and monthly cost by memory size", "memory (MB)", "warm latency (ms)", top,
		ChartName(ChartTuneMemory), XTicks(floats(mems)...),
		Below(Panel{YLabel: "monthly cost (US$)", Series: costs}),
		Mark(float64(win.MemoryMB), fmt.Sprintf("recommended: %d MB", win.MemoryMB)))
}

func prewarmChart(done []*results.TuneSetting, win *results.TuneSetting, mems, pres []int) (Chart, error) {
	pre := func(s *results.TuneSetting) float64 { return float64(s.Prewarm) }
	// A memory size has one colour in both panels and one legend entry.
	var rates, costs []Series
	for i, m := range mems {
		at := func(s *results.TuneSetting) bool { return s.MemoryMB == m }
		r := line(done, fmt.Sprintf("%d MB", m), at, pre, func(s *results.TuneSetting) float64 { return 100 * s.Cost.ColdRate })
		c := line(done, "", at, pre, func(s *results.TuneSetting) float64 { return s.Cost.Monthly })
		r.Highlight, c.Highlight = m == win.MemoryMB, m == win.MemoryMB
		r.Color, c.Color = Palette[i%len(Palette)], Palette[i%len(Palette)]
		rates, costs = append(rates, r), append(costs, c)
	}
	return LineChart("Projected cold-start rate and monthly cost by prewarm level", "prewarmed instances", "cold-start rate (%)", rates,
		ChartName(ChartTunePrewarm), XTicks(floats(pres)...),
		Below(Panel{YLabel: "monthly cost (US$)", Series: costs}),
		Mark(float64(win.Prewarm), fmt.Sprintf("recommended: prewarm %d", win.Prewarm)))
}

func tradeChart(done []*results.TuneSetting, win *results.TuneSetting, pres []int) (Chart, error) {
	var pts []Series
	for _, p := range pres {
		s := line(done, fmt.Sprintf("prewarm %d", p), func(s *results.TuneSetting) bool { return s.Prewarm == p },
			func(s *results.TuneSetting) float64 { return s.TypicalMs }, func(s *results.TuneSetting) float64 { return s.Cost.Monthly })
		s.Points = true
		pts = append(pts, s)
	}
	return LineChart("Monthly cost against typical time in the function, every setting", "typical time (ms)", "monthly cost (US$)", pts,
		ChartName(ChartTuneTrade),
		MarkPoint(win.TypicalMs, win.Cost.Monthly, fmt.Sprintf("recommended: %d MB, prewarm %d", win.MemoryMB, win.Prewarm)))
}

// TunePage builds the report page of a tuning run in dir: the
// recommendation first, then the settings table and the cost breakdown,
// the tuning charts followed by the charts of the winner's own run (from
// its run directory under dir, when the phases ran), the scenario, the
// environment, and tune.json as the raw numbers.
func TunePage(dir string, t *results.Tune) (Page, error) {
	p := Page{Title: "coldbench tuning run: " + t.Scenario, Env: tuneEnv(t), Raw: t}
	p.Lead, p.Sections = TuneSections(t)
	charts, err := TuneCharts(t)
	if err != nil {
		return Page{}, err
	}
	p.Charts = charts
	if rec := t.Recommendation; rec != nil && dir != "" {
		if s := t.Setting(rec.Winner); s != nil && s.RunDir != "" {
			run, err := results.Load(filepath.Join(dir, filepath.FromSlash(s.RunDir)))
			if err != nil {
				return Page{}, fmt.Errorf("the recommended setting's run: %w", err)
			}
			rc, err := RunCharts(run)
			if err != nil {
				return Page{}, fmt.Errorf("the recommended setting's run: %w", err)
			}
			for _, c := range rc {
				c.Name = "winner-" + c.Name
				c.Title = fmt.Sprintf("%s, at the recommended %s (scenario phases)", c.Title, settingLabel(s))
				p.Charts = append(p.Charts, c)
			}
		}
	}
	if p.Scenario, err = scenarioText(dir); err != nil {
		return Page{}, err
	}
	return p, nil
}

// tuneEnv lists what the tuning run ran on and against.
func tuneEnv(t *results.Tune) [][2]string {
	restored := "yes"
	if !t.Restored {
		restored = "no: " + orDash(t.RestoreError)
	}
	return headerEnv(t.Header, t.Host, [][2]string{
		{"Original setting", fmt.Sprintf("%d MB, prewarm %d (from %s)", t.Original.MemoryMB, t.Original.Prewarm, t.Original.Source)},
		{"Original restored", restored},
	}, nil)
}

// WriteTuneFiles writes a tuning run's reports into dir: the charts (PNG
// and SVG), report.md and report.html, each replaced atomically.
func WriteTuneFiles(dir string, t *results.Tune) error {
	p, err := TunePage(dir, t)
	if err != nil {
		return err
	}
	return WritePage(dir, p)
}
