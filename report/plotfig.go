package report

import (
	"bytes"
	"fmt"
	"image/color"
	"image/png"
	"math"
	"slices"
	"strconv"

	xfont "golang.org/x/image/font"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// This file lays out and renders a figure: a title, a row of legend
// entries, and one or two panels sharing an x axis, drawn once to PNG and
// once to SVG. Rendering is deterministic: the fonts are the Liberation
// fonts built into gonum/plot, and nothing time- or machine-dependent is
// drawn, so the same data always gives the same bytes.

// Palette is the colours series get in order: cold blue, warm orange, then
// green, red, purple, brown, pink and grey (the Tableau 10 colours).
var Palette = []color.Color{
	rgb(0x1f77b4), rgb(0xff7f0e), rgb(0x2ca02c), rgb(0xd62728),
	rgb(0x9467bd), rgb(0x8c564b), rgb(0xe377c2), rgb(0x7f7f7f),
}

// Colours with a meaning across charts.
var (
	coldColor    = Palette[0]
	warmColor    = Palette[1]
	unknownColor = Palette[7]
	ruleColor    = rgb(0x888888)
	markColor    = rgb(0x111111)
	gridColor    = rgb(0xe4e4e4)
)

func rgb(v uint32) color.Color {
	return color.RGBA{R: uint8(v >> 16), G: uint8(v >> 8), B: uint8(v), A: 0xff}
}

// Geometry and type of every figure.
const (
	figWidth    = 9 * vg.Inch
	panelHeight = 3.4 * vg.Inch
	pngDPI      = 128
	figPad      = vg.Length(10)
)

var (
	sans      = font.Font{Typeface: "Liberation", Variant: "Sans"}
	sansBold  = font.Font{Typeface: "Liberation", Variant: "Sans", Weight: xfont.WeightBold}
	titleFont = font.From(sansBold, 13)
	labelFont = font.From(sans, 10.5)
	tickFont  = font.From(sans, 9)
	smallFont = font.From(sans, 8.5)
	markFont  = font.From(sansBold, 9)
)

func textStyle(f font.Font, clr color.Color) text.Style {
	return text.Style{Color: clr, Font: f, Handler: plot.DefaultTextHandler, XAlign: draw.XLeft, YAlign: draw.YTop}
}

// figure is a chart being built.
type figure struct {
	title   string
	xLabel  string
	logX    bool
	xTicker plot.Ticker // nil: round numbers for the scale
	// xMin and xMax, when set (non-zero), fix the x range.
	xMin, xMax float64
	panels     []*panel
	legend     []legendEntry
	rules      []rule
	marks      []mark
}

// panel is one plot of a figure and the points drawn in it, which marks
// ring.
type panel struct {
	*plot.Plot
	logY   bool
	yLabel string
	points plotter.XYs
}

type legendEntry struct {
	text   string
	thumbs []plot.Thumbnailer
}

func newFigure(title, xLabel string, logX bool) *figure {
	return &figure{title: title, xLabel: xLabel, logX: logX}
}

// addPanel adds a plot under the others, with its y axis and a light grid.
func (f *figure) addPanel(yLabel string, logY bool) *panel {
	p := plot.New()
	p.BackgroundColor = nil
	for _, ax := range []*plot.Axis{&p.X, &p.Y} {
		ax.Label.TextStyle.Font = labelFont
		ax.Tick.Label.Font = tickFont
		ax.Padding = 0
	}
	if logY {
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = logTicks{}
	}
	g := plotter.NewGrid()
	g.Vertical.Color, g.Horizontal.Color = gridColor, gridColor
	g.Vertical.Width, g.Horizontal.Width = vg.Points(0.6), vg.Points(0.6)
	p.Add(g)
	// The y label is drawn by figure.draw, centred on the data area:
	// gonum/plot pads a log axis for it as if centred on the arithmetic
	// middle of the range, which leaves a gap above the data.
	pn := &panel{Plot: p, logY: logY, yLabel: yLabel}
	f.panels = append(f.panels, pn)
	return pn
}

// addLegend adds an entry; unnamed series have none.
func (f *figure) addLegend(name string, thumbs ...plot.Thumbnailer) {
	if name != "" {
		f.legend = append(f.legend, legendEntry{name, thumbs})
	}
}

// finish sets the axes' ranges and ticks once every plotter is in: one x
// range for all panels, covering the rules and marks too; log ranges
// rounded out to labelled ticks (or, with ticks at given values, padded a
// little); linear ranges of non-negative data starting at zero and ending
// on a labelled tick.
func (f *figure) finish() {
	xmin, xmax := math.Inf(1), math.Inf(-1)
	for _, p := range f.panels {
		xmin, xmax = math.Min(xmin, p.X.Min), math.Max(xmax, p.X.Max)
	}
	for _, r := range f.rules {
		xmin, xmax = math.Min(xmin, r.x), math.Max(xmax, r.x)
	}
	for _, m := range f.marks {
		xmin, xmax = math.Min(xmin, m.x), math.Max(xmax, m.x)
	}
	switch {
	case f.xMin != 0 || f.xMax != 0:
		xmin, xmax = f.xMin, f.xMax
	case f.xTicker != nil && f.logX:
		pad := math.Pow(xmax/xmin, 0.04)
		if xmin == xmax {
			pad = 1.5
		}
		xmin, xmax = xmin/pad, xmax*pad
	case f.xTicker != nil || !f.logX:
		pad := (xmax - xmin) * 0.04
		if xmin == xmax {
			pad = math.Max(1, math.Abs(xmin)/2)
		}
		xmin, xmax = xmin-pad, xmax+pad
	default:
		xmin, xmax = logBounds(xmin, xmax)
	}
	var xTicker plot.Ticker = linearTicks{}
	if f.logX {
		xTicker = logTicks{}
	}
	if f.xTicker != nil {
		xTicker = f.xTicker
	}
	for i, p := range f.panels {
		p.X.Min, p.X.Max = xmin, xmax
		if f.logX {
			p.X.Scale = plot.LogScale{}
		}
		p.X.Tick.Marker = xTicker
		if i == len(f.panels)-1 {
			p.X.Label.Text = f.xLabel
		} else {
			// Panels share the x axis: only the last one labels it.
			p.X.Tick.Marker = unlabelled{xTicker}
		}
		for _, m := range f.marks {
			if m.point && i == 0 {
				p.Y.Min, p.Y.Max = math.Min(p.Y.Min, m.y), math.Max(p.Y.Max, m.y)
			}
		}
		switch {
		case p.logY:
			p.Y.Min, p.Y.Max = logBounds(p.Y.Min, p.Y.Max)
		default:
			p.Y.Tick.Marker = linearTicks{}
			if p.Y.Min >= 0 {
				p.Y.Min = 0
				step := niceStep(p.Y.Max / 5)
				p.Y.Max = math.Ceil(p.Y.Max*1.02/step) * step
			}
		}
		p.Add(&ruler{rules: f.rules, labels: i == 0})
		p.Add(&marker{marks: f.marks, points: p.points, labels: i == 0})
	}
}

// render draws the figure to PNG and SVG.
func (f *figure) render(name string) (c Chart, err error) {
	// gonum/plot panics on what it cannot draw. The inputs are checked
	// before, but a report must never take the run down with it.
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("chart %q: %v", f.title, r)
		}
	}()
	f.finish()
	w, h := figWidth, f.height()

	img := vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(pngDPI), vgimg.UseBackgroundColor(color.White))
	f.draw(draw.New(img))
	// Fast compression: the best costs twice the time of drawing the
	// chart for a file a third smaller.
	var pngBuf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	if err := enc.Encode(&pngBuf, img.Image()); err != nil {
		return Chart{}, fmt.Errorf("chart %q: png: %w", f.title, err)
	}

	sv := vgsvg.New(w, h)
	dc := draw.New(sv)
	dc.SetColor(color.White)
	dc.Fill(dc.Rectangle.Path())
	f.draw(dc)
	var svg bytes.Buffer
	if _, err := sv.WriteTo(&svg); err != nil {
		return Chart{}, fmt.Errorf("chart %q: svg: %w", f.title, err)
	}
	return Chart{Name: name, Title: f.title, PNG: pngBuf.Bytes(), SVG: svgFonts(svg.Bytes())}, nil
}

