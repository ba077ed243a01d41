package report

import (
	"bufio"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/coldbench/coldbench/compare"
)

// This file renders a comparison of two runs (`coldbench compare`): a
// terminal table, GitHub Markdown for a job summary or a pull-request
// comment, JSON, and JUnit XML with one test case per gated metric.

// CompareText writes c as a terminal report: the verdict, what was
// compared, and one row per metric.
func CompareText(w io.Writer, c *compare.Result) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "compare: %s\n", verdictLine(c))
	fmt.Fprintf(bw, "baseline %s\nnew      %s\n%s\n\n", c.Base, c.New, methodLine(c.Options))
	tw := tabwriter.NewWriter(bw, 0, 8, 2, ' ', 0)
	t := compareTable(c.Changes, true)
	fmt.Fprintln(tw, strings.ToUpper(strings.Join(t.Header, "\t"))+"\t")
	for _, row := range t.Rows {
		for i := range row {
			row[i] = oneLine(row[i])
		}
		fmt.Fprintln(tw, strings.Join(row, "\t")+"\t")
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(bw, "A gated metric that is worse fails the comparison (exit 1).")
	for _, n := range c.Notes {
		fmt.Fprintf(bw, "Note: %s.\n", n)
	}
	return bw.Flush()
}

// CompareMarkdown writes c as GitHub Markdown: the verdict, the gated
// metrics, then every metric of every phase, as tables.
func CompareMarkdown(w io.Writer, c *compare.Result) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "## coldbench compare: %s\n\n", mdText(verdictLine(c)))
	fmt.Fprintf(bw, "Baseline %s, new %s. %s\n", mdCode(c.Base), mdCode(c.New), mdText(methodLine(c.Options)))
	for _, n := range c.Notes {
		fmt.Fprintf(bw, "\n> Note: %s.\n", mdText(n))
	}
	fmt.Fprintf(bw, "\n### Gated metrics\n\n%s", compareTable(c.Gated(), false).Markdown())
	fmt.Fprintf(bw, "\n### Every metric\n\n%s", compareTable(c.Changes, true).Markdown())
	fmt.Fprintln(bw, "\nLatencies in ms of successful requests, from the intended send time; rates in percent, changes of rates in percentage points (pp).")
	return bw.Flush()
}

// CompareJSON writes c as indented JSON.
func CompareJSON(w io.Writer, c *compare.Result) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(c)
}

// verdictLine is the overall verdict with the gated metrics that are
// worse or that could not be judged: "WORSE (warm.p99)", "same
// (inconclusive: cold.p99)".
func verdictLine(c *compare.Result) string {
	var worse, unsure []string
	for _, ch := range c.Gated() {
		switch ch.Verdict {
		case compare.Worse:
			worse = append(worse, ch.Name())
		case compare.Inconclusive:
			unsure = append(unsure, ch.Name())
		}
	}
	s := string(c.Verdict)
	if len(worse) > 0 {
		s = fmt.Sprintf("WORSE (%s)", strings.Join(worse, ", "))
	}
	if len(unsure) > 0 && c.Verdict != compare.Inconclusive {
		s += fmt.Sprintf(" (inconclusive: %s)", strings.Join(unsure, ", "))
	}
	return s
}

// methodLine says how changes were judged.
func methodLine(o compare.Options) string {
	return fmt.Sprintf("Minimum effect %s of the baseline, at least %s ms for latencies and %s pp for rates; %s%% confidence intervals, %d bootstrap resamples.",
		pct(o.MinEffect), num(o.MinEffectMs), num(o.MinRateEffect*100), num(o.Confidence*100), o.Resamples)
}

