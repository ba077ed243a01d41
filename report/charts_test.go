package report

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"flag"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/coldbench/coldbench/drivers"
	"github.com/coldbench/coldbench/results"
)

var chartsDir = flag.String("charts", "", "also write the test charts and report.html into this directory, to look at")

// withTimeline is the fixture run with a timeline matching its phases:
// the warm-up's requests at 10/s over 10 s with its cold starts in the
// first 2 s, the steady phase's at 20/s over 20 s with its three cold
// starts spread out, and the timeouts in the warm-up's last second. The
// record goes through JSON, as a stored run does.
func withTimeline(t *testing.T) *results.Run {
	t.Helper()
	r := fixture(t)
	tl := results.NewTimeline(t0)
	add := func(at time.Duration, temp drivers.Temperature, o drivers.Outcome, lat float64) {
		tl.Add(t0.Add(at), results.Sample{Temp: temp, Outcome: o, Latency: time.Duration(lat * float64(time.Millisecond))})
	}
	for i := range 100 {
		at := time.Duration(i) * 100 * time.Millisecond
		switch {
		case i%5 == 0 && i < 50:
			add(at, drivers.Cold, drivers.OK, 251.3+7.7*float64(i/5))
		case i >= 94:
			add(at, drivers.Warm, drivers.Timeout, 5000)
		default:
			add(at, drivers.Warm, drivers.OK, 12.4+0.5*float64(i%80))
		}
	}
	for i := range 400 {
		at := 10*time.Second + time.Duration(i)*50*time.Millisecond
		if i == 20 || i == 200 || i == 330 {
			add(at, drivers.Cold, drivers.OK, 402+11*float64(i%3))
			continue
		}
		add(at, drivers.Warm, drivers.OK, 3.1+0.05*float64(i))
	}
	r.Timeline = tl
	// Round-trip through Summarize's JSON form: the bins are packed.
	tally, err := r.Tally()
	if err != nil {
		t.Fatal(err)
	}
	tally.Timeline = tl
	b, err := json.Marshal(results.Summarize(tally, results.Meta{
		Scenario: r.Scenario, ScenarioFile: r.ScenarioFile, Target: r.Target, Driver: r.Driver,
		Version: r.ColdbenchVersion, StartedAt: r.StartedAt, FinishedAt: r.FinishedAt,
		Complete: r.Complete, Host: r.Host,
	}))
	if err != nil {
		t.Fatal(err)
	}
	var back results.Run
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	return &back
}