// svgFonts lets a viewer without the Liberation fonts fall back to fonts
// with the same metrics (Liberation Sans was made to match Arial), so the
// text still fits where it was laid out. The SVG names fonts in style
// attributes and references no font file.
func svgFonts(svg []byte) []byte {
	return bytes.ReplaceAll(svg, []byte("font-family:Liberation Sans;"),
		[]byte("font-family:'Liberation Sans',Arimo,Arial,Helvetica,sans-serif;"))
}

func (f *figure) height() vg.Length {
	return vg.Length(len(f.panels))*panelHeight + 2*figPad + f.titleHeight() + f.legendHeight(figWidth-2*figPad)
}

func (f *figure) titleHeight() vg.Length {
	return textStyle(titleFont, color.Black).Height(f.title) + 6
}

// Legend layout: entries left to right, wrapping, each a thumbnail then
// its text.
const (
	thumbWidth = vg.Length(18)
	thumbGap   = vg.Length(5)
	entryGap   = vg.Length(16)
	legendRow  = vg.Length(16)
)

// legendRows splits the legend into rows that fit width.
func (f *figure) legendRows(width vg.Length) [][]legendEntry {
	sty := textStyle(labelFont, color.Black)
	var rows [][]legendEntry
	var x vg.Length
	for _, e := range f.legend {
		w := thumbWidth + thumbGap + sty.Width(e.text)
		if len(rows) == 0 || x > 0 && x+w > width {
			rows = append(rows, nil)
			x = 0
		}
		rows[len(rows)-1] = append(rows[len(rows)-1], e)
		x += w + entryGap
	}
	return rows
}

