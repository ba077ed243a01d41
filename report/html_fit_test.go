package report

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"golang.org/x/net/html"

	"github.com/coldbench/coldbench/results"
)

// TestTablesScroll: every table of the run, tuning and plan reports sits in
// its own horizontally scrolling box, so a table wider than the screen (a
// phone, or the tuning settings at 1280 px) scrolls inside the box instead
// of being cut off or widening the page. `make report-screenshot` shows the
// pages as a browser draws them.
func TestTablesScroll(t *testing.T) {
	t.Parallel()
	css, err := os.ReadFile("html.css")
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?m)^\.table \{[^}]*overflow-x: auto`).Match(css) {
		t.Fatal("html.css: .table is not a horizontally scrolling box")
	}
	if !regexp.MustCompile(`@media \(max-width: \d+px\)`).Match(css) {
		t.Error("html.css: no narrow-screen (phone) rules")
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, results.ScenarioFile), []byte("name: checkout\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tune, err := TunePage(dir, tuneRecord())
	if err != nil {
		t.Fatal(err)
	}
	plan, err := CapacityPage(dir, planRecord())
	if err != nil {
		t.Fatal(err)
	}
	for name, p := range map[string]Page{"run": timelinePage(t), "tune": tune, "plan": plan} {
		doc, err := html.Parse(bytes.NewReader(renderHTMLQuiet(t, p)))
		if err != nil {
			t.Fatal(err)
		}
		tables := 0
		var walk func(n *html.Node)
		walk = func(n *html.Node) {
			if n.Type == html.ElementNode && n.Data == "table" {
				tables++
				if box := n.Parent; box == nil || box.Data != "div" || attr(box, "class") != "table" {
					t.Errorf("%s report: table %d (%v) is not inside a scrolling <div class=\"table\">", name, tables, tableHeads(n))
				}
			}
			for c := n.FirstChild; c != nil; c = c.NextSibling {
				walk(c)
			}
		}
		walk(doc)
		if tables < 2 {
			t.Errorf("%s report: %d tables; the fixture should have several", name, tables)
		}
	}
}
