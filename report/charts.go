package report

import (
	"fmt"
	"image/color"
	"math"

	"github.com/HdrHistogram/hdrhistogram-go"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"github.com/coldbench/coldbench/drivers"
	"github.com/coldbench/coldbench/results"
)

// File stems of a plain run's charts.
const (
	ChartDistribution = "latency-cold-warm"
	ChartSpectrum     = "latency-spectrum"
	ChartTimeline     = "latency-over-time"
)

// Distribution is one latency distribution to chart: an HDR histogram of
// durations in microseconds, as coldbench stores them (Stats.Hist,
// Percentiles.Decode).
type Distribution struct {
	Name  string
	Hist  *hdrhistogram.Histogram
	Color color.Color // nil for the Palette's colour at its position
}

// tempDists are the latency distributions of a run's successful requests
// by temperature, all phases together: cold, warm, and unknown when any
// request's temperature was not known.
func tempDists(s *results.Stats) ([]Distribution, error) {
	var out []Distribution
	for _, t := range []struct {
		temp drivers.Temperature
		name string
		clr  color.Color
	}{{drivers.Cold, "cold", coldColor}, {drivers.Warm, "warm", warmColor}, {drivers.Unknown, "unknown temperature", unknownColor}} {
		h, err := s.Hist(t.temp)
		if err != nil {
			return nil, fmt.Errorf("%s latency: %w", t.name, err)
		}
		if h.TotalCount() > 0 {
			out = append(out, Distribution{Name: fmt.Sprintf("%s (%d)", t.name, h.TotalCount()), Hist: h, Color: t.clr})
		}
	}
	return out, nil
}

// chartSpec is one chart a run can have, known without drawing it, so that
// report.md can link the chart files without rendering them.
type chartSpec struct {
	name, title string
	draw        func(*results.Run) (Chart, error)
}

// runChartSpecs lists the charts r has data for, in report order.
func runChartSpecs(r *results.Run) []chartSpec {
	var specs []chartSpec
	if r.Totals.Cold.Count+r.Totals.Warm.Count > 0 || r.Totals.Unknown != nil && r.Totals.Unknown.Count > 0 {
		specs = append(specs,
			chartSpec{ChartDistribution, "Latency distribution, cold vs warm", func(r *results.Run) (Chart, error) {
				d, err := tempDists(&r.Totals)
				if err != nil {
					return Chart{}, err
				}
				return DistributionChart(ChartDistribution, "Latency distribution, cold vs warm", d)
			}},
			chartSpec{ChartSpectrum, "Latency by percentile, cold vs warm", func(r *results.Run) (Chart, error) {
				d, err := tempDists(&r.Totals)
				if err != nil {
					return Chart{}, err
				}
				return SpectrumChart(ChartSpectrum, "Latency by percentile, cold vs warm", d)
			}})
	}
	if hasTimeline(r) {
		specs = append(specs, chartSpec{ChartTimeline, "Latency over time", timelineChart})
	}
	return specs
}

// RunCharts draws a plain run's charts: the cold vs warm latency
// distribution, the percentile spectrum, and latency over time with the
// cold starts marked. Charts without data (a run with no successful
// request, a record without a timeline) are left out.
func RunCharts(r *results.Run) ([]Chart, error) {
	var charts []Chart
	for _, s := range runChartSpecs(r) {
		c, err := s.draw(r)
		if err != nil {
			return nil, fmt.Errorf("chart %s: %w", s.name, err)
		}
		charts = append(charts, c)
	}
	return charts, nil
}

