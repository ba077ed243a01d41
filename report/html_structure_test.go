package report

import (
	"bufio"
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// The structure goldens pin what a reader finds in report.html and
// report.md, not how it looks: the headings in order, each table's column
// headers (or, for a table of names and values, its row names), the
// charts, the banner, the collapsible block. Pixels and numbers are free
// to change; a section or column that moves, appears or goes is not.

// htmlStructure lists the structure of an HTML report, one item a line.
func htmlStructure(t *testing.T, page []byte) string {
	t.Helper()
	doc, err := html.Parse(bytes.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			switch n.Data {
			case "h1", "h2", "h3", "h4":
				fmt.Fprintf(&b, "%s %s\n", n.Data, nodeText(n))
				return
			case "table":
				fmt.Fprintf(&b, "table: %s\n", strings.Join(tableHeads(n), " | "))
				return
			case "figure":
				fmt.Fprintf(&b, "figure #%s: %s\n", attr(n, "id"), attr(find(n, "img"), "alt"))
				return
			case "details":
				fmt.Fprintf(&b, "details: %s\n", nodeText(find(n, "summary")))
				return
			case "div":
				if attr(n, "class") == "banner" {
					fmt.Fprintf(&b, "banner: %.10s…\n", nodeText(n))
					return
				}
			case "pre":
				fmt.Fprintln(&b, "pre")
				return
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return b.String()
}

// tableHeads are a table's column headers, or the names of its rows when
// it has no header row (a name and value table).
func tableHeads(n *html.Node) []string {
	var heads, rows []string
	var walk func(n *html.Node, inHead bool)
	walk = func(n *html.Node, inHead bool) {
		if n.Type == html.ElementNode && n.Data == "thead" {
			inHead = true
		}
		if n.Type == html.ElementNode && n.Data == "th" {
			if inHead {
				heads = append(heads, nodeText(n))
			} else {
				rows = append(rows, nodeText(n))
			}
			return
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c, inHead)
		}
	}
	walk(n, false)
	if len(heads) == 0 {
		return append([]string{"rows"}, rows...)
	}
	return heads
}

func nodeText(n *html.Node) string {
	if n == nil {
		return ""
	}
	var b strings.Builder
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return strings.Join(strings.Fields(b.String()), " ")
}

func attr(n *html.Node, key string) string {
	if n == nil {
		return ""
	}
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func find(n *html.Node, tag string) *html.Node {
	if n.Type == html.ElementNode && n.Data == tag {
		return n
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if f := find(c, tag); f != nil {
			return f
		}
	}
	return nil
}

var (
	mdSeparator = regexp.MustCompile(`^\|(:?-+:?\|)+$`)
	mdImage     = regexp.MustCompile(`^!\[(.*)\]\((.*)\)$`)
)

// mdStructure lists the structure of a Markdown report the same way:
// headings, table headers, images, the banner and code blocks.
func mdStructure(md []byte) string {
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(md))
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	var b strings.Builder
	fence := ""
	for i, l := range lines {
		switch {
		case fence != "":
			if l == fence {
				fence = ""
			}
		case strings.HasPrefix(l, "```"):
			fence = strings.TrimRight(l, "abcdefghijklmnopqrstuvwxyz")
			fmt.Fprintf(&b, "code %s\n", strings.TrimLeft(l, "`"))
		case strings.HasPrefix(l, "#"):
			fmt.Fprintln(&b, l)
		case strings.HasPrefix(l, "> **INCOMPLETE"):
			fmt.Fprintf(&b, "banner: %.10s…\n", strings.TrimPrefix(l, "> **"))
		case i+1 < len(lines) && strings.HasPrefix(l, "|") && mdSeparator.MatchString(lines[i+1]):
			cells := strings.Split(strings.TrimSuffix(strings.TrimPrefix(l, "| "), " |"), " | ")
			fmt.Fprintf(&b, "table: %s\n", strings.Join(cells, " | "))
		case mdImage.MatchString(l):
			m := mdImage.FindStringSubmatch(l)
			fmt.Fprintf(&b, "image %s: %s\n", m[2], m[1])
		}
	}
	return b.String()
}

func TestReportStructure(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		// complete: a run with a timeline, its scenario beside it; else
		// the interrupted fixture: no timeline chart, no scenario
		complete bool
	}{
		{"complete", true},
		{"interrupted", false},
	} {
		p := timelinePage(t)
		if !tt.complete {
			// What RunPage("", r) gives, without drawing the charts again.
			r := interrupted(t)
			p = Page{Title: runTitle(r), Run: r, Env: RunEnv(r), Raw: r, Charts: p.Charts[:2]}
		}
		var md bytes.Buffer
		if err := WriteMarkdown(&md, p); err != nil {
			t.Fatal(err)
		}
		hs, ms := htmlStructure(t, renderHTMLQuiet(t, p)), mdStructure(md.Bytes())
		golden(t, "structure-"+tt.name+".html.golden", []byte(hs))
		golden(t, "structure-"+tt.name+".md.golden", []byte(ms))

		// Both say the same: the same sections in the same order, but for
		// the raw JSON, which run.json beside report.md holds.
		if h, m := headings(hs, "h"), headings(ms, "#"); h != m+"Raw numbers\n" {
			t.Errorf("%s: headings differ:\nreport.html:\n%s\nreport.md:\n%s", tt.name, h, m)
		}
	}
}

// headings keeps the heading lines of a structure, as level and text.
func headings(structure, prefix string) string {
	var b strings.Builder
	for _, l := range strings.Split(structure, "\n") {
		if !strings.HasPrefix(l, prefix) {
			continue
		}
		_, title, _ := strings.Cut(l, " ")
		b.WriteString(title + "\n")
	}
	return b.String()
}
