package report

import (
	"bytes"
	"encoding/base64"
	"html/template"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"golang.org/x/net/html"

	"github.com/coldbench/coldbench/results"
)

// scenarioYAML is a scenario as stored beside a run, with markup that
// must come out escaped.
const scenarioYAML = `name: cold-and-warm
description: "<script>alert('not run')</script> & more"
target:
  driver: sim
phases:
  - name: warm-up
    duration: 10s
`

// scenarioDir writes a run directory holding the scenario.
func scenarioDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, results.ScenarioFile), []byte(scenarioYAML), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

var (
	pageOnce sync.Once
	page     Page
	pageErr  error
)

// timelinePage is RunPage of withTimeline's run in a directory holding
// the scenario, built once: drawing charts is the slow part of these
// tests, most so under the race detector. Callers get a copy of the Page
// and must not change its charts' bytes.
func timelinePage(t *testing.T) Page {
	t.Helper()
	pageOnce.Do(func() {
		dir, err := os.MkdirTemp("", "coldbench-report-test-")
		if err != nil {
			pageErr = err
			return
		}
		defer os.RemoveAll(dir)
		if pageErr = os.WriteFile(filepath.Join(dir, results.ScenarioFile), []byte(scenarioYAML), 0o644); pageErr != nil {
			return
		}
		page, pageErr = RunPage(dir, withTimeline(t))
	})
	if pageErr != nil {
		t.Fatal(pageErr)
	}
	return page
}

func renderHTML(t *testing.T, p Page) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteHTML(&buf, p); err != nil {
		t.Fatal(err)
	}
	if *chartsDir != "" {
		if err := os.WriteFile(filepath.Join(*chartsDir, HTMLFile), buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

// remoteRef finds a reference to anything over the network.
var remoteRef = regexp.MustCompile(`(?i)(https?:)?//[a-z0-9]`)

// checkSelfContained fails when the page could load anything: an element
// that fetches (script, link, iframe…), an attribute pointing at a remote
// URL, or url( ) or @import in CSS, in the page or in an inline SVG.
func checkSelfContained(t *testing.T, page []byte) {
	t.Helper()
	z := html.NewTokenizer(bytes.NewReader(page))
	inStyle := false
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			break
		}
		tok := z.Token()
		switch tt {
		case html.StartTagToken, html.SelfClosingTagToken:
			switch tok.Data {
			case "script", "link", "iframe", "object", "embed", "base", "video", "audio", "source":
				t.Errorf("page has a <%s> element", tok.Data)
			case "style":
				inStyle = true
			}
			for _, a := range tok.Attr {
				switch a.Key {
				case "src", "href", "srcset", "action", "poster", "data", "xlink:href":
					switch {
					case strings.HasPrefix(a.Val, "data:image/svg+xml;base64,"):
						svg, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(a.Val, "data:image/svg+xml;base64,"))
						if err != nil {
							t.Errorf("<%s %s>: %v", tok.Data, a.Key, err)
						}
						checkSVGSelfContained(t, svg)
					case strings.HasPrefix(a.Val, "#"):
					default:
						t.Errorf("<%s %s=%.60q>: not a fragment or an inline image", tok.Data, a.Key, a.Val)
					}
				case "style":
					checkCSS(t, a.Val)
				}
			}
		case html.EndTagToken:
			if tok.Data == "style" {
				inStyle = false
			}
		case html.TextToken:
			if inStyle {
				checkCSS(t, tok.Data)
			}
		}
	}
	for _, scheme := range []string{"src=\"http", "href=\"http", "url(http", "src='http", "href='http"} {
		if bytes.Contains(bytes.ToLower(page), []byte(scheme)) {
			t.Errorf("page contains %q", scheme)
		}
	}
}

// imageSources is the set of the page's <img src> values, unescaped.
func imageSources(page []byte) map[string]bool {
	srcs := map[string]bool{}
	z := html.NewTokenizer(bytes.NewReader(page))
	for tt := z.Next(); tt != html.ErrorToken; tt = z.Next() {
		if tok := z.Token(); tok.Data == "img" {
			for _, a := range tok.Attr {
				if a.Key == "src" {
					srcs[a.Val] = true
				}
			}
		}
	}
	return srcs
}

func checkCSS(t *testing.T, css string) {
	t.Helper()
	if strings.Contains(css, "url(") || strings.Contains(css, "@import") || strings.Contains(css, "@font-face") {
		t.Errorf("CSS loads something: %.200q", css)
	}
}

