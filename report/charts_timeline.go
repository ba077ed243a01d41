package report

import (
	"fmt"

	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/coldbench/coldbench/results"
)

// This file draws latency over a run's time from its Timeline.

// hasTimeline reports whether r has a timeline with a successful request.
func hasTimeline(r *results.Run) bool {
	if r.Timeline == nil {
		return false
	}
	for _, b := range r.Timeline.Buckets {
		if b.OK > 0 {
			return true
		}
	}
	return false
}

// timelineChart draws, per timeline bucket, the p50 and p99 latency of
// successful requests (read from the bucket's coarse bins, so within a
// factor of 1.5) and the sampled cold starts as points, in seconds since
// the start, with the phases' starts as labelled rules.
func timelineChart(r *results.Run) (Chart, error) {
	// A record read from run.json keeps the buckets' bins in their JSON
	// form; rebuilding the tally restores them.
	t, err := r.Tally()
	if err != nil {
		return Chart{}, err
	}
	tl := t.Timeline
	if tl == nil {
		return Chart{}, fmt.Errorf("no timeline")
	}
	step := tl.Step.Seconds()

	// A quantile line breaks where a bucket has no successful request (an
	// idle phase), rather than bridging the gap.
	var p50s, p99s []plotter.XYs
	open := false
	for i := range tl.Buckets {
		b := &tl.Buckets[i]
		if b.OK == 0 {
			open = false
			continue
		}
		if !open {
			p50s, p99s = append(p50s, nil), append(p99s, nil)
			open = true
		}
		x := (float64(i) + 0.5) * step
		p50s[len(p50s)-1] = append(p50s[len(p50s)-1], plotter.XY{X: x, Y: b.Quantile(0.5).Seconds() * 1000})
		p99s[len(p99s)-1] = append(p99s[len(p99s)-1], plotter.XY{X: x, Y: b.Quantile(0.99).Seconds() * 1000})
	}

	dots := len(tl.Buckets) <= 40
	title := "Latency over time"
	f := newFigure(title, "time since start (s)", false)
	p := f.addPanel("latency (ms, log scale)", true)
	for _, q := range []struct {
		name  string
		lines []plotter.XYs
		color int
		width vg.Length
	}{
		{fmt.Sprintf("p50 per %s", tl.Step), p50s, 2, 1.4},
		{fmt.Sprintf("p99 per %s", tl.Step), p99s, 3, 1.8},
	} {
		var first *plotter.Line
		for _, xys := range q.lines {
			l, err := plotter.NewLine(xys)
			if err != nil {
				return Chart{}, err
			}
			l.LineStyle.Color, l.LineStyle.Width = Palette[q.color], vg.Points(float64(q.width))
			p.Add(l)
			if first == nil {
				first = l
			}
			if len(xys) < 3 || dots {
				// A lone bucket draws no line: show it as a point. On
				// a short run show every bucket.
				sc, err := plotter.NewScatter(xys)
				if err != nil {
					return Chart{}, err
				}
				sc.GlyphStyle = draw.GlyphStyle{Color: Palette[q.color], Radius: vg.Points(2), Shape: draw.CircleGlyph{}}
				p.Add(sc)
			}
		}
		if first != nil {
			f.addLegend(q.name, first)
		}
	}

	if len(tl.Colds) > 0 {
		xys := make(plotter.XYs, len(tl.Colds))
		for i, c := range tl.Colds {
			xys[i] = plotter.XY{X: c.At.Seconds(), Y: max(c.Latency.Seconds()*1000, 0.001)}
		}
		sc, err := plotter.NewScatter(xys)
		if err != nil {
			return Chart{}, err
		}
		sc.GlyphStyle = dotStyle(coldColor, false)
		p.Add(sc)
		name := fmt.Sprintf("cold start (%d)", r.Totals.Cold.Count)
		if tl.ColdEvery > 1 {
			name = fmt.Sprintf("cold start (1 in %d of %d shown)", tl.ColdEvery, r.Totals.Cold.Count)
		}
		f.addLegend(name, sc)
	}

	for i := range r.Phases {
		ps := &r.Phases[i]
		if ps.StartedAt.IsZero() {
			continue
		}
		f.rules = append(f.rules, rule{x: max(0, ps.StartedAt.Sub(tl.Start).Seconds()), label: ps.Name})
	}
	// To the end of the run, which an idle last phase leaves past the
	// last bucket.
	f.xMin, f.xMax = 0, max(float64(len(tl.Buckets))*step, r.FinishedAt.Sub(tl.Start).Seconds())
	return f.render(ChartTimeline)
}
