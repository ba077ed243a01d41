package report

import (
	"bytes"
	"fmt"
	"html/template"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/coldbench/coldbench/results"
)

// This file holds what report.md and report.html both show, built once so
// that the two say the same: Table, rendered either way, and the summary of
// a run.

// Table is a table of text cells, rendered alike in report.html
// (Table.HTML) and report.md (Table.Markdown), for a Section's body.
type Table struct {
	Header []string
	// Align has one letter per column: 'l' for left-aligned text, 'c' for
	// left-aligned code (names, error classes), anything else, or no
	// letter, for right-aligned numbers.
	Align string
	Rows  [][]string
	// Strong lists the rows shown in bold: a total, the recommended
	// setting.
	Strong []int
}

func (t Table) align(col int) byte {
	if col < len(t.Align) {
		return t.Align[col]
	}
	return 'r'
}

// tableTmpl renders a Table as HTML; cells are escaped by html/template.
var tableTmpl = template.Must(template.New("table").Funcs(template.FuncMap{
	"class": func(t Table, col int) string {
		switch t.align(col) {
		case 'l':
			return "text"
		case 'c':
			return "code"
		}
		return "num"
	},
	"strong": func(t Table, row int) bool { return slices.Contains(t.Strong, row) },
}).Parse(`<div class="table"><table>
<thead><tr>{{range $i, $h := .Header}}<th class="{{class $ $i}}" scope="col">{{$h}}</th>{{end}}</tr></thead>
<tbody>
{{- range $r, $row := .Rows}}
<tr{{if strong $ $r}} class="strong"{{end}}>{{range $i, $c := $row}}<td class="{{class $ $i}}">{{if eq (class $ $i) "code"}}<code>{{$c}}</code>{{else}}{{$c}}{{end}}</td>{{end}}</tr>
{{- end}}
</tbody>
</table></div>
`))

// HTML renders t as an HTML table, numbers right-aligned.
func (t Table) HTML() template.HTML {
	var b bytes.Buffer
	if err := tableTmpl.Execute(&b, t); err != nil {
		// The template only reads t's fields and cannot fail on them.
		panic(fmt.Sprintf("report: table template: %v", err))
	}
	return template.HTML(b.String())
}

// Markdown renders t as a GitHub Markdown table, cells escaped.
func (t Table) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "| %s |\n", strings.Join(t.Header, " | "))
	seps := make([]string, len(t.Header))
	for i := range seps {
		seps[i] = "--:"
		if a := t.align(i); a == 'l' || a == 'c' {
			seps[i] = ":--"
		}
	}
	fmt.Fprintf(&b, "|%s|\n", strings.Join(seps, "|"))
	for r, row := range t.Rows {
		cells := make([]string, len(row))
		for i, c := range row {
			switch {
			case t.align(i) == 'c':
				cells[i] = mdCode(c)
			default:
				cells[i] = mdText(c)
			}
			if slices.Contains(t.Strong, r) && c != "" {
				cells[i] = "**" + cells[i] + "**"
			}
		}
		fmt.Fprintf(&b, "| %s |\n", strings.Join(cells, " | "))
	}
	return b.String()
}

// summary is what both reports show of a run: how it ended, what ran
// against what, the phase table, cold vs warm per phase, errors by class
// and how temperatures were decided.
type summary struct {
	Status       string // the INCOMPLETE line; empty for a complete run
	Degraded     string // the DEGRADED line of a run that lost an agent; or empty
	Scenario     string
	ScenarioFile string // empty when the same as Scenario
	Target       string
	Driver       string
	Started      string
	Elapsed      string
	Complete     bool
	Phases       Table
	Temps        []tempTable
	Errors       *Table // nil when nothing failed
	Detection    *Table // nil when nothing was sent
	Evidence     *Table // the inference's evidence per phase; nil without candidates
	Inferred     string // the note on inferred temperatures, or empty
}

// tempTable is the cold vs warm latency of one phase, or of all.
type tempTable struct {
	Title string
	Rate  string // "Cold-start rate 2.7% (13 cold of 490)."; empty without data
	Table Table
	// Exemplars lists the phase's slowest requests with their trace ids
	// (exemplars.go); nil for none or for all phases together.
	Exemplars *Table
}

// Notes shown under the tables.
const (
	latencyNote = "Latencies in milliseconds of successful requests, measured from the intended send time; rates in requests per second."
	// evidenceNote explains the inference's evidence table.
	evidenceNote = "Inference labels warm at once every request that needed no new instance; candidates came with scale-out or after an idle gap and were compared with the warm requests of the same moment. Unknown: no warm baseline, the generator's own lag explained the slowness, or the whole target was slow together."
)

