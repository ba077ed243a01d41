// Package report renders a stored run record (results.Run) for people and
// tools: a terminal table, Markdown, a self-contained HTML page with charts,
// JSON, CSV and HdrHistogram percentile distributions, and writes the
// rendered files into the run directory. Other reports (a tuning run's)
// build a Page, draw their own charts with LineChart, and write it with
// WritePage.
//
// Rendering only reads the record; every number shown comes from it, and
// distributions come from its stored histograms, never from averaging
// percentiles.
package report

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/coldbench/coldbench/results"
)

// MarkdownFile is the name of the Markdown report in a run directory.
const MarkdownFile = "report.md"

// renderers maps each format name Render accepts to its renderer.
var renderers = map[string]func(io.Writer, *results.Run) error{
	"text":     Text,
	"json":     JSON,
	"md":       Markdown,
	"markdown": Markdown,
	"html":     HTML,
	"hgrm":     HGRM,
	"csv":      CSV,
}

// Formats lists the format names Render accepts.
var Formats = []string{"csv", "hgrm", "json", "markdown", "md", "text", "html"}

// Render writes r to w in the named format: text, json, md (or markdown),
// html (report.html with the charts inline), hgrm or csv.
func Render(w io.Writer, r *results.Run, format string) error {
	fn, ok := renderers[strings.ToLower(format)]
	if !ok {
		return fmt.Errorf("unknown report format %q (known: %s)", format, strings.Join(Formats, ", "))
	}
	return fn(w, r)
}

// WriteFiles writes the rendered reports of a plain run into its run
// directory dir (RunPage, WritePage): every chart as NAME.png and
// NAME.svg, report.md and report.html. Each file is replaced atomically.
// When the charts cannot be drawn the reports are still written, without
// them, and the error says why.
func WriteFiles(dir string, r *results.Run) error {
	charts, cerr := RunCharts(r)
	if cerr != nil {
		charts = nil
		cerr = fmt.Errorf("report: %w", cerr)
	}
	p, err := runPage(dir, r, charts)
	if err != nil {
		return errors.Join(cerr, fmt.Errorf("report: %w", err))
	}
	return errors.Join(cerr, WritePage(dir, p))
}