// checkChart checks that c decodes as PNG and parses as SVG, and writes
// it under -charts.
func checkChart(t *testing.T, c Chart) {
	t.Helper()
	if c.Name == "" || c.Title == "" {
		t.Errorf("chart %q %q: want a name and a title", c.Name, c.Title)
	}
	img, err := png.Decode(bytes.NewReader(c.PNG))
	if err != nil {
		t.Errorf("chart %s: PNG: %v", c.Name, err)
	} else if b := img.Bounds(); b.Dx() < 600 || b.Dy() < 300 {
		t.Errorf("chart %s: PNG of %v, too small to read", c.Name, b)
	}
	d := xml.NewDecoder(bytes.NewReader(c.SVG))
	root := ""
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Errorf("chart %s: SVG: %v", c.Name, err)
			break
		}
		if se, ok := tok.(xml.StartElement); ok && root == "" {
			root = se.Name.Local
		}
	}
	if root != "svg" {
		t.Errorf("chart %s: SVG root element %q, want svg", c.Name, root)
	}
	if !shows(c.SVG, c.Title) {
		t.Errorf("chart %s: the SVG does not show the title %q", c.Name, c.Title)
	}
	if *chartsDir != "" {
		for ext, b := range map[string][]byte{".png": c.PNG, ".svg": c.SVG} {
			if err := os.WriteFile(filepath.Join(*chartsDir, c.Name+ext), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func xmlText(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return b.String()
}

// shows reports whether svg has a text element reading exactly s.
func shows(svg []byte, s string) bool {
	return bytes.Contains(svg, []byte(">"+xmlText(s)+"<"))
}

func TestRunCharts(t *testing.T) {
	t.Parallel()
	p := timelinePage(t)
	charts := p.Charts
	var names []string
	for _, c := range charts {
		names = append(names, c.Name)
		checkChart(t, c)
	}
	if got, want := strings.Join(names, " "), "latency-cold-warm latency-spectrum latency-over-time"; got != want {
		t.Errorf("charts %s, want %s", got, want)
	}
	for _, want := range []string{"warm-up", "steady", "cold start (13)", "p99 per 1s"} {
		if !shows(charts[2].SVG, want) {
			t.Errorf("latency over time does not show %q", want)
		}
	}
	for _, want := range []string{"99.9%", "99%", "90%", "0%"} {
		if !shows(charts[1].SVG, want) {
			t.Errorf("spectrum has no %q tick", want)
		}
	}

	// The same data draws the same bytes.
	again, err := RunCharts(p.Run)
	if err != nil {
		t.Fatal(err)
	}
	for i := range charts {
		if !bytes.Equal(charts[i].PNG, again[i].PNG) || !bytes.Equal(charts[i].SVG, again[i].SVG) {
			t.Errorf("chart %s differs between two renderings", charts[i].Name)
		}
	}
}

func TestRunChartsSkipMissingData(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		run  func(*testing.T) *results.Run
		want string
	}{
		// a record without a timeline (written before timelines existed)
		{"no timeline", fixture, "latency-cold-warm latency-spectrum"},
		// nothing succeeded: no chart at all
		{"no data", func(*testing.T) *results.Run {
			return results.Summarize(results.NewTally([]results.PhasePlan{{Name: "p"}}), results.Meta{Scenario: "empty"})
		}, ""},
	}
	for _, tt := range tests {
		// RunCharts draws what runChartSpecs lists; listing is enough.
		var names []string
		for _, s := range runChartSpecs(tt.run(t)) {
			names = append(names, s.name)
		}
		if got := strings.Join(names, " "); got != tt.want {
			t.Errorf("%s: charts %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestLineChart(t *testing.T) {
	t.Parallel()
	mem := []float64{128, 256, 512, 1024, 2048}
	c, err := LineChart("Warm latency and cost per memory size", "memory (MB)", "warm latency (ms)",
		[]Series{
			{Name: "warm p50", X: mem, Y: []float64{80, 42, 25, 18, 17}},
			{Name: "warm p99", X: mem, Y: []float64{160, 90, 52, 35, 33}, Highlight: true},
		},
		ChartName("memory"), LogX(), XTicks(mem...),
		Below(Panel{YLabel: "cost per 1M requests ($)", Series: []Series{{Name: "cost", X: mem, Y: []float64{0.9, 0.95, 1.1, 1.6, 3.0}}}}),
		Mark(1024, "recommended: 1024 MB"), VLine(512, "current"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Name != "memory" || c.Title != "Warm latency and cost per memory size" {
		t.Errorf("chart %q %q", c.Name, c.Title)
	}
	checkChart(t, c)
	for _, want := range []string{"recommended: 1024 MB", "current", "warm p99", "cost per 1M requests ($)", "2048"} {
		if !shows(c.SVG, want) {
			t.Errorf("chart does not show %q", want)
		}
	}

	scatter, err := LineChart("Cost against latency", "warm p99 (ms)", "monthly cost ($)",
		[]Series{{Name: "setting", X: []float64{35, 52, 90}, Y: []float64{40, 22, 19}, Points: true}},
		MarkPoint(52, 22, "1024 MB, 0 prewarmed"))
	if err != nil {
		t.Fatal(err)
	}
	if scatter.Name != "cost-against-latency" {
		t.Errorf("name from the title %q, want cost-against-latency", scatter.Name)
	}
	checkChart(t, scatter)
}

func TestLineChartErrors(t *testing.T) {
	t.Parallel()
	one := []Series{{Name: "a", X: []float64{1, 2}, Y: []float64{1, 2}}}
	tests := []struct {
		name   string
		series []Series
		opts   []ChartOption
		want   string
	}{
		// x and y of different lengths
		{"lengths", []Series{{X: []float64{1, 2}, Y: []float64{1}}}, nil, "2 x values but 1 y values"},
		// zero cannot go on a log axis
		{"log zero", []Series{{X: []float64{0, 1}, Y: []float64{1, 2}}}, []ChartOption{LogX()}, "log axis"},
		// nor NaN anywhere
		{"nan", []Series{{X: []float64{1, 2}, Y: []float64{1, nan()}}}, nil, "cannot be drawn"},
		// no series at all
		{"empty", nil, nil, "no series"},
		// three panels
		{"panels", one, []ChartOption{Below(Panel{Series: one}), Below(Panel{Series: one})}, "at most two panels"},
		// a name that is not a file stem
		{"name", one, []ChartOption{ChartName("../x")}, "file stem"},
	}
	for _, tt := range tests {
		_, err := LineChart("t", "x", "y", tt.series, tt.opts...)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want one saying %q", tt.name, err, tt.want)
		}
	}
}

func nan() float64 { var z float64; return z / z }

func TestDistributionCharts(t *testing.T) {
	t.Parallel()
	h := hdrhistogram.New(1, 600_000_000, 3)
	h.RecordValue(42_000) // a single sample: one value at every percentile
	for _, draw := range []func(string, string, []Distribution) (Chart, error){DistributionChart, SpectrumChart} {
		c, err := draw("one", "One sample", []Distribution{{Name: "only", Hist: h}, {Name: "empty", Hist: hdrhistogram.New(1, 10, 3)}})
		if err != nil {
			t.Fatal(err)
		}
		checkChart(t, c)
		if shows(c.SVG, "empty") {
			t.Errorf("%s: empty distribution in the legend", c.Name)
		}
		if _, err := draw("none", "None", nil); err == nil {
			t.Errorf("no distributions: no error")
		}
	}
}