// checkSVGSelfContained fails on an SVG that references anything: only
// the xmlns namespace names, which are never fetched, may be URLs.
func checkSVGSelfContained(t *testing.T, svg []byte) {
	t.Helper()
	s := regexp.MustCompile(`xmlns(:\w+)?="[^"]*"`).ReplaceAllString(string(svg), "")
	if m := remoteRef.FindString(s); m != "" {
		t.Errorf("inline SVG references %q", m)
	}
	for _, bad := range []string{"href=", "url(", "<script", "<image", "@import"} {
		if strings.Contains(s, bad) {
			t.Errorf("inline SVG contains %q", bad)
		}
	}
}

func TestHTMLSelfContained(t *testing.T) {
	t.Parallel()
	p := timelinePage(t)
	page := renderHTML(t, p)
	checkSelfContained(t, page)
	if len(p.Charts) != 3 {
		t.Fatalf("%d charts, want 3", len(p.Charts))
	}
	srcs := imageSources(page)
	for _, c := range p.Charts {
		if !srcs["data:image/svg+xml;base64,"+base64.StdEncoding.EncodeToString(c.SVG)] {
			t.Errorf("page does not contain chart %s", c.Name)
		}
	}
	for _, want := range []string{
		// the scenario, escaped
		"&lt;script&gt;alert(&#39;not run&#39;)&lt;/script&gt; &amp; more",
		// the raw numbers, collapsed
		"<details>", `&#34;schema&#34;: &#34;coldbench.run/v1&#34;`,
		// the environment
		"<th scope=\"row\">coldbench</th><td>v0.1.0-test</td>",
	} {
		if !bytes.Contains(page, []byte(want)) {
			t.Errorf("page lacks %s", want)
		}
	}
	if bytes.Contains(page, []byte("<script>")) {
		t.Errorf("scenario text not escaped")
	}
	if bytes.Contains(page, []byte("INCOMPLETE")) {
		t.Errorf("complete run flagged incomplete")
	}
}

func TestHTMLIncomplete(t *testing.T) {
	t.Parallel()
	p := timelinePage(t)
	p.Run = interrupted(t)
	page := string(renderHTMLQuiet(t, p))
	want := `<div class="banner" role="alert">INCOMPLETE: run interrupted (signal: interrupt) — partial results up to 2026-11-25T17:01:32Z</div>`
	if !strings.Contains(page, want) {
		t.Errorf("no INCOMPLETE banner %s", want)
	}
	if strings.Index(page, want) > strings.Index(page, `<section id="summary">`) {
		t.Errorf("banner after the summary")
	}
}

func renderHTMLQuiet(t *testing.T, p Page) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteHTML(&buf, p); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestPageOrder checks where a Page's own sections go, as a tuning report
// uses them: the lead first, the further sections after the run's summary
// and before the charts, in both renderings.
func TestPageOrder(t *testing.T) {
	t.Parallel()
	r := fixture(t)
	tbl := Table{Header: []string{"Memory", "Cost"}, Align: "r", Rows: [][]string{{"512", "1.10"}, {"1024", "1.60"}}, Strong: []int{1}}
	p := Page{
		Title:    "coldbench tune: fn",
		Lead:     []Section{{ID: "recommendation", Title: "Recommendation", HTML: "<p>Run at 1024 MB.</p>", Markdown: "Run at 1024 MB."}},
		Run:      r,
		Sections: []Section{{ID: "settings", Title: "Settings", HTML: tbl.HTML(), Markdown: tbl.Markdown()}},
		Charts:   []Chart{{Name: "c", Title: "C", SVG: []byte(`<svg xmlns="http://www.w3.org/2000/svg"/>`)}},
		Env:      [][2]string{{"Agents", "2"}},
	}
	page := string(renderHTMLQuiet(t, p))
	var md bytes.Buffer
	if err := WriteMarkdown(&md, p); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		doc   string
		marks []string
	}{
		{page, []string{`id="recommendation"`, `id="summary"`, `id="detection"`, `id="settings"`, `id="charts"`, `id="environment"`}},
		{md.String(), []string{"## Recommendation", "## Summary", "## Cold-start detection", "## Settings", "## Charts", "## Environment"}},
	} {
		last := -1
		for _, m := range tc.marks {
			i := strings.Index(tc.doc, m)
			if i < 0 || i < last {
				t.Errorf("%s at %d, want after %d: order %v", m, i, last, tc.marks)
			}
			last = i
		}
	}
	for _, want := range []string{`<tr class="strong"><td class="num">1024</td>`, "<p>Run at 1024 MB.</p>"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	if !strings.Contains(md.String(), "| **1024** | **1.60** |") {
		t.Errorf("markdown does not mark the strong row:\n%s", md.String())
	}

	// IDs must be unique and not the page's own.
	for _, id := range []string{"summary", "recommendation", ""} {
		bad := p
		bad.Sections = []Section{{ID: id, Title: "x"}}
		if err := WriteHTML(&bytes.Buffer{}, bad); err == nil {
			t.Errorf("section ID %q accepted", id)
		}
	}
}

