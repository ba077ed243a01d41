package report

import (
	"bufio"
	"fmt"
	"html/template"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/coldbench/coldbench/results"
)

// This file renders a capacity plan (results.Capacity): the result, the
// table of steps, the projection and how the numbers were made, for the
// terminal (CapacityText) and as report sections (CapacitySections) that report.md
// and report.html share.

// CapacityText writes the result, the steps table and the projection for a
// terminal.
func CapacityText(w io.Writer, p *results.Capacity) error {
	bw := bufio.NewWriter(w)
	if s := planStatus(p); s != "" {
		fmt.Fprintf(bw, "%s\n\n", s)
	}
	fmt.Fprintf(bw, "%s\n\n", p.Result.Summary)
	for _, t := range []Table{stepsTable(p), projectionTable(p)} {
		if len(t.Rows) == 0 {
			continue
		}
		tw := tabwriter.NewWriter(bw, 0, 8, 2, ' ', 0)
		for _, row := range append([][]string{t.Header}, t.Rows...) {
			fmt.Fprintf(tw, "%s\t\n", strings.Join(row, "\t"))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		fmt.Fprintln(bw)
	}
	return bw.Flush()
}

// planStatus is the line that flags an unfinished ramp; empty when it
// finished.
func planStatus(p *results.Capacity) string {
	var s string
	switch {
	case p.Interrupted != "":
		s = "INCOMPLETE: interrupted (" + oneLine(p.Interrupted) + ")"
	case p.Error != "":
		s = "INCOMPLETE: " + oneLine(p.Error)
	case !p.Complete:
		s = "INCOMPLETE: the ramp did not finish"
	default:
		return ""
	}
	return s + fmt.Sprintf("; %d of %d steps measured", p.Result.StepsRun, p.Result.StepsPlanned)
}

// resultTable is the headline: maximum sustainable rate, break, knee.
func resultTable(p *results.Capacity) Table {
	r := &p.Result
	t := Table{Header: []string{"", "Rate (req/s)", ""}, Align: "lrl"}
	step := func(i int) *results.CapacityStep {
		if i < 0 || i >= len(p.Steps) {
			return nil
		}
		return &p.Steps[i]
	}
	if s := step(r.MaxSustainable); s != nil {
		t.Rows = append(t.Rows, []string{"Maximum sustainable", rps(s.Target),
			fmt.Sprintf("sent %s/s, p50 %s ms, p99 %s ms", rps(s.AchievedRPS), msCell(s.Latency.P50Ms, s.Latency.Count), msCell(s.Latency.P99Ms, s.Latency.Count))})
	} else {
		t.Rows = append(t.Rows, []string{"Maximum sustainable", "-", "no step passed"})
	}
	if s := step(r.Break); s != nil {
		t.Rows = append(t.Rows, []string{"Break", rps(s.Target), strings.Join(s.Failures, "; ")})
	} else {
		why := "no step failed"
		if r.ReachedMax {
			why = "no step failed up to the highest rate planned"
		}
		t.Rows = append(t.Rows, []string{"Break", "-", why})
	}
	if s := step(r.Knee); s != nil {
		t.Rows = append(t.Rows, []string{"Latency knee", rps(s.Target), r.KneeReason})
	} else {
		t.Rows = append(t.Rows, []string{"Latency knee", "-", fmt.Sprintf("p50 and p99 stayed within %.0f%% of the baseline", 100*p.KneeRise)})
	}
	if s := step(r.Baseline); s != nil {
		t.Rows = append(t.Rows, []string{"Baseline", rps(s.Target),
			fmt.Sprintf("p50 %s ms, p99 %s ms", msCell(r.BaselineP50, 1), msCell(r.BaselineP99, 1))})
	}
	return t
}

// stepsTable has a row per step, the maximum sustainable one in bold.
func stepsTable(p *results.Capacity) Table {
	t := Table{
		Header: []string{"Step", "Target (req/s)", "Sent (req/s)", "p50 (ms)", "p99 (ms)", "Errors", "Throttled",
			"Concurrency", "Instances", "Result"},
		Align: "lrrrrrrrrl",
	}
	for i := range p.Steps {
		s := &p.Steps[i]
		inst := "-"
		if s.Instances != nil {
			inst = strconv.Itoa(s.Instances.Max)
		}
		result := "pass"
		switch {
		case !s.Complete:
			result = "cut short"
		case !s.Pass:
			result = "FAIL: " + strings.Join(s.Failures, "; ")
			if s.Attempts > 1 {
				result += " (confirmed)"
			}
		case len(s.Overruled) > 0:
			result = "pass (second run; the first: " + strings.Join(s.Overruled, "; ") + ")"
		}
		if i == p.Result.MaxSustainable {
			t.Strong = append(t.Strong, i)
		}
		t.Rows = append(t.Rows, []string{s.Name, rps(s.Target), rps(s.AchievedRPS),
			msCell(s.Latency.P50Ms, s.Latency.Count), msCell(s.Latency.P99Ms, s.Latency.Count),
			sharePct(s.ErrorRate), sharePct(s.ThrottleRate), strconv.FormatFloat(s.Concurrency, 'f', 1, 64), inst, result})
	}
	return t
}

// projectionTable is the projection's headline numbers.
func projectionTable(p *results.Capacity) Table {
	pr := p.Projection
	t := Table{Header: []string{"Projection", "Value"}, Align: "ll"}
	if pr == nil {
		return t
	}
	peak := rps(pr.Traffic.PeakPerS) + " req/s"
	if pr.AboveMax {
		peak += " (above the maximum sustainable rate measured)"
	}
	t.Rows = [][]string{
		{"Traffic", pr.Traffic.Description},
		{"Peak", peak},
		{"Time a request holds an instance", fmt.Sprintf("%s ms (%s, step %s)", msCell(pr.Billed.BusyMs, 1), pr.Billed.Source, pr.DurationFrom)},
		{"Concurrency at peak (Little's law)", strconv.FormatFloat(pr.PeakConcurrency, 'f', 1, 64)},
		{"Instances needed at peak", fmt.Sprintf("%d (with %.0f%% headroom)", pr.Instances, 100*pr.Headroom)},
		{"Cold starts", fmt.Sprintf("%s a day, %s in the busiest hour (keep-alive %s s, prewarm %d)",
			count(pr.ColdStartsPerDay), count(pr.PeakColdPerHour), strconv.FormatFloat(pr.KeepAlive.S, 'g', 4, 64), pr.Prewarm)},
		{"Monthly cost", fmt.Sprintf("%s (%d MB, %s; %s per million requests)", usd(pr.Cost.Monthly), pr.MemoryMB, pr.Pricing.Table, usd(pr.Cost.PerMillion))},
	}
	return t
}

// hourlyTable is the projection hour by hour.
func hourlyTable(pr *results.CapacityProjection) Table {
	t := Table{Header: []string{"Hour", "Rate (req/s)", "Concurrency", "Cold starts"}, Align: "l"}
	busy := pr.Billed.BusyMs / 1000
	for h, r := range pr.Traffic.Hourly {
		cold := "-"
		if h < len(pr.ColdStartsPerHour) {
			cold = count(pr.ColdStartsPerHour[h])
		}
		t.Rows = append(t.Rows, []string{fmt.Sprintf("%02d:00", h), rps(r), strconv.FormatFloat(r*busy, 'f', 1, 64), cold})
	}
	return t
}

// CapacitySections are a capacity plan's report sections: the result (lead)
// and, after it, the steps, the projection and the method.
func CapacitySections(p *results.Capacity) (lead, rest []Section) {
	var md, html strings.Builder
	if s := planStatus(p); s != "" {
		fmt.Fprintf(&md, "> **%s**\n\n", mdText(s))
		fmt.Fprintf(&html, "<div class=\"banner\" role=\"alert\">%s</div>\n", template.HTMLEscapeString(s))
	}
	fmt.Fprintf(&md, "%s\n\n", mdText(p.Result.Summary))
	fmt.Fprintf(&html, "<p class=\"lede\">%s</p>\n", template.HTMLEscapeString(p.Result.Summary))
	rt := resultTable(p)
	md.WriteString(rt.Markdown())
	html.WriteString(string(rt.HTML()))
	lead = []Section{{ID: "capacity", Title: "Capacity", Markdown: md.String(), HTML: template.HTML(html.String())}}

	st := stepsTable(p)
	note := stepsNote(p)
	rest = append(rest, Section{
		ID: "steps", Title: "Steps",
		Markdown: st.Markdown() + "\n" + mdText(note) + "\n",
		HTML:     st.HTML() + template.HTML("<p class=\"note\">"+template.HTMLEscapeString(note)+"</p>\n"),
	})
	if pr := p.Projection; pr != nil {
		pt, ht := projectionTable(p), hourlyTable(pr)
		rest = append(rest, Section{
			ID: "projection", Title: "Projection",
			Markdown: pt.Markdown() + "\n" + ht.Markdown(),
			HTML:     pt.HTML() + ht.HTML(),
		})
	}
	var mmd, mhtml strings.Builder
	for _, para := range planMethod(p) {
		fmt.Fprintf(&mmd, "%s\n\n", mdText(para))
		fmt.Fprintf(&mhtml, "<p>%s</p>\n", template.HTMLEscapeString(para))
	}
	rest = append(rest, Section{ID: "plan-method", Title: "How the numbers were worked out", Markdown: mmd.String(), HTML: template.HTML(mhtml.String())})
	return lead, rest
}

// stepsNote explains the steps table.
func stepsNote(p *results.Capacity) string {
	return fmt.Sprintf("Each step ran %s s at its rate to settle (not counted), then %s s measured. Latency is of successful requests, "+
		"every temperature merged, from the intended send time. Errors counts failed requests other than throttled ones, plus arrivals "+
		"dropped at the in-flight bound; Throttled counts 429s and the platform's throttling errors. Concurrency is Little's law: "+
		"successful requests per second × their mean service time. Instances is the most the platform reported during the measured part.",
		strconv.FormatFloat(p.Ramp.SettleS, 'g', 4, 64), strconv.FormatFloat(p.Ramp.MeasureS, 'g', 4, 64))
}

// planMethod says, in paragraphs, what the result and projection rest on.
func planMethod(p *results.Capacity) []string {
	stop := fmt.Sprintf("errors above %s, throttling above %s, or fewer than %.0f%% of the target rate sent",
		sharePct(p.Stop.ErrorRate), sharePct(p.Stop.ThrottleRate), 100*p.Stop.MinAchieved)
	if p.Stop.P99Ms > 0 {
		stop = fmt.Sprintf("p99 above %s ms, ", msCell(p.Stop.P99Ms, 1)) + stop
	}
	confirm := "A failing step stops the ramp at once."
	if p.Ramp.Confirm {
		confirm = "A failing step is run once more before the ramp stops, so that one noisy step does not end it: the ramp stops when the second run fails too; when it passes, its numbers stand and the ramp goes on."
	}
	out := []string{
		fmt.Sprintf("A step fails on %s. %s The maximum sustainable rate is the last step that passed; the break is the first that failed.", stop, confirm),
		fmt.Sprintf("The knee is where latency starts to rise with load: the first step whose p50 or p99 is more than %.0f%% above the baseline's, "+
			"the baseline being the lowest-rate step with successful requests.", 100*p.KneeRise),
	}
	if pr := p.Projection; pr != nil {
		out = append(out,
			fmt.Sprintf("Projection: instances needed at peak by Little's law, peak rate × the time a request holds an instance (%s durations of the step closest to the peak, %s), "+
				"plus %.0f%% headroom, rounded up.", pr.Billed.Source, pr.DurationFrom, 100*pr.Headroom),
			fmt.Sprintf("Cold starts, hour by hour, with the tuning report's model: Poisson arrivals; instances reused most recently used first; an on-demand instance "+
				"starts cold when it sat idle longer than the keep-alive, %s s (%s); %d prewarmed instances never start cold.",
				strconv.FormatFloat(pr.KeepAlive.S, 'g', 4, 64), pr.KeepAlive.Source, pr.Prewarm),
			fmt.Sprintf("Pricing: %s (%s), %d MB (%s), billed per %s ms; source: %s. List prices in US dollars, without free tier or volume discounts; a month is 730 hours.",
				pr.Pricing.Table, pr.Pricing.Description, pr.MemoryMB, pr.MemoryFrom, msCell(pr.Pricing.GranularityMs, 1), pr.Pricing.Source),
		)
	}
	return out
}

// CapacityPage builds the report page of a capacity plan in dir: the result
// first, then the steps, the projection, the method, the charts, the
// scenario, the environment, and plan.json as the raw numbers.
func CapacityPage(dir string, p *results.Capacity) (Page, error) {
	pg := Page{Title: "coldbench capacity plan: " + p.Scenario, Env: planEnv(p), Raw: p}
	pg.Lead, pg.Sections = CapacitySections(p)
	charts, err := CapacityCharts(p)
	if err != nil {
		return Page{}, err
	}
	pg.Charts = charts
	if pg.Scenario, err = scenarioText(dir); err != nil {
		return Page{}, err
	}
	return pg, nil
}

func planEnv(p *results.Capacity) [][2]string {
	return headerEnv(p.Header, p.Host, nil, nil)
}

// WriteCapacityFiles writes a capacity plan's reports into dir: the charts
// (PNG and SVG), report.md and report.html, each replaced atomically.
func WriteCapacityFiles(dir string, p *results.Capacity) error {
	pg, err := CapacityPage(dir, p)
	if err != nil {
		return err
	}
	return WritePage(dir, pg)
}

// rps formats a rate in requests per second with up to four significant
// digits, whole above 1000.
func rps(v float64) string {
	if v >= 1000 {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'g', 4, 64)
}

// count formats an expected count: whole from 10 up, else 2 decimals.
func count(v float64) string {
	if v >= 10 {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'f', 2, 64)
}
