package report

import (
	"errors"
	"fmt"
	"image/color"
	"math"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// This file is the chart API the report's charts, and the tuning report's,
// are drawn with: LineChart and its options. The drawing itself, shared
// with the distribution charts, lives in plotfig.go.

// Series is one line of a chart, or a set of unconnected points.
type Series struct {
	Name string // legend entry; empty for none
	X, Y []float64
	// Highlight draws the series thicker and on top of the others: the
	// recommended setting's curve, say.
	Highlight bool
	// Points draws the points as unconnected dots instead of a line.
	Points bool
	// Color overrides the colour the series gets from its position in the
	// panel (Palette). Nil for the palette's.
	Color color.Color
}

// Panel is a second plot drawn under a LineChart's first, sharing its x
// axis, for a quantity in other units (cost under latency, say).
type Panel struct {
	YLabel string
	Series []Series
	LogY   bool
}

// ChartOption configures a LineChart. Options given values that cannot be
// drawn make LineChart fail.
type ChartOption func(*chartConfig) error

// chartConfig is what the options set.
type chartConfig struct {
	name       string
	logX, logY bool
	xTicks     []float64
	below      *Panel
	rules      []rule
	marks      []mark
}

// ChartName sets the chart's file stem (NAME.png, NAME.svg); by default it
// is made from the title ("Cost per memory size" → "cost-per-memory-size").
func ChartName(stem string) ChartOption {
	return func(c *chartConfig) error {
		if stem == "" || strings.ContainsAny(stem, `/\. `) {
			return fmt.Errorf("chart name %q: want a plain file stem", stem)
		}
		c.name = stem
		return nil
	}
}

// LogX puts the x axis on a log scale; every x must be positive.
func LogX() ChartOption {
	return func(c *chartConfig) error { c.logX = true; return nil }
}

// XTicks labels the x axis at exactly these values, such as the memory
// sizes a sweep tried, instead of at round numbers.
func XTicks(values ...float64) ChartOption {
	return func(c *chartConfig) error {
		if len(values) == 0 {
			return errors.New("XTicks: no values")
		}
		c.xTicks = append(c.xTicks, values...)
		return nil
	}
}

// Below adds a second panel under the first, sharing its x axis. A chart
// has at most one.
func Below(p Panel) ChartOption {
	return func(c *chartConfig) error {
		if c.below != nil {
			return errors.New("Below given twice: a chart has at most two panels")
		}
		c.below = &p
		return nil
	}
}

// VLine draws a dashed vertical rule at x across every panel, labelled at
// the top of the first (a phase boundary, say). Label may be empty.
func VLine(x float64, label string) ChartOption {
	return func(c *chartConfig) error {
		c.rules = append(c.rules, rule{x: x, label: label})
		return nil
	}
}

// Mark highlights the setting at x in every panel: a rule at x and a ring
// around each series' point there, labelled at the top of the first panel
// (the recommended memory size, say).
func Mark(x float64, label string) ChartOption {
	return func(c *chartConfig) error {
		c.marks = append(c.marks, mark{x: x, label: label})
		return nil
	}
}

// MarkPoint rings the point (x, y) of the first panel and labels it (the
// recommended setting on a cost against latency scatter, say).
func MarkPoint(x, y float64, label string) ChartOption {
	return func(c *chartConfig) error {
		c.marks = append(c.marks, mark{x: x, y: y, label: label, point: true})
		return nil
	}
}

// LineChart draws series against a shared x axis: one panel, or two
// stacked ones with Below. Lines and points get the Palette's colours in
// order unless they set their own; every named series has a legend entry
// above the plot. The chart's file stem comes from the title unless
// ChartName sets it.
func LineChart(title, xLabel, yLabel string, series []Series, opts ...ChartOption) (Chart, error) {
	cfg := chartConfig{name: slug(title)}
	for _, o := range opts {
		if err := o(&cfg); err != nil {
			return Chart{}, fmt.Errorf("chart %q: %w", title, err)
		}
	}
	if cfg.name == "" {
		return Chart{}, fmt.Errorf("chart %q: no file name: give ChartName", title)
	}
	f := newFigure(title, xLabel, cfg.logX)
	if len(cfg.xTicks) > 0 {
		f.xTicker = valueTicks(cfg.xTicks)
	}
	panels := []Panel{{YLabel: yLabel, Series: series, LogY: cfg.logY}}
	if cfg.below != nil {
		panels = append(panels, *cfg.below)
	}
	n := 0 // series drawn so far: colours run on across panels
	for i, pn := range panels {
		p := f.addPanel(pn.YLabel, pn.LogY)
		if len(pn.Series) == 0 {
			return Chart{}, fmt.Errorf("chart %q: panel %d has no series", title, i+1)
		}
		// Highlighted series are drawn last, so that they are on top.
		for _, hl := range []bool{false, true} {
			for j, s := range pn.Series {
				if s.Highlight != hl {
					continue
				}
				if err := f.addSeries(p, s, n+j); err != nil {
					return Chart{}, fmt.Errorf("chart %q: series %q: %w", title, s.Name, err)
				}
			}
		}
		n += len(pn.Series)
	}
	for _, r := range cfg.rules {
		if err := f.checkX(r.x); err != nil {
			return Chart{}, fmt.Errorf("chart %q: VLine: %w", title, err)
		}
	}
	f.rules = cfg.rules
	for _, m := range cfg.marks {
		if err := f.checkX(m.x); err != nil {
			return Chart{}, fmt.Errorf("chart %q: mark: %w", title, err)
		}
		if m.point && (!finite(m.y) || cfg.logY && m.y <= 0) {
			return Chart{}, fmt.Errorf("chart %q: mark: y %v cannot be drawn", title, m.y)
		}
	}
	f.marks = cfg.marks
	return f.render(cfg.name)
}

// addSeries draws s, the figure's i-th series, into p with a legend
// entry.
func (f *figure) addSeries(p *panel, s Series, i int) error {
	if len(s.X) != len(s.Y) {
		return fmt.Errorf("%d x values but %d y values", len(s.X), len(s.Y))
	}
	if len(s.X) == 0 {
		return errors.New("no points")
	}
	xys := make(plotter.XYs, len(s.X))
	for k := range s.X {
		if err := f.checkX(s.X[k]); err != nil {
			return err
		}
		y := s.Y[k]
		if !finite(y) || p.logY && y <= 0 {
			return fmt.Errorf("y %v cannot be drawn on a %s axis", y, scaleName(p.logY))
		}
		xys[k] = plotter.XY{X: s.X[k], Y: y}
	}
	clr := s.Color
	if clr == nil {
		clr = Palette[i%len(Palette)]
	}
	width := vg.Points(1.6)
	if s.Highlight {
		width = vg.Points(3)
	}
	p.points = append(p.points, xys...)
	if s.Points {
		sc, err := plotter.NewScatter(xys)
		if err != nil {
			return err
		}
		sc.GlyphStyle = dotStyle(clr, s.Highlight)
		p.Add(sc)
		f.addLegend(s.Name, sc)
		return nil
	}
	l, err := plotter.NewLine(xys)
	if err != nil {
		return err
	}
	l.LineStyle.Color, l.LineStyle.Width = clr, width
	p.Add(l)
	thumbs := []plot.Thumbnailer{l}
	if len(xys) <= maxDottedPoints {
		// Few points: a sweep's settings. Show where they are.
		sc, err := plotter.NewScatter(xys)
		if err != nil {
			return err
		}
		sc.GlyphStyle = dotStyle(clr, s.Highlight)
		p.Add(sc)
		thumbs = append(thumbs, sc)
	}
	f.addLegend(s.Name, thumbs...)
	return nil
}

// maxDottedPoints is the most points a line has its points drawn as dots.
const maxDottedPoints = 24

// checkX reports whether x can be drawn on the figure's x axis.
func (f *figure) checkX(x float64) error {
	if !finite(x) || f.logX && x <= 0 {
		return fmt.Errorf("x %v cannot be drawn on a %s axis", x, scaleName(f.logX))
	}
	return nil
}

func scaleName(log bool) string {
	if log {
		return "log"
	}
	return "linear"
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// slug makes a file stem from a title: lower case letters and digits, runs
// of anything else as one hyphen.
func slug(title string) string {
	var b strings.Builder
	hyphen := false
	for _, r := range strings.ToLower(title) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			if hyphen && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(r)
			hyphen = false
			continue
		}
		hyphen = true
	}
	return b.String()
}
