package report

import (
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// This file draws what a chart marks on top of its data: vertical rules
// (phase boundaries) and marks (the recommended setting), both labelled at
// the top of the first panel, with labels that would overlap moved down a
// row.

// rule is a labelled vertical line at x (VLine).
type rule struct {
	x     float64
	label string
}

// mark highlights x across the panels, or the point (x, y) when point is
// set (Mark, MarkPoint).
type mark struct {
	x, y  float64
	label string
	point bool
}

// labelRows places labels left to right in the first row where they do
// not overlap the one before, so that close rules stay readable.
type labelRows struct {
	ends []vg.Length // right edge of the last label in each row
}

// place returns the row for a label spanning [x0, x1].
func (lr *labelRows) place(x0, x1 vg.Length) int {
	for i, end := range lr.ends {
		if x0 > end {
			lr.ends[i] = x1
			return i
		}
	}
	lr.ends = append(lr.ends, x1)
	return len(lr.ends) - 1
}

// drawLabel writes txt on a white backdrop with its top-left corner at
// (x, y), or its top-right corner when it would leave the canvas.
func drawLabel(c draw.Canvas, sty draw.TextStyle, x, y vg.Length, txt string) {
	w, h := sty.Width(txt), sty.Height(txt)
	if x+w > c.Max.X {
		x -= w + 6
	}
	c.FillPolygon(color.NRGBA{R: 255, G: 255, B: 255, A: 220}, []vg.Point{
		{X: x - 1, Y: y + 1}, {X: x + w + 1, Y: y + 1}, {X: x + w + 1, Y: y - h - 1}, {X: x - 1, Y: y - h - 1},
	})
	c.FillText(sty, vg.Point{X: x, Y: y}, txt)
}

// ruler draws a figure's rules in one panel.
type ruler struct {
	rules  []rule
	labels bool // label them: the first panel only
}

// Plot implements plot.Plotter.
func (r *ruler) Plot(c draw.Canvas, plt *plot.Plot) {
	trX, _ := plt.Transforms(&c)
	line := draw.LineStyle{Color: ruleColor, Width: vg.Points(0.8), Dashes: []vg.Length{vg.Points(4), vg.Points(3)}}
	sty := textStyle(smallFont, rgb(0x444444))
	var rows labelRows
	for _, ru := range r.rules {
		x := trX(ru.x)
		c.StrokeLine2(line, x, c.Min.Y, x, c.Max.Y)
		if !r.labels || ru.label == "" {
			continue
		}
		x0 := x + 3
		row := rows.place(x0, x0+sty.Width(ru.label)+4)
		drawLabel(c, sty, x0, c.Max.Y-2-vg.Length(row)*(sty.Height(ru.label)+3), ru.label)
	}
}

// marker draws a figure's marks in one panel: a rule and rings around the
// panel's points at a marked x, or a ring around a marked point.
type marker struct {
	marks  []mark
	points plotter.XYs // every point drawn in the panel
	labels bool
}

// Plot implements plot.Plotter.
func (m *marker) Plot(c draw.Canvas, plt *plot.Plot) {
	trX, trY := plt.Transforms(&c)
	line := draw.LineStyle{Color: markColor, Width: vg.Points(1.2), Dashes: []vg.Length{vg.Points(2), vg.Points(2)}}
	ring := draw.GlyphStyle{Color: markColor, Radius: vg.Points(6.5), Shape: ringGlyph{width: vg.Points(1.8)}}
	sty := textStyle(markFont, markColor)
	var rows labelRows
	for _, mk := range m.marks {
		x := trX(mk.x)
		if mk.point {
			if !m.labels {
				continue
			}
			y := trY(mk.y)
			c.DrawGlyphNoClip(ring, vg.Point{X: x, Y: y})
			if mk.label != "" {
				drawLabel(c, sty, x+9, y+sty.Height(mk.label)+4, mk.label)
			}
			continue
		}
		c.StrokeLine2(line, x, c.Min.Y, x, c.Max.Y)
		for _, p := range m.points {
			if sameX(p.X, mk.x) {
				c.DrawGlyphNoClip(ring, vg.Point{X: x, Y: trY(p.Y)})
			}
		}
		if m.labels && mk.label != "" {
			x0 := x + 4
			row := rows.place(x0, x0+sty.Width(mk.label)+4)
			drawLabel(c, sty, x0, c.Max.Y-2-vg.Length(row)*(sty.Height(mk.label)+3), mk.label)
		}
	}
}

func sameX(a, b float64) bool {
	return a == b || math.Abs(a-b) <= 1e-9*math.Max(math.Abs(a), math.Abs(b))
}

// ringGlyph is an unfilled circle with a set line width.
type ringGlyph struct{ width vg.Length }

// DrawGlyph implements draw.GlyphDrawer.
func (g ringGlyph) DrawGlyph(c *draw.Canvas, sty draw.GlyphStyle, pt vg.Point) {
	c.SetLineStyle(draw.LineStyle{Color: sty.Color, Width: g.width})
	var p vg.Path
	p.Move(vg.Point{X: pt.X + sty.Radius, Y: pt.Y})
	p.Arc(pt, sty.Radius, 0, 2*math.Pi)
	p.Close()
	c.Stroke(p)
}

// dotStyle is the glyph of a series' points.
func dotStyle(clr color.Color, highlight bool) draw.GlyphStyle {
	r := vg.Points(2.6)
	if highlight {
		r = vg.Points(3.6)
	}
	return draw.GlyphStyle{Color: clr, Radius: r, Shape: draw.CircleGlyph{}}
}