func (f *figure) legendHeight(width vg.Length) vg.Length {
	n := len(f.legendRows(width))
	if n == 0 {
		return 0
	}
	return vg.Length(n)*legendRow + 6
}

// draw draws the figure onto c, which is figWidth by f.height().
func (f *figure) draw(c draw.Canvas) {
	c = draw.Crop(c, figPad, -figPad, figPad, -figPad)
	title := textStyle(titleFont, color.Black)
	title.XAlign = draw.XCenter
	c.FillText(title, vg.Point{X: c.Center().X, Y: c.Max.Y}, f.title)
	top := c.Max.Y - f.titleHeight()

	sty := textStyle(labelFont, rgb(0x222222))
	sty.YAlign = draw.YCenter
	for _, row := range f.legendRows(c.Max.X - c.Min.X) {
		var w vg.Length
		for i, e := range row {
			if i > 0 {
				w += entryGap
			}
			w += thumbWidth + thumbGap + sty.Width(e.text)
		}
		x := c.Center().X - w/2
		y := top - legendRow/2
		for _, e := range row {
			tc := draw.Canvas{Canvas: c.Canvas, Rectangle: vg.Rectangle{
				Min: vg.Point{X: x, Y: y - 5}, Max: vg.Point{X: x + thumbWidth, Y: y + 5},
			}}
			for _, t := range e.thumbs {
				t.Thumbnail(&tc)
			}
			x += thumbWidth + thumbGap
			c.FillText(sty, vg.Point{X: x, Y: y}, e.text)
			x += sty.Width(e.text) + entryGap
		}
		top -= legendRow
	}
	if len(f.legend) > 0 {
		top -= 6
	}

	area := c
	area.Max.Y = top
	label := textStyle(labelFont, color.Black)
	label.Rotation, label.XAlign = math.Pi/2, draw.XCenter
	area.Min.X += label.Height("M") + 6
	plots := make([][]*plot.Plot, len(f.panels))
	for i, p := range f.panels {
		plots[i] = []*plot.Plot{p.Plot}
	}
	tiles := draw.Tiles{Rows: len(f.panels), Cols: 1, PadY: 10}
	for i, cs := range plot.Align(plots, tiles, area) {
		p := f.panels[i]
		p.Draw(cs[0])
		data := p.DataCanvas(cs[0])
		c.FillText(label, vg.Point{X: c.Min.X, Y: data.Center().Y}, p.yLabel)
	}
}

// logBounds rounds a positive range out to labelled log ticks, so that
// both ends carry a number.
func logBounds(lo, hi float64) (float64, float64) {
	if !(lo > 0) || !(hi > 0) || math.IsInf(hi, 0) {
		return 1, 10
	}
	steps := logMajors(hi / lo)
	// A point on the edge would be half hidden: keep a little room.
	lo, hi = lo/1.04, hi*1.04
	down, up := lo, hi
	for _, v := range logSteps(lo/10, hi*10, steps) {
		if v <= lo {
			down = v
		}
		if v >= hi && up == hi {
			up = v
		}
	}
	if down == up {
		down, up = down/2, up*2
	}
	return down, up
}

// logMajors are the mantissas labelled on a log axis spanning ratio: every
// decade on a wide axis, more on a narrow one.
func logMajors(ratio float64) []int {
	switch d := math.Log10(ratio); {
	case d > 3.2:
		return []int{1}
	case d > 1.5:
		return []int{1, 2, 5}
	case d > 0.7:
		return []int{1, 2, 3, 5}
	}
	return []int{1, 2, 3, 4, 5, 6, 7, 8, 9}
}

