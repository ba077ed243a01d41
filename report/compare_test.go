package report

import (
	"bytes"
	"encoding/xml"
	"regexp"
	"strings"
	"testing"

	"github.com/coldbench/coldbench/compare"
)

// compareFixture is a comparison with every verdict, gated and not, and a
// phase name that needs escaping in Markdown.
func compareFixture() *compare.Result {
	o := compare.DefaultOptions()
	o.Gate = []compare.Gate{{Metric: "warm.p99"}, {Metric: "cold.p99"}, {Metric: "errors.rate"}, {Phase: "a|b", Metric: "warm.p50"}}
	r := &compare.Result{Base: "baseline nightly", New: "runs/new", Options: o, Verdict: compare.Worse,
		Notes: []string{`phase "x" is only in the baseline`}}
	add := func(phase, metric, unit string, base, new, lo, hi float64, v compare.Verdict, gated bool) {
		r.Changes = append(r.Changes, compare.Change{Phase: phase, Metric: metric, Unit: unit, Base: base, New: new,
			BaseN: 1000, NewN: 1000, Delta: new - base, Rel: (new - base) / base, Lo: lo, Hi: hi, MinEffect: 0.15 * base,
			P: -1, Verdict: v, Gated: gated})
	}
	add("", "warm.p50", "ms", 40, 41, -0.5, 2.5, compare.Same, false)
	add("", "warm.p99", "ms", 60, 80, 15, 25, compare.Worse, true)
	add("", "cold.p99", "ms", 300, 310, -40, 70, compare.Inconclusive, true)
	add("", "errors.rate", "share", 0.001, 0.002, -0.002, 0.004, compare.Same, true)
	add("a|b", "warm.p50", "ms", 40, 30, -12, -8, compare.Better, true)
	return r
}

// TestCompareJUnit: the JUnit file decodes into the testsuites /
// testsuite / testcase shape CI systems read, one test case per gated
// metric, a failure for each worse one and none for the others, and
// counts that agree.
func TestCompareJUnit(t *testing.T) {
	var b bytes.Buffer
	if err := CompareJUnit(&b, compareFixture()); err != nil {
		t.Fatal(err)
	}
	type message struct {
		Message string `xml:"message,attr"`
		Type    string `xml:"type,attr"`
		Text    string `xml:",chardata"`
	}
	var doc struct {
		XMLName  xml.Name `xml:"testsuites"`
		Tests    int      `xml:"tests,attr"`
		Failures int      `xml:"failures,attr"`
		Suites   []struct {
			Name     string `xml:"name,attr"`
			Tests    int    `xml:"tests,attr"`
			Failures int    `xml:"failures,attr"`
			Skipped  int    `xml:"skipped,attr"`
			Cases    []struct {
				Name      string   `xml:"name,attr"`
				Classname string   `xml:"classname,attr"`
				Failure   *message `xml:"failure"`
				Skipped   *message `xml:"skipped"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatalf("not XML: %v\n%s", err, b.String())
	}
	if len(doc.Suites) != 1 {
		t.Fatalf("%d test suites, want 1:\n%s", len(doc.Suites), b.String())
	}
	s := doc.Suites[0]
	if s.Tests != 4 || doc.Tests != 4 || s.Failures != 1 || doc.Failures != 1 || s.Skipped != 1 || len(s.Cases) != 4 {
		t.Errorf("tests %d/%d, failures %d/%d, skipped %d, cases %d: want 4 gated cases, 1 failure, 1 skipped",
			s.Tests, doc.Tests, s.Failures, doc.Failures, s.Skipped, len(s.Cases))
	}
	want := map[string]string{"warm.p99": "failure", "cold.p99": "skipped", "errors.rate": "pass", "a|b:warm.p50": "pass"}
	for _, c := range s.Cases {
		got := "pass"
		switch {
		case c.Failure != nil:
			got = "failure"
			if c.Failure.Type != "regression" || !strings.Contains(c.Failure.Message, "60.0 ms → 80.0 ms") {
				t.Errorf("failure %+v: want type regression and the change", c.Failure)
			}
		case c.Skipped != nil:
			got = "skipped"
		}
		if want[c.Name] != got || c.Classname == "" {
			t.Errorf("case %q (class %q): %s, want %s", c.Name, c.Classname, got, want[c.Name])
		}
	}
}

// tableSep is a GitHub table's delimiter row.
var tableSep = regexp.MustCompile(`^\|(\s*:?-+:?\s*\|)+$`)

// cells counts a table row's cells: pipes not escaped with a backslash.
func cells(row string) int {
	n := 0
	for i := 0; i < len(row); i++ {
		switch row[i] {
		case '\\':
			i++
		case '|':
			n++
		}
	}
	return n - 1
}

// TestCompareMarkdown: every table in the Markdown is a GitHub table: a
// header row, a delimiter row, and rows of as many cells; the gated table
// has one row per gated metric and the verdict heads the page.
func TestCompareMarkdown(t *testing.T) {
	var b bytes.Buffer
	if err := CompareMarkdown(&b, compareFixture()); err != nil {
		t.Fatal(err)
	}
	md := b.String()
	if !strings.HasPrefix(md, "## coldbench compare: WORSE (warm.p99) (inconclusive: cold.p99)\n") {
		t.Errorf("first line: %q", strings.SplitN(md, "\n", 2)[0])
	}
	var tables [][]string
	var cur []string
	for _, line := range strings.Split(md, "\n") {
		if strings.HasPrefix(line, "|") {
			cur = append(cur, line)
			continue
		}
		if cur != nil {
			tables = append(tables, cur)
			cur = nil
		}
	}
	if len(tables) != 2 {
		t.Fatalf("%d tables, want 2 (gated, every metric):\n%s", len(tables), md)
	}
	for i, tab := range tables {
		if len(tab) < 3 || !tableSep.MatchString(tab[1]) {
			t.Errorf("table %d: no header and delimiter rows:\n%s", i, strings.Join(tab, "\n"))
			continue
		}
		n := cells(tab[0])
		for _, row := range tab {
			if cells(row) != n {
				t.Errorf("table %d: row %q has %d cells, the header %d", i, row, cells(row), n)
			}
		}
	}
	if got := len(tables[0]) - 2; got != 4 {
		t.Errorf("gated table has %d rows, want 4", got)
	}
	if got := len(tables[1]) - 2; got != 5 {
		t.Errorf("full table has %d rows, want 5", got)
	}
	for _, want := range []string{`a\|b`, "WORSE", "+20.0 ms (+33.3%)", `\[+15.0, +25.0\] ms`, "+0.10 pp"} {
		if !strings.Contains(md, want) {
			t.Errorf("Markdown lacks %q:\n%s", want, md)
		}
	}
}

// TestCompareText: the terminal table marks gated rows and says the verdict.
func TestCompareText(t *testing.T) {
	var b bytes.Buffer
	if err := CompareText(&b, compareFixture()); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"compare: WORSE (warm.p99)", "(all)", "Note: phase \"x\" is only in the baseline."} {
		if !strings.Contains(out, want) {
			t.Errorf("text lacks %q:\n%s", want, out)
		}
	}
}