// JSON writes r as indented JSON: the content of run.json.
func JSON(w io.Writer, r *results.Run) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// Text writes r as a terminal report: how the run ended (an incomplete run
// is flagged on the first line), what ran against what, and a table with
// one row per phase and a TOTAL row.
func Text(w io.Writer, r *results.Run) error {
	bw := bufio.NewWriter(w)
	if s := statusLine(r); s != "" {
		fmt.Fprintf(bw, "%s\n\n", s)
	}

	tw := tabwriter.NewWriter(bw, 0, 8, 2, ' ', 0)
	fmt.Fprintf(tw, "scenario\t%s\n", oneLine(describeScenario(r)))
	fmt.Fprintf(tw, "target\t%s\n", oneLine(r.Target))
	fmt.Fprintf(tw, "started\t%s, ran %s\n", stamp(r.StartedAt), r.Elapsed())
	fmt.Fprintf(tw, "cold starts\t%s\n", coldSummary(r))
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(bw)

	tw = tabwriter.NewWriter(bw, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "PHASE\tREQUESTS\tRATE TARGET/ACHIEVED\tERRORS\tDROPPED\tCOLD\tCOLD P50\tCOLD P99\tWARM P50\tWARM P99")
	for _, row := range tableRows(r) {
		fmt.Fprintf(tw, "%s\t%s\t%s/%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n",
			oneLine(row.name), row.requests, row.target, row.achieved, row.errors, row.dropped,
			row.cold, row.coldP50, row.coldP99, row.warmP50, row.warmP99)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(bw, "Latencies in ms of successful requests, from the intended send time; rates in requests/s.")
	if top := results.TopCodes(r.Totals.ErrorCodes, 5); len(top) > 0 {
		parts := make([]string, len(top))
		for i, c := range top {
			parts[i] = fmt.Sprintf("%s %s %d", c.Class, c.Code, c.Count)
		}
		fmt.Fprintf(bw, "Errors by code (top %d): %s.\n", len(top), strings.Join(parts, ", "))
	}
	if err := writeSlowest(bw, r); err != nil { // exemplars.go
		return err
	}
	if n := inferredNote(r); n != "" {
		fmt.Fprintf(bw, "Note: %s.\n", n)
	}
	if err := writeThresholdsText(bw, r); err != nil { // thresholds.go
		return err
	}
	return bw.Flush()
}

func describeScenario(r *results.Run) string {
	s := r.Scenario
	if r.ScenarioFile != "" && r.ScenarioFile != r.Scenario {
		s += " (" + r.ScenarioFile + ")"
	}
	return s
}

// coldSummary is one line on cold starts over the whole run: how many, and
// what detected them.
func coldSummary(r *results.Run) string {
	t := &r.Totals
	known := t.Cold.Count + t.Warm.Count
	s := fmt.Sprintf("%d of %d successful requests of known temperature", t.Cold.Count, known)
	if known > 0 {
		s += " (" + percent(t.ColdRate) + ")"
	}
	var src []string
	for _, c := range coldSources(r.ColdDetection) {
		src = append(src, fmt.Sprintf("%s %d", c.name, c.n))
	}
	if len(src) > 0 {
		s += "; temperature decided by " + strings.Join(src, ", ")
	}
	return s
}

// oneLine keeps a name from breaking the table.
func oneLine(s string) string {
	return strings.NewReplacer("\t", " ", "\n", " ", "\r", " ").Replace(s)
}

// statusLine says how the run ended, for an incomplete run: why, and up to
// when the results go. It is empty for a complete run.
func statusLine(r *results.Run) string {
	if r.Complete {
		return ""
	}
	why := "run did not finish (the process was killed or is still running)"
	if r.Interrupted != "" {
		why = "run interrupted (" + r.Interrupted + ")"
	}
	return fmt.Sprintf("INCOMPLETE: %s — partial results up to %s", why, stamp(r.FinishedAt))
}

// row is one line of the phase table, shared by Text and Markdown.
type row struct {
	name                       string
	s                          *results.Stats
	requests, target, achieved string
	errors, dropped, cold      string
	coldP50, coldP99           string
	warmP50, warmP99           string
}

// tableRows are the phase table's rows: one per phase, then the totals.
func tableRows(r *results.Run) []row {
	rows := make([]row, 0, len(r.Phases)+1)
	for i := range r.Phases {
		rows = append(rows, newRow(r.Phases[i].Name, &r.Phases[i].Stats))
	}
	return append(rows, newRow("TOTAL", &r.Totals))
}

func newRow(name string, s *results.Stats) row {
	return row{
		name:     name,
		s:        s,
		requests: strconv.FormatInt(s.Requests, 10),
		target:   rate(s.RateTarget),
		achieved: rate(s.RateAchieved),
		errors:   errorsCell(s),
		dropped:  strconv.FormatInt(s.Dropped, 10),
		cold:     strconv.FormatInt(s.Cold.Count, 10),
		coldP50:  msCell(s.Cold.P50Ms, s.Cold.Count),
		coldP99:  msCell(s.Cold.P99Ms, s.Cold.Count),
		warmP50:  msCell(s.Warm.P50Ms, s.Warm.Count),
		warmP99:  msCell(s.Warm.P99Ms, s.Warm.Count),
	}
}

func errorsCell(s *results.Stats) string {
	n := s.ErrorCount()
	if n == 0 {
		return "0"
	}
	return fmt.Sprintf("%d (%s)", n, percent(s.ErrorRate))
}

// msCell formats a latency in milliseconds with the precision that matters
// at its size (251.3, 12.4, 3.42, 0.315); "-" when there are no samples.
func msCell(v float64, count int64) string {
	if count == 0 {
		return "-"
	}
	switch {
	case v >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	case v >= 1:
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
	return strconv.FormatFloat(v, 'f', 3, 64)
}

// rate formats requests per second; "-" for an unknown (zero) target.
func rate(v float64) string {
	if v == 0 {
		return "-"
	}
	return strconv.FormatFloat(v, 'f', 1, 64)
}

func percent(f float64) string {
	return strconv.FormatFloat(100*f, 'f', 1, 64) + "%"
}

// stamp formats a record time; "-" for a time never set.
func stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

// coldSources lists the detection sources that decided some request, as
// "platform 95, inferred 200".
func coldSources(cd results.ColdDetection) []sourceCount {
	all := []sourceCount{
		{"platform", cd.Platform},
		{"header", cd.Header},
		{"instance", cd.Instance},
		{"body", cd.Body},
		{"inferred", cd.Inferred},
		{"none", cd.None},
	}
	var out []sourceCount
	for _, s := range all {
		if s.n > 0 {
			out = append(out, s)
		}
	}
	return out
}

type sourceCount struct {
	name string
	n    int64
}

// inferredNote says in one line how sure inferred temperatures are; empty
// when none were inferred.
func inferredNote(r *results.Run) string {
	cd := r.ColdDetection
	if cd.Inferred == 0 {
		return ""
	}
	s := fmt.Sprintf("the cold/warm split of %d requests is inferred (no platform, header, instance or body signal)", cd.Inferred)
	in := r.Inference
	if in == nil {
		return s + "; the record holds no candidate cold start (none came with scale-out or after an idle gap, or an older coldbench wrote it)"
	}
	s += fmt.Sprintf(": of %d candidates (scale-out or idle gap), %d cold, %d warm, %d unknown",
		in.Candidates, in.Cold, in.Warm, in.NoBaseline+in.HostLag+in.TargetWide)
	if why := unknownWhy(in); why != "" {
		s += " (" + why + ")"
	}
	if in.Compared > 0 {
		s += fmt.Sprintf("; warm baseline %s ms, cold from %s ms", msCell(in.BaselineMs, 1), msCell(in.ThresholdMs, 1))
	}
	return s
}

// unknownWhy lists why candidates were left unknown: "2 no warm baseline,
// 5 generator lag".
func unknownWhy(in *results.InferenceStats) string {
	var why []string
	for _, x := range []struct {
		n    int64
		name string
	}{{in.NoBaseline, "no warm baseline"}, {in.HostLag, "generator lag"}, {in.TargetWide, "target-wide slowdown"}} {
		if x.n > 0 {
			why = append(why, fmt.Sprintf("%d %s", x.n, x.name))
		}
	}
	return strings.Join(why, ", ")
}
