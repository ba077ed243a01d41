package report

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/coldbench/coldbench/results"
)

// Markdown writes r as a GitHub Markdown report (report.md, and the summary
// a CI job shows): the same content as RunPage's report.html without the
// chart images inline or the raw JSON: a title, the summary of the run
// (phase table, cold vs warm per phase, errors by class, how cold starts
// were detected), links to the chart files WriteFiles writes beside it,
// and the environment. It draws no chart.
func Markdown(w io.Writer, r *results.Run) error {
	p := Page{Title: runTitle(r), Run: r, Env: RunEnv(r), Lead: thresholdSections(r)}
	for _, s := range runChartSpecs(r) {
		p.Charts = append(p.Charts, Chart{Name: s.name, Title: s.title})
	}
	return WriteMarkdown(w, p)
}

// WriteMarkdown writes p as GitHub Markdown (report.md): the title, the
// INCOMPLETE banner of an unfinished run, the lead sections, the run's
// summary, the further sections, the charts as images linked beside the
// file (NAME.png), the scenario and the environment. The raw JSON is left
// out: run.json is beside it.
func WriteMarkdown(w io.Writer, p Page) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "# %s\n", mdText(p.Title))
	var s *summary
	if p.Run != nil {
		s = newSummary(p.Run)
		for _, b := range []string{s.Status, s.Degraded} {
			if b != "" {
				fmt.Fprintf(bw, "\n> **%s**\n", mdText(b))
			}
		}
	}
	for _, sec := range p.Lead {
		writeSection(bw, sec)
	}
	if s != nil {
		writeSummary(bw, s)
	}
	for _, sec := range p.Sections {
		writeSection(bw, sec)
	}
	if len(p.Charts) > 0 {
		fmt.Fprint(bw, "\n## Charts\n")
		for _, c := range p.Charts {
			fmt.Fprintf(bw, "\n![%s](%s.png)\n", mdText(c.Title), c.Name)
		}
	}
	if p.Scenario != "" {
		fence := "```"
		for strings.Contains(p.Scenario, fence) {
			fence += "`"
		}
		fmt.Fprintf(bw, "\n## Scenario\n\n%syaml\n%s\n%s\n", fence, strings.TrimRight(p.Scenario, "\n"), fence)
	}
	if len(p.Env) > 0 {
		t := Table{Header: []string{"Name", "Value"}, Align: "ll"}
		for _, kv := range p.Env {
			t.Rows = append(t.Rows, []string{kv[0], kv[1]})
		}
		fmt.Fprintf(bw, "\n## Environment\n\n%s", t.Markdown())
	}
	return bw.Flush()
}

func writeSection(w io.Writer, s Section) {
	fmt.Fprintf(w, "\n## %s\n\n%s\n", mdText(s.Title), strings.TrimRight(s.Markdown, "\n"))
}

// writeSummary writes the summary of a run: what ran and how it ended, the
// phase table, then cold vs warm, errors and detection.
func writeSummary(w io.Writer, s *summary) {
	done := "complete"
	if !s.Complete {
		done = "**incomplete**"
	}
	scenario := mdCode(s.Scenario)
	if s.ScenarioFile != "" {
		scenario += " (" + mdCode(s.ScenarioFile) + ")"
	}
	fmt.Fprint(w, "\n## Summary\n\n")
	fmt.Fprintf(w, "Scenario %s against %s (driver %s), started %s, ran %s: %s.\n\n",
		scenario, mdCode(s.Target), mdCode(s.Driver), s.Started, s.Elapsed, done)
	fmt.Fprint(w, s.Phases.Markdown())
	fmt.Fprintf(w, "\n%s\n", latencyNote)

	fmt.Fprint(w, "\n## Cold vs warm\n")
	for _, t := range s.Temps {
		fmt.Fprintf(w, "\n### %s\n\n", mdText(t.Title))
		if t.Rate != "" {
			fmt.Fprintf(w, "%s\n\n", t.Rate)
		}
		fmt.Fprint(w, t.Table.Markdown())
		if t.Exemplars != nil {
			fmt.Fprintf(w, "\n%s\n\n%s", exemplarNote, t.Exemplars.Markdown())
		}
	}

	fmt.Fprint(w, "\n## Errors\n\n")
	if s.Errors == nil {
		fmt.Fprint(w, "No errors.\n")
	} else {
		fmt.Fprint(w, s.Errors.Markdown())
	}

	fmt.Fprint(w, "\n## Cold-start detection\n\n")
	if s.Detection == nil {
		fmt.Fprint(w, "No requests were sent.\n")
	} else {
		fmt.Fprint(w, s.Detection.Markdown())
	}
	if s.Evidence != nil {
		fmt.Fprintf(w, "\n%s\n\n%s", evidenceNote, s.Evidence.Markdown())
	}
	if s.Inferred != "" {
		fmt.Fprintf(w, "\n> **Inferred:** %s.\n", s.Inferred)
	}
}

// runTitle is the title of a plain run's reports.
func runTitle(r *results.Run) string {
	return "coldbench run: " + r.Scenario
}

// mdText escapes what would break a table cell or start Markdown markup.
func mdText(s string) string {
	return strings.NewReplacer(
		"|", `\|`, "\\", `\\`, "*", `\*`, "_", `\_`, "`", "\\`", "<", "&lt;", ">", "&gt;",
		"[", `\[`, "]", `\]`, "\n", " ", "\r", " ",
	).Replace(s)
}

// mdCode shows s as inline code; "-" when empty.
func mdCode(s string) string {
	if s == "" {
		return "-"
	}
	s = strings.NewReplacer("|", `\|`, "\n", " ", "\r", " ").Replace(s)
	fence := "`"
	for strings.Contains(s, fence) {
		fence += "`"
	}
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		s = " " + s + " "
	}
	return fence + s + fence
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