func TestRenderHTML(t *testing.T) {
	t.Parallel()
	r := fixture(t) // no timeline: two charts, drawn faster
	var buf bytes.Buffer
	if err := Render(&buf, r, "html"); err != nil {
		t.Fatal(err)
	}
	checkSelfContained(t, buf.Bytes())
	if n := bytes.Count(buf.Bytes(), []byte("<figure")); n != 2 {
		t.Errorf("%d charts in the page, want 2", n)
	}
	if bytes.Contains(buf.Bytes(), []byte(`id="scenario"`)) {
		t.Errorf("a scenario section without a scenario")
	}
}

func TestWriteFilesCharts(t *testing.T) {
	t.Parallel()
	want := timelinePage(t)
	dir := scenarioDir(t)
	if err := WriteFiles(dir, want.Run); err != nil {
		t.Fatal(err)
	}
	for _, c := range want.Charts {
		for ext, b := range map[string][]byte{".png": c.PNG, ".svg": c.SVG} {
			got, err := os.ReadFile(filepath.Join(dir, c.Name+ext))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, b) {
				t.Errorf("%s%s differs from the chart", c.Name, ext)
			}
		}
	}
	page, err := os.ReadFile(filepath.Join(dir, HTMLFile))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(page, renderHTMLQuiet(t, want)) {
		t.Errorf("%s differs from WriteHTML(RunPage(dir))", HTMLFile)
	}
	md, err := os.ReadFile(filepath.Join(dir, MarkdownFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range want.Charts {
		link := "![" + c.Title + "](" + c.Name + ".png)"
		if !bytes.Contains(md, []byte(link)) {
			t.Errorf("%s has no link %s", MarkdownFile, link)
		}
	}
	if !bytes.Contains(md, []byte("```yaml\n"+scenarioYAML+"```\n")) {
		t.Errorf("%s lacks the scenario", MarkdownFile)
	}
}

func TestTableHTMLEscapes(t *testing.T) {
	t.Parallel()
	got := Table{Header: []string{"<h>"}, Align: "c", Rows: [][]string{{"a<b>&"}}}.HTML()
	want := template.HTML(`<code>a&lt;b&gt;&amp;</code>`)
	if !strings.Contains(string(got), string(want)) || strings.Contains(string(got), "<h>") {
		t.Errorf("table HTML not escaped:\n%s", got)
	}
}

func TestDegradedFleet(t *testing.T) {
	t.Parallel()
	r := fixture(t)
	r.Degraded = true
	r.DegradedReasons = []string{"agent 10.0.0.6:7070 lost 3s after the start"}
	r.Agents = []results.AgentStats{{Name: "10.0.0.5:7070", Status: "done"}, {Name: "10.0.0.6:7070", Status: "lost"}}
	p := Page{Title: runTitle(r), Run: r, Env: RunEnv(r)}
	page := string(renderHTMLQuiet(t, p))
	var md bytes.Buffer
	if err := WriteMarkdown(&md, p); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ doc, want string }{
		{page, `<div class="banner" role="alert">DEGRADED: agent 10.0.0.6:7070 lost 3s after the start</div>`},
		{page, `<th scope="row">Agents</th><td>2: 10.0.0.5:7070 (done), 10.0.0.6:7070 (lost)</td>`},
		{md.String(), "> **DEGRADED: agent 10.0.0.6:7070 lost 3s after the start**"},
		{md.String(), "| Agents | 2: 10.0.0.5:7070 (done), 10.0.0.6:7070 (lost) |"},
	} {
		if !strings.Contains(tc.doc, tc.want) {
			t.Errorf("report lacks %s", tc.want)
		}
	}
	// A local run's one in-process agent is not worth a line.
	r.Agents = []results.AgentStats{{Name: "local", Status: "done"}}
	for _, kv := range RunEnv(r) {
		if kv[0] == "Agents" {
			t.Errorf("local run lists agents: %v", kv)
		}
	}
}
