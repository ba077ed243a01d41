package report

import (
	"bytes"
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/coldbench/coldbench/results"
)

// HTMLFile is the name of the HTML report in a run directory.
const HTMLFile = "report.html"

// IDs of the sections WriteHTML writes itself; a Page's own sections need
// other IDs.
var reservedIDs = []string{"summary", "cold-warm", "errors", "detection", "charts", "scenario", "environment", "raw"}

//go:embed html.tmpl
var htmlSource string

//go:embed html.css
var htmlCSS string

var htmlTmpl = template.Must(template.New("report.html").Parse(htmlSource))

// htmlPage is what the template reads.
type htmlPage struct {
	Page
	Summary *summary
	Charts  []htmlChart
	Nav     [][2]string // id, title of every top-level section in order
	CSS     template.CSS
	RawJSON string
	Note    string
	// ExemplarNote explains the exemplar tables.
	ExemplarNote string
	// EvidenceNote explains the inference's evidence table.
	EvidenceNote string
}

// htmlChart is a chart embedded as an SVG data: URI, so that the page
// loads nothing and the chart's markup cannot clash with the page's.
type htmlChart struct {
	Name, Title string
	Src         template.URL
}

// WriteHTML writes p as one self-contained HTML page (report.html): inline
// CSS, the charts inline as SVG images in data: URIs, and no reference to
// anything outside the file (no fonts, scripts or images to fetch). In
// order: the title, an INCOMPLETE banner for an unfinished run, the lead
// sections, the run's summary, the further sections, the charts, the
// scenario, the environment and the raw numbers as JSON in a collapsed
// <details> block. Section IDs must be unique and must not be one of
// those the page uses itself (summary, cold-warm, errors, detection,
// charts, scenario, environment, raw).
func WriteHTML(w io.Writer, p Page) error {
	hp := htmlPage{Page: p, CSS: template.CSS(htmlCSS), Note: latencyNote, ExemplarNote: exemplarNote, EvidenceNote: evidenceNote}
	seen := map[string]bool{}
	for _, id := range reservedIDs {
		seen[id] = true
	}
	for _, s := range append(append([]Section(nil), p.Lead...), p.Sections...) {
		if s.ID == "" || seen[s.ID] {
			return fmt.Errorf("write %s: section %q: ID %q is empty, taken or reserved", HTMLFile, s.Title, s.ID)
		}
		seen[s.ID] = true
	}
	nav := func(id, title string) { hp.Nav = append(hp.Nav, [2]string{id, title}) }
	for _, s := range p.Lead {
		nav(s.ID, s.Title)
	}
	if p.Run != nil {
		hp.Summary = newSummary(p.Run)
		nav("summary", "Summary")
		nav("cold-warm", "Cold vs warm")
		nav("errors", "Errors")
		nav("detection", "Cold-start detection")
	}
	for _, s := range p.Sections {
		nav(s.ID, s.Title)
	}
	for _, c := range p.Charts {
		if len(c.SVG) == 0 {
			return fmt.Errorf("write %s: chart %q has no SVG", HTMLFile, c.Name)
		}
		hp.Charts = append(hp.Charts, htmlChart{
			Name:  c.Name,
			Title: c.Title,
			Src:   template.URL("data:image/svg+xml;base64," + base64.StdEncoding.EncodeToString(c.SVG)),
		})
	}
	if len(p.Charts) > 0 {
		nav("charts", "Charts")
	}
	if p.Scenario != "" {
		nav("scenario", "Scenario")
	}
	if len(p.Env) > 0 {
		nav("environment", "Environment")
	}
	if p.Raw != nil {
		b, err := json.MarshalIndent(p.Raw, "", "  ")
		if err != nil {
			return fmt.Errorf("write %s: raw numbers: %w", HTMLFile, err)
		}
		hp.RawJSON = string(b)
		nav("raw", "Raw numbers")
	}
	var buf bytes.Buffer
	if err := htmlTmpl.Execute(&buf, hp); err != nil {
		return fmt.Errorf("write %s: %w", HTMLFile, err)
	}
	_, err := buf.WriteTo(w)
	return err
}

// RunPage builds the report page of a plain run: its summary, charts,
// environment and record as the raw numbers, and the scenario as it was
// run when the run directory dir holds it (results.ScenarioFile). dir may
// be empty for none.
func RunPage(dir string, r *results.Run) (Page, error) {
	charts, err := RunCharts(r)
	if err != nil {
		return Page{}, err
	}
	return runPage(dir, r, charts)
}

// runPage is RunPage with the charts drawn.
func runPage(dir string, r *results.Run, charts []Chart) (Page, error) {
	p := Page{Title: runTitle(r), Run: r, Env: RunEnv(r), Raw: r, Charts: charts, Lead: thresholdSections(r)}
	var err error
	if p.Scenario, err = scenarioText(dir); err != nil {
		return Page{}, err
	}
	return p, nil
}

// scenarioText is the scenario as run, read from the directory dir of a
// run, tuning run or plan (results.ScenarioFile): "" when dir is empty or
// holds none.
func scenarioText(dir string) (string, error) {
	if dir == "" {
		return "", nil
	}
	b, err := os.ReadFile(filepath.Join(dir, results.ScenarioFile))
	switch {
	case err == nil:
		return string(b), nil
	case errors.Is(err, fs.ErrNotExist):
		return "", nil
	}
	return "", fmt.Errorf("read scenario: %w", err)
}

// HTML writes r as report.html, charts inline, without the scenario
// (which only the run directory holds: see RunPage).
func HTML(w io.Writer, r *results.Run) error {
	p, err := RunPage("", r)
	if err != nil {
		return err
	}
	return WriteHTML(w, p)
}

// WritePage writes p's files into the run directory dir: every chart as
// NAME.png and NAME.svg, report.md (WriteMarkdown, linking the PNGs) and
// report.html (WriteHTML). Each file is replaced atomically.
func WritePage(dir string, p Page) error {
	for _, c := range p.Charts {
		if err := results.WriteFileAtomic(filepath.Join(dir, c.Name+".png"), c.PNG); err != nil {
			return fmt.Errorf("write chart: %w", err)
		}
		if err := results.WriteFileAtomic(filepath.Join(dir, c.Name+".svg"), c.SVG); err != nil {
			return fmt.Errorf("write chart: %w", err)
		}
	}
	var md bytes.Buffer
	if err := WriteMarkdown(&md, p); err != nil {
		return fmt.Errorf("render %s: %w", MarkdownFile, err)
	}
	if err := results.WriteFileAtomic(filepath.Join(dir, MarkdownFile), md.Bytes()); err != nil {
		return err
	}
	var html bytes.Buffer
	if err := WriteHTML(&html, p); err != nil {
		return err
	}
	return results.WriteFileAtomic(filepath.Join(dir, HTMLFile), html.Bytes())
}