// logSteps lists m × 10^k within [lo, hi] for the mantissas m, ascending.
func logSteps(lo, hi float64, mantissas []int) []float64 {
	var out []float64
	for e := math.Floor(math.Log10(lo)); e <= math.Ceil(math.Log10(hi)); e++ {
		for _, m := range mantissas {
			v := float64(m) * math.Pow(10, e)
			if v >= lo*(1-1e-9) && v <= hi*(1+1e-9) {
				out = append(out, v)
			}
		}
	}
	return out
}

// logTicks labels a log axis at 1, 2, 5 × 10^k (or more or fewer,
// depending on its span) and at its ends, with unlabelled minor ticks
// between.
type logTicks struct{}

// Ticks implements plot.Ticker.
func (logTicks) Ticks(lo, hi float64) []plot.Tick {
	majors := logMajors(hi / lo)
	var ticks []plot.Tick
	wide := math.Log10(hi/lo) > 6
	for _, v := range logSteps(lo, hi, []int{1, 2, 3, 4, 5, 6, 7, 8, 9}) {
		m := int(math.Round(v / math.Pow(10, math.Floor(math.Log10(v)+1e-9))))
		// The ends of a range logBounds rounded are labelled even where
		// the span's step would skip them.
		end := math.Abs(v-lo) <= lo*1e-9 || math.Abs(v-hi) <= hi*1e-9
		switch {
		case slices.Contains(majors, m) || end:
			ticks = append(ticks, plot.Tick{Value: v, Label: tickLabel(v)})
		case !wide:
			ticks = append(ticks, plot.Tick{Value: v})
		}
	}
	return ticks
}

// linearTicks labels a linear axis at about six round numbers (steps of
// 1, 2 or 5 × 10^k) with minor ticks between.
type linearTicks struct{}

// Ticks implements plot.Ticker.
func (linearTicks) Ticks(lo, hi float64) []plot.Tick {
	if !(hi > lo) {
		return []plot.Tick{{Value: lo, Label: tickLabel(lo)}}
	}
	step := niceStep((hi - lo) / 6)
	minor := step / 5
	if m := step / math.Pow(10, math.Floor(math.Log10(step)+1e-9)); math.Round(m) == 2 {
		minor = step / 4
	}
	var ticks []plot.Tick
	for k := math.Ceil(lo/minor - 1e-9); k*minor <= hi+minor*1e-9; k++ {
		v := k * minor
		if r := v / step; math.Abs(r-math.Round(r)) < 1e-6 {
			ticks = append(ticks, plot.Tick{Value: v, Label: tickLabel(v)})
		} else {
			ticks = append(ticks, plot.Tick{Value: v})
		}
	}
	return ticks
}

// niceStep is the smallest of 1, 2 or 5 × 10^k at least d.
func niceStep(d float64) float64 {
	if !(d > 0) || math.IsInf(d, 0) {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(d)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= d*(1-1e-9) {
			return m * p
		}
	}
	return 10 * p
}

// valueTicks labels an axis at exactly the given values.
type valueTicks []float64

// Ticks implements plot.Ticker.
func (vt valueTicks) Ticks(lo, hi float64) []plot.Tick {
	var ticks []plot.Tick
	for _, v := range vt {
		if v >= lo && v <= hi {
			ticks = append(ticks, plot.Tick{Value: v, Label: tickLabel(v)})
		}
	}
	return ticks
}

// unlabelled keeps a ticker's tick marks but none of its labels, for an
// axis the panel below labels. A label of one space keeps a tick major
// (gridlines) without text.
type unlabelled struct{ plot.Ticker }

// Ticks implements plot.Ticker.
func (u unlabelled) Ticks(lo, hi float64) []plot.Tick {
	ticks := u.Ticker.Ticks(lo, hi)
	for i := range ticks {
		if ticks[i].Label != "" {
			ticks[i].Label = " "
		}
	}
	return ticks
}

// tickLabel formats a tick value with at most six significant digits and
// no exponent: 0.5, 20, 1500.
func tickLabel(v float64) string {
	if math.Abs(v) < 1e-12 {
		return "0"
	}
	r, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'g', 6, 64), 64)
	return strconv.FormatFloat(r, 'f', -1, 64)
}
