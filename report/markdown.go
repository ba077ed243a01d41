package report

import (
	"bufio"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/coldbench/coldbench/results"
)

// Markdown writes r as a GitHub Markdown report (report.md, and the summary
// a CI job shows): a title, a summary line, the phase table, cold vs warm
// latencies per phase, errors by class and how cold starts were detected.
func Markdown(w io.Writer, r *results.Run) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "# coldbench run: %s\n\n", mdText(r.Scenario))
	if s := statusLine(r); s != "" {
		fmt.Fprintf(bw, "> **%s**\n\n", mdText(s))
	}
	done := "complete"
	if !r.Complete {
		done = "**incomplete**"
	}
	scenario := mdCode(r.Scenario)
	if r.ScenarioFile != "" && r.ScenarioFile != r.Scenario {
		scenario += " (" + mdCode(r.ScenarioFile) + ")"
	}
	fmt.Fprintf(bw, "Scenario %s against %s (driver %s), started %s, ran %s: %s.\n\n",
		scenario, mdCode(r.Target), mdCode(r.Driver), stamp(r.StartedAt), r.Elapsed(), done)

	mdTable(bw,
		[]string{"Phase", "Requests", "Target rate", "Achieved rate", "Errors", "Dropped", "Cold", "Cold p50", "Cold p99", "Warm p50", "Warm p99"},
		"lrrrrrrrrrr", func(add func(...string)) {
			for _, row := range tableRows(r) {
				name := mdText(row.name)
				if row.s == &r.Totals {
					name = "**TOTAL**"
				}
				add(name, row.requests, row.target, row.achieved, row.errors, row.dropped,
					row.cold, row.coldP50, row.coldP99, row.warmP50, row.warmP99)
			}
		})
	fmt.Fprint(bw, "\nLatencies in milliseconds of successful requests, measured from the intended send time; rates in requests per second.\n")

	fmt.Fprint(bw, "\n## Cold vs warm\n")
	for i := range r.Phases {
		writeTemps(bw, "Phase "+mdText(r.Phases[i].Name), &r.Phases[i].Stats)
	}
	if len(r.Phases) > 1 {
		writeTemps(bw, "All phases", &r.Totals)
	}

	fmt.Fprint(bw, "\n## Errors\n\n")
	writeErrors(bw, r)

	fmt.Fprint(bw, "\n## Cold-start detection\n\n")
	writeDetection(bw, r)

	fmt.Fprintf(bw, "\n---\ncoldbench %s · schema %s · host %s (%d cores)\n",
		mdText(orDash(r.ColdbenchVersion)), r.Schema, mdText(orDash(r.Host.Hostname)), r.Host.Cores)
	return bw.Flush()
}

// writeTemps writes one cold vs warm section.
func writeTemps(w io.Writer, title string, s *results.Stats) {
	fmt.Fprintf(w, "\n### %s\n\n", title)
	known := s.Cold.Count + s.Warm.Count
	if known > 0 {
		fmt.Fprintf(w, "Cold-start rate %s (%d cold of %d).\n\n", percent(s.ColdRate), s.Cold.Count, known)
	}
	mdTable(w, []string{"", "Requests", "p50", "p90", "p99", "p99.9", "Max"}, "lrrrrrr", func(add func(...string)) {
		for _, t := range temps(s) {
			p := t.p
			add(t.name, strconv.FormatInt(p.Count, 10), msCell(p.P50Ms, p.Count), msCell(p.P90Ms, p.Count),
				msCell(p.P99Ms, p.Count), msCell(p.P999Ms, p.Count), msCell(p.MaxMs, p.Count))
		}
	})
}

func writeErrors(w io.Writer, r *results.Run) {
	if r.Totals.ErrorCount() == 0 {
		fmt.Fprint(w, "No errors.\n")
		return
	}
	mdTable(w, []string{"Phase", "Class", "Count", "Share of sent"}, "llrr", func(add func(...string)) {
		for i := range r.Phases {
			s := &r.Phases[i].Stats
			classes := make([]string, 0, len(s.Errors))
			for c := range s.Errors {
				classes = append(classes, c)
			}
			sort.Strings(classes)
			for _, c := range classes {
				share := "-"
				if s.Sent > 0 {
					share = percent(float64(s.Errors[c]) / float64(s.Sent))
				}
				add(mdText(r.Phases[i].Name), mdCode(c), strconv.FormatInt(s.Errors[c], 10), share)
			}
		}
	})
}

func writeDetection(w io.Writer, r *results.Run) {
	src := coldSources(r.ColdDetection)
	if len(src) == 0 {
		fmt.Fprint(w, "No requests were sent.\n")
		return
	}
	mdTable(w, []string{"Source", "Requests"}, "lr", func(add func(...string)) {
		for _, c := range src {
			add(c.name, strconv.FormatInt(c.n, 10))
		}
	})
	if n := inferredNote(r.ColdDetection); n != "" {
		fmt.Fprintf(w, "\n> **Inferred from latency gaps:** %s.\n", n)
	}
}

// mdTable writes a GitHub Markdown table. align has one letter per column:
// 'l' aligns it left (text), any other letter right (numbers). rows calls
// add once per row.
func mdTable(w io.Writer, header []string, align string, rows func(add func(...string))) {
	fmt.Fprintf(w, "| %s |\n", strings.Join(header, " | "))
	seps := make([]string, len(header))
	for i := range seps {
		seps[i] = "--:"
		if i < len(align) && align[i] == 'l' {
			seps[i] = ":--"
		}
	}
	fmt.Fprintf(w, "|%s|\n", strings.Join(seps, "|"))
	rows(func(cells ...string) {
		fmt.Fprintf(w, "| %s |\n", strings.Join(cells, " | "))
	})
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