func newSummary(r *results.Run) *summary {
	s := &summary{
		Status:   statusLine(r),
		Degraded: degradedLine(r),
		Scenario: r.Scenario,
		Target:   r.Target,
		Driver:   r.Driver,
		Started:  stamp(r.StartedAt),
		Elapsed:  r.Elapsed().Round(time.Millisecond).String(),
		Complete: r.Complete,
		Inferred: inferredNote(r),
	}
	if r.ScenarioFile != "" && r.ScenarioFile != r.Scenario {
		s.ScenarioFile = r.ScenarioFile
	}

	s.Phases = Table{
		Header: []string{"Phase", "Requests", "Target rate", "Achieved rate", "Errors", "Dropped", "Cold", "Cold p50", "Cold p99", "Warm p50", "Warm p99"},
		Align:  "l",
	}
	for i, row := range tableRows(r) {
		if row.s == &r.Totals {
			s.Phases.Strong = append(s.Phases.Strong, i)
		}
		s.Phases.Rows = append(s.Phases.Rows, []string{row.name, row.requests, row.target, row.achieved,
			row.errors, row.dropped, row.cold, row.coldP50, row.coldP99, row.warmP50, row.warmP99})
	}

	for i := range r.Phases {
		tt := newTempTable("Phase "+r.Phases[i].Name, &r.Phases[i].Stats)
		tt.Exemplars = exemplarTable(&r.Phases[i])
		s.Temps = append(s.Temps, tt)
	}
	if len(r.Phases) > 1 {
		s.Temps = append(s.Temps, newTempTable("All phases", &r.Totals))
	}

	if r.Totals.ErrorCount() > 0 {
		t := Table{Header: []string{"Phase", "Class", "Count", "Share of sent", "Top codes"}, Align: "lcrrl"}
		for i := range r.Phases {
			st := &r.Phases[i].Stats
			classes := make([]string, 0, len(st.Errors))
			for c := range st.Errors {
				classes = append(classes, c)
			}
			sort.Strings(classes)
			for _, c := range classes {
				share := "-"
				if st.Sent > 0 {
					share = percent(float64(st.Errors[c]) / float64(st.Sent))
				}
				t.Rows = append(t.Rows, []string{r.Phases[i].Name, c, strconv.FormatInt(st.Errors[c], 10), share, topCodes(st.ErrorCodes[c])})
			}
		}
		s.Errors = &t
	}

	if len(coldSources(r.ColdDetection)) > 0 {
		s.Detection, s.Evidence = detectionTables(r)
	}
	return s
}

// detectionTables say per phase what decided each sent request's
// temperature and how many stayed unknown, and, when inference held
// candidates, what became of them and why.
func detectionTables(r *results.Run) (*Table, *Table) {
	det := Table{Header: []string{"Phase", "Platform", "Header", "Instance", "Body", "Inferred", "None", "Unknown temperature"}, Align: "l"}
	ev := Table{Header: []string{"Phase", "Candidates", "Cold", "Warm", "Unknown", "Why unknown", "Warm baseline ms", "Cold from ms"}, Align: "l"}
	n := strconv.FormatInt
	add := func(name string, cd results.ColdDetection, unknown int64, in *results.InferenceStats) {
		det.Rows = append(det.Rows, []string{name, n(cd.Platform, 10), n(cd.Header, 10), n(cd.Instance, 10), n(cd.Body, 10), n(cd.Inferred, 10), n(cd.None, 10), n(unknown, 10)})
		if in == nil {
			return
		}
		why := unknownWhy(in)
		if why == "" {
			why = "-"
		}
		ev.Rows = append(ev.Rows, []string{name, n(in.Candidates, 10), n(in.Cold, 10), n(in.Warm, 10),
			n(in.NoBaseline+in.HostLag+in.TargetWide, 10), why, msCell(in.BaselineMs, in.Compared), msCell(in.ThresholdMs, in.Compared)})
	}
	for i := range r.Phases {
		p := &r.Phases[i]
		add(p.Name, p.ColdDetection, p.SentByTemp.Unknown, p.Inference)
	}
	if len(r.Phases) > 1 {
		var unknown int64
		for i := range r.Phases {
			unknown += r.Phases[i].SentByTemp.Unknown
		}
		det.Strong = append(det.Strong, len(det.Rows))
		if r.Inference != nil {
			ev.Strong = append(ev.Strong, len(ev.Rows))
		}
		add("All phases", r.ColdDetection, unknown, r.Inference)
	}
	if len(ev.Rows) == 0 {
		return &det, nil
	}
	return &det, &ev
}