// compareTable is one row per change; all adds the phase, gated and
// samples columns.
func compareTable(cs []compare.Change, all bool) Table {
	t := Table{Header: []string{"Metric", "Base", "New", "Change", "Interval", "Min effect", "Verdict"}, Align: "c     l"}
	if all {
		t = Table{Header: []string{"Phase", "Metric", "Gated", "Base", "New", "Change", "Interval", "Min effect", "Samples", "Verdict"}, Align: "lcl      l"}
	}
	for _, c := range cs {
		verdict := string(c.Verdict)
		if c.Verdict == compare.Worse {
			verdict = "WORSE"
		}
		row := []string{c.Name(), value(c, c.Base, c.BaseN), value(c, c.New, c.NewN), change(c), interval(c), delta(c, c.MinEffect, false), verdict}
		if all {
			phase := c.Phase
			if phase == "" {
				phase = "(all)"
			}
			gated := ""
			if c.Gated {
				gated = "yes"
			}
			samples := strconv.FormatInt(c.BaseN, 10) + " / " + strconv.FormatInt(c.NewN, 10)
			row = []string{phase, c.Metric, gated, row[1], row[2], row[3], row[4], row[5], samples, verdict}
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}

// value formats a measured value: "35.1 ms", "2.50%"; "-" without samples.
func value(c compare.Change, v float64, n int64) string {
	if n == 0 {
		return "-"
	}
	if c.Unit == "share" {
		return strconv.FormatFloat(v*100, 'f', 2, 64) + "%"
	}
	return strconv.FormatFloat(v, 'f', 1, 64) + " ms"
}

// unitOf is how a change of c's metric is written: ms with one decimal,
// or percentage points with two.
func unitOf(c compare.Change) (scale float64, prec int, unit string) {
	if c.Unit == "share" {
		return 100, 2, "pp"
	}
	return 1, 1, "ms"
}

// delta formats a change (or a size of change) in its unit: "+3.2 ms".
func delta(c compare.Change, d float64, sign bool) string {
	scale, prec, unit := unitOf(c)
	f := "%.*f %s"
	if sign {
		f = "%+.*f %s"
	}
	return fmt.Sprintf(f, prec, d*scale, unit)
}

func change(c compare.Change) string {
	if c.BaseN == 0 || c.NewN == 0 {
		return "-"
	}
	s := delta(c, c.Delta, true)
	if c.Base != 0 {
		s += fmt.Sprintf(" (%+.1f%%)", c.Rel*100)
	}
	return s
}

// interval formats the confidence interval of the change: "[+1.0, +5.2] ms".
func interval(c compare.Change) string {
	if c.Lo == 0 && c.Hi == 0 && c.Verdict == compare.Inconclusive {
		return "-"
	}
	scale, prec, unit := unitOf(c)
	return fmt.Sprintf("[%+.*f, %+.*f] %s", prec, c.Lo*scale, prec, c.Hi*scale, unit)
}

func pct(f float64) string { return num(f*100) + "%" }

func num(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// JUnit XML: the shape Jenkins, GitLab, GitHub test reporters and most CI
// systems read. One test case per gated metric; a worse one has a
// <failure>, an inconclusive one is <skipped>.
type (
	junitSuites struct {
		XMLName  xml.Name     `xml:"testsuites"`
		Name     string       `xml:"name,attr"`
		Tests    int          `xml:"tests,attr"`
		Failures int          `xml:"failures,attr"`
		Errors   int          `xml:"errors,attr"`
		Skipped  int          `xml:"skipped,attr"`
		Suites   []junitSuite `xml:"testsuite"`
	}
	junitSuite struct {
		Name       string          `xml:"name,attr"`
		Tests      int             `xml:"tests,attr"`
		Failures   int             `xml:"failures,attr"`
		Errors     int             `xml:"errors,attr"`
		Skipped    int             `xml:"skipped,attr"`
		Time       string          `xml:"time,attr"`
		Properties []junitProperty `xml:"properties>property"`
		Cases      []junitCase     `xml:"testcase"`
	}
	junitProperty struct {
		Name  string `xml:"name,attr"`
		Value string `xml:"value,attr"`
	}
	junitCase struct {
		Name      string        `xml:"name,attr"`
		Classname string        `xml:"classname,attr"`
		Time      string        `xml:"time,attr"`
		Failure   *junitMessage `xml:"failure"`
		Skipped   *junitMessage `xml:"skipped"`
		SystemOut string        `xml:"system-out,omitempty"`
	}
	junitMessage struct {
		Message string `xml:"message,attr"`
		Type    string `xml:"type,attr,omitempty"`
		Text    string `xml:",chardata"`
	}
)

// CompareJUnit writes c as JUnit XML: one test suite, one test case per
// gated metric.
func CompareJUnit(w io.Writer, c *compare.Result) error {
	s := junitSuite{Name: "coldbench compare", Time: "0", Properties: []junitProperty{
		{"baseline", c.Base}, {"new", c.New}, {"verdict", string(c.Verdict)}, {"method", methodLine(c.Options)},
	}}
	for _, ch := range c.Gated() {
		summary := fmt.Sprintf("%s %s: %s → %s, change %s, interval %s, minimum effect %s (%s)",
			ch.Name(), ch.Verdict, value(ch, ch.Base, ch.BaseN), value(ch, ch.New, ch.NewN),
			change(ch), interval(ch), delta(ch, ch.MinEffect, false), ch.Reason)
		tc := junitCase{Name: ch.Name(), Classname: "coldbench.compare", Time: "0", SystemOut: summary}
		switch ch.Verdict {
		case compare.Worse:
			tc.Failure = &junitMessage{Message: summary, Type: "regression", Text: summary}
			s.Failures++
		case compare.Inconclusive:
			tc.Skipped = &junitMessage{Message: summary}
			s.Skipped++
		}
		s.Cases = append(s.Cases, tc)
		s.Tests++
	}
	doc := junitSuites{Name: "coldbench", Tests: s.Tests, Failures: s.Failures, Skipped: s.Skipped, Suites: []junitSuite{s}}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}