// DistributionChart draws latency distributions as step outlines over
// shared bins of equal width on a log axis in milliseconds; the height of
// a bin is the share of its distribution's requests in it, so that a few
// cold starts and many warm requests compare. Empty distributions are left
// out; it fails when all are empty.
func DistributionChart(name, title string, dists []Distribution) (Chart, error) {
	dists = nonEmpty(dists)
	if len(dists) == 0 {
		return Chart{}, fmt.Errorf("chart %q: no samples", title)
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, d := range dists {
		lo = math.Min(lo, ms(d.Hist.Min()))
		hi = math.Max(hi, ms(d.Hist.Max()))
	}
	lo, hi = math.Max(lo, 0.001)/1.05, hi*1.05
	// About 50 bins over the range: enough to show shape, few enough that
	// each holds some of a few hundred requests.
	decades := math.Log10(hi / lo)
	perDecade := math.Min(40, math.Max(8, math.Round(50/math.Max(decades, 0.1))))
	n := max(1, int(math.Ceil(decades*perDecade)))
	edge := func(i int) float64 { return lo * math.Pow(10, float64(i)/perDecade) }

	f := newFigure(title, "latency (ms, log scale)", true)
	p := f.addPanel("share of requests per bin (%)", false)
	for i, d := range dists {
		counts := make([]float64, n)
		for _, b := range d.Hist.Distribution() {
			if b.Count == 0 {
				continue
			}
			mid := ms((b.From + b.To) / 2)
			k := min(n-1, max(0, int(math.Log10(mid/lo)*perDecade)))
			counts[k] += float64(b.Count)
		}
		first, last := n, -1
		for k, c := range counts {
			if c > 0 {
				first, last = min(first, k), k
			}
		}
		total := float64(d.Hist.TotalCount())
		// The outline: up from zero at the first bin's left edge, across
		// each bin at its height, down to zero after the last.
		xys := plotter.XYs{{X: edge(first), Y: 0}}
		for k := first; k <= last; k++ {
			y := 100 * counts[k] / total
			xys = append(xys, plotter.XY{X: edge(k), Y: y}, plotter.XY{X: edge(k + 1), Y: y})
		}
		xys = append(xys, plotter.XY{X: edge(last + 1), Y: 0})
		l, err := plotter.NewLine(xys)
		if err != nil {
			return Chart{}, err
		}
		clr := distColor(d, i)
		l.LineStyle.Color, l.LineStyle.Width = clr, vg.Points(1.6)
		l.FillColor = translucent(clr, 0x40)
		p.Add(l)
		f.addLegend(d.Name, l)
	}
	return f.render(name)
}

// SpectrumChart draws latency against percentile as HdrHistogram plots
// its percentile distributions: the x axis is 1/(1−q) on a log scale,
// labelled 0%, 90%, 99%, 99.9%…, so that the tail gets room; latency is in
// milliseconds on a log scale, so that cold and warm both show. The
// points are those of the .hgrm export (HGRM). Empty distributions are
// left out; it fails when all are empty.
func SpectrumChart(name, title string, dists []Distribution) (Chart, error) {
	dists = nonEmpty(dists)
	if len(dists) == 0 {
		return Chart{}, fmt.Errorf("chart %q: no samples", title)
	}
	f := newFigure(title, "percentile", true)
	p := f.addPanel("latency (ms, log scale)", true)
	xmax := 100.0 // at least to 99%
	for i, d := range dists {
		var xys plotter.XYs
		for _, b := range d.Hist.CumulativeDistributionWithTicks(hgrmTicks) {
			if b.Quantile >= 100 {
				break // 1/(1−q) is infinite; the line before holds the max
			}
			x := 1 / (1 - b.Quantile/100)
			xys = append(xys, plotter.XY{X: x, Y: math.Max(ms(b.ValueAt), 0.001)})
			xmax = math.Max(xmax, x)
		}
		if len(xys) == 1 { // a single sample: one value at every percentile
			xys = append(xys, plotter.XY{X: 10, Y: xys[0].Y})
		}
		l, err := plotter.NewLine(xys)
		if err != nil {
			return Chart{}, err
		}
		l.LineStyle.Color, l.LineStyle.Width = distColor(d, i), vg.Points(1.8)
		p.Add(l)
		f.addLegend(d.Name, l)
	}
	f.xMin, f.xMax = 1, math.Pow(10, math.Ceil(math.Log10(xmax)-1e-9))
	f.xTicker = percentileTicks{}
	return f.render(name)
}

// percentileTicks labels a 1/(1−q) axis with q: 1 is 0%, 10 is 90%, 100
// is 99%, and so on.
type percentileTicks struct{}

// Ticks implements plot.Ticker.
func (percentileTicks) Ticks(lo, hi float64) []plot.Tick {
	var ticks []plot.Tick
	for _, v := range logSteps(lo, hi, []int{1, 2, 3, 4, 5, 6, 7, 8, 9}) {
		e := math.Log10(v)
		if math.Abs(e-math.Round(e)) > 1e-9 {
			ticks = append(ticks, plot.Tick{Value: v})
			continue
		}
		ticks = append(ticks, plot.Tick{Value: v, Label: tickLabel(100*(1-1/v)) + "%"})
	}
	return ticks
}

func nonEmpty(dists []Distribution) []Distribution {
	var out []Distribution
	for _, d := range dists {
		if d.Hist != nil && d.Hist.TotalCount() > 0 {
			out = append(out, d)
		}
	}
	return out
}

func distColor(d Distribution, i int) color.Color {
	if d.Color != nil {
		return d.Color
	}
	return Palette[i%len(Palette)]
}

// translucent is clr with alpha a, premultiplied as color.RGBA wants.
func translucent(clr color.Color, a uint8) color.Color {
	r, g, b, _ := clr.RGBA()
	k := uint32(a)
	return color.RGBA{R: uint8(r >> 8 * k / 255), G: uint8(g >> 8 * k / 255), B: uint8(b >> 8 * k / 255), A: a}
}

// ms converts microseconds, the unit of coldbench histograms, to
// milliseconds.
func ms(us int64) float64 { return float64(us) / 1000 }