func newTempTable(title string, s *results.Stats) tempTable {
	tt := tempTable{Title: title}
	if known := s.Cold.Count + s.Warm.Count; known > 0 {
		tt.Rate = fmt.Sprintf("Cold-start rate %s (%d cold of %d).", percent(s.ColdRate), s.Cold.Count, known)
	}
	tt.Table = Table{Header: []string{"", "Requests", "p50", "p90", "p99", "p99.9", "Max"}, Align: "l"}
	for _, t := range temps(s) {
		p := t.p
		tt.Table.Rows = append(tt.Table.Rows, []string{t.name, strconv.FormatInt(p.Count, 10), msCell(p.P50Ms, p.Count),
			msCell(p.P90Ms, p.Count), msCell(p.P99Ms, p.Count), msCell(p.P999Ms, p.Count), msCell(p.MaxMs, p.Count)})
	}
	return tt
}

// RunEnv lists what a run ran on and against, for a Page's Env: the
// coldbench version, the record's schema, the scenario, the target and its
// driver, the host, and when it ran.
func RunEnv(r *results.Run) [][2]string {
	var agents [][2]string
	if a := agentsCell(r.Agents); a != "" {
		agents = append(agents, [2]string{"Agents", a})
	}
	return headerEnv(r.Header, r.Host, nil, agents)
}

// headerEnv is the Env rows of any record: its header and host, with the
// record's own rows before the host and after it (before the times).
func headerEnv(h results.Header, host results.Host, beforeHost, afterHost [][2]string) [][2]string {
	scenario := h.Scenario
	if h.ScenarioFile != "" && h.ScenarioFile != h.Scenario {
		scenario += " (" + h.ScenarioFile + ")"
	}
	hostCell := orDash(host.Hostname)
	if host.Cores > 0 {
		hostCell += fmt.Sprintf(" (%d cores)", host.Cores)
	}
	env := [][2]string{
		{"coldbench", orDash(h.ColdbenchVersion)},
		{"Record schema", orDash(h.Schema)},
		{"Scenario", orDash(scenario)},
		{"Target", orDash(h.Target)},
		{"Driver", orDash(h.Driver)},
	}
	env = append(env, beforeHost...)
	env = append(env, [2]string{"Host", hostCell})
	env = append(env, afterHost...)
	return append(env, [2]string{"Started", stamp(h.StartedAt)}, [2]string{"Finished", stamp(h.FinishedAt)})
}

// agentsCell names the agents of a distributed run and how each ended:
// "2: 10.0.0.5:7070 (done), 10.0.0.6:7070 (lost)". Empty for a local run,
// whose one agent is the process itself.
func agentsCell(agents []results.AgentStats) string {
	if len(agents) == 0 || len(agents) == 1 && agents[0].Name == "local" {
		return ""
	}
	names := make([]string, len(agents))
	for i, a := range agents {
		names[i] = a.Name + " (" + orDash(a.Status) + ")"
	}
	return fmt.Sprintf("%d: %s", len(agents), strings.Join(names, ", "))
}

// degradedLine says why a run that lost traffic (an agent lost mid-run)
// is degraded; empty for one that is not.
func degradedLine(r *results.Run) string {
	if !r.Degraded {
		return ""
	}
	why := "traffic was lost"
	if len(r.DegradedReasons) > 0 {
		why = strings.Join(r.DegradedReasons, "; ")
	}
	return "DEGRADED: " + why
}

// topCodesShown is how many of a class's codes the errors table names.
const topCodesShown = 3

// topCodes names the most frequent platform codes of one error class with
// their counts ("UNAVAILABLE 12, 503 3, and 2 more"); "-" when the
// failures carried none (timeouts, refused connections).
func topCodes(codes map[string]int64) string {
	if len(codes) == 0 {
		return "-"
	}
	top := results.TopCodes(map[string]map[string]int64{"": codes}, 0)
	var parts []string
	for i, c := range top {
		if i == topCodesShown {
			parts = append(parts, fmt.Sprintf("and %d more", len(top)-i))
			break
		}
		parts = append(parts, fmt.Sprintf("%s %d", c.Code, c.Count))
	}
	return strings.Join(parts, ", ")
}
