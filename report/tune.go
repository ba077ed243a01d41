package report

import (
	"bufio"
	"fmt"
	"html/template"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"unicode/utf8"

	"github.com/coldbench/coldbench/results"
)

// This file renders a tuning run (results.Tune): the recommendation, the
// table of every setting and how the costs were worked out, for the
// terminal (TuneText) and as report sections (TuneSections) that
// report.md and report.html share.

// TuneText writes the recommendation and the settings table for a
// terminal.
func TuneText(w io.Writer, t *results.Tune) error {
	bw := bufio.NewWriter(w)
	if s := tuneStatus(t); s != "" {
		fmt.Fprintf(bw, "%s\n\n", s)
	}
	if rec := t.Recommendation; rec != nil {
		win := t.Setting(rec.Winner)
		fmt.Fprintf(bw, "RECOMMENDATION (strategy %s): %s\n", rec.Strategy, settingLabel(win))
		fmt.Fprintf(bw, "  %s\n", rec.Reason)
		if rec.Memory != "" {
			fmt.Fprintf(bw, "  %s\n", rec.Memory)
		}
		if tied := tiedLine(t); tied != "" {
			fmt.Fprintf(bw, "  %s\n", tied)
		} else if ru := t.Setting(rec.RunnerUp); ru != nil {
			fmt.Fprintf(bw, "  Runner-up: %s.\n", settingLabel(ru))
		}
		fmt.Fprintln(bw)
		tw := tabwriter.NewWriter(bw, 0, 8, 2, ' ', 0)
		ct := changeTable(t)
		fmt.Fprintf(tw, "  %s\n", strings.Join(ct.Header, "\t"))
		for _, row := range ct.Rows {
			fmt.Fprintf(tw, "  %s\n", strings.Join(row, "\t"))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		fmt.Fprintln(bw)
	} else {
		fmt.Fprint(bw, "No recommendation: no setting was measured completely.\n\n")
	}
	// Numbers right-aligned; the first column, padded to one width,
	// reads left-aligned.
	st := settingsTable(t)
	first := 0
	for _, row := range append([][]string{st.Header}, st.Rows...) {
		first = max(first, utf8.RuneCountInString(row[0]))
	}
	tw := tabwriter.NewWriter(bw, 0, 8, 2, ' ', tabwriter.AlignRight)
	for _, row := range append([][]string{st.Header}, st.Rows...) {
		pad := strings.Repeat(" ", first-utf8.RuneCountInString(row[0]))
		fmt.Fprintf(tw, "%s%s\t%s\t\n", row[0], pad, strings.Join(row[1:], "\t"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(bw, "%s\n", tuneTableNote(t))
	var mem []string
	for i := range t.Settings {
		if s := &t.Settings[i]; s.MaxMemoryUsedMB > 0 {
			mem = append(mem, fmt.Sprintf("  %s: %s", s.Name, memoryUsedCell(s)))
		}
	}
	if len(mem) > 0 {
		fmt.Fprintf(bw, "\nMemory used (the platform's peak):\n%s\n", strings.Join(mem, "\n"))
	}
	return bw.Flush()
}

// tuneStatus is the line that flags an unfinished sweep or a failed
// restore; empty when neither.
func tuneStatus(t *results.Tune) string {
	var parts []string
	switch {
	case t.Interrupted != "":
		parts = append(parts, "INCOMPLETE: interrupted ("+oneLine(t.Interrupted)+")")
	case t.Error != "":
		parts = append(parts, "INCOMPLETE: "+oneLine(t.Error))
	case !t.Complete:
		parts = append(parts, "INCOMPLETE: the sweep did not finish")
	}
	if len(parts) > 0 {
		n := 0
		for _, s := range t.Settings {
			if s.Complete {
				n++
			}
		}
		parts[0] += fmt.Sprintf("; %d settings measured", n)
	}
	if t.RestoreError != "" {
		parts = append(parts, "WARNING: the original setting could not be restored: "+oneLine(t.RestoreError))
	}
	return strings.Join(parts, ". ")
}

// tiedLine says which settings tied with the winner within noise, each
// with its cost interval, and the rule that picked among them; empty when
// none tied.
func tiedLine(t *results.Tune) string {
	rec := t.Recommendation
	if rec == nil || len(rec.Tied) < 2 {
		return ""
	}
	var parts []string
	for _, name := range rec.Tied {
		s := t.Setting(name)
		if s == nil {
			continue
		}
		p := settingLabel(s)
		if iv := s.Intervals; iv != nil {
			p += fmt.Sprintf(" (%s–%s a month)", usd(iv.MonthlyLo), usd(iv.MonthlyHi))
		}
		parts = append(parts, p)
	}
	return fmt.Sprintf("Tied within noise: %s; picked by %s.", strings.Join(parts, ", "), rec.TieRule)
}

// settingLabel names a setting for people: "1769 MB, prewarm 2".
func settingLabel(s *results.TuneSetting) string {
	if s == nil {
		return "-"
	}
	return fmt.Sprintf("%d MB, prewarm %d", s.MemoryMB, s.Prewarm)
}

// changeTable is the before → after of the recommendation.
func changeTable(t *results.Tune) Table {
	rec := t.Recommendation
	tab := Table{Header: []string{"", "Current", "Recommended"}, Align: "l"}
	before, after := rec.Before, &rec.After
	cell := func(f func(*results.TuneSnapshot) string) (string, string) {
		if before == nil {
			return "-", f(after)
		}
		return f(before), f(after)
	}
	rows := []struct {
		name string
		f    func(*results.TuneSnapshot) string
	}{
		{"Setting", func(s *results.TuneSnapshot) string { return settingLabel(t.Setting(s.Setting)) }},
		{"Cold p99", func(s *results.TuneSnapshot) string { return msCell(s.ColdP99Ms, 1) + " ms" }},
		{"Warm p99", func(s *results.TuneSnapshot) string { return msCell(s.WarmP99Ms, 1) + " ms" }},
		{"Cold-start rate", func(s *results.TuneSnapshot) string { return sharePct(s.ColdRate) }},
		{"Monthly cost", func(s *results.TuneSnapshot) string { return usd(s.Monthly) }},
	}
	for _, r := range rows {
		b, a := cell(r.f)
		tab.Rows = append(tab.Rows, []string{r.name, b, a})
	}
	if before == nil {
		tab.Rows[0][1] = "not measured"
	}
	return tab
}

// settingsTable has a row for every setting, the winner in bold and
// starred, the current setting marked.
func settingsTable(t *results.Tune) Table {
	tab := Table{
		Header: []string{"Setting", "Memory (MB)", "Prewarm", "Cold p50", "Cold p99", "Warm p50", "Warm p99",
			"Cold-start rate", "Typical", "Per 1M", "Monthly", "Rank"},
		Align: "l",
	}
	winner := ""
	if t.Recommendation != nil {
		winner = t.Recommendation.Winner
	}
	for i := range t.Settings {
		s := &t.Settings[i]
		name := s.Name
		if s.Name == winner {
			name = "★ " + name
			tab.Strong = append(tab.Strong, i)
		}
		if s.Current {
			name += " (current)"
		}
		row := []string{name, strconv.Itoa(s.MemoryMB), strconv.Itoa(s.Prewarm),
			msCell(s.Cold.P50Ms, s.Cold.Count), msCell(s.Cold.P99Ms, s.Cold.Count),
			msCell(s.Warm.P50Ms, s.Warm.Count), msCell(s.Warm.P99Ms, s.Warm.Count)}
		if !s.Complete {
			why := "not measured"
			if s.Error != "" {
				why = "failed"
			}
			row = append(row, why, "-", "-", "-", "-")
		} else {
			rank := "-"
			if s.Rank > 0 {
				rank = strconv.Itoa(s.Rank)
			}
			if t.Recommendation != nil && slices.Contains(t.Recommendation.Tied, s.Name) {
				rank += " (tied)"
			}
			row = append(row, sharePct(s.Cost.ColdRate), msCell(s.TypicalMs, 1), usd(s.Cost.PerMillion), usd(s.Cost.Monthly), rank)
		}
		tab.Rows = append(tab.Rows, row)
	}
	return tab
}

// tuneTableNote explains the settings table's columns.
func tuneTableNote(t *results.Tune) string {
	from := "requests sampled on purpose at each setting (cold: each on a new instance; warm: one after another)"
	if t.Samples.Cold == 0 && t.Samples.Warm == 0 {
		from = "the scenario's phases at each setting"
	}
	typ := "the platform-reported duration, plus init when cold"
	for _, s := range t.Settings {
		if s.Complete && s.TypicalFrom == "measured" {
			typ = "the latency medians"
			break
		}
	}
	return fmt.Sprintf("Latencies in ms from %s. Cold-start rate, costs (US dollars) and Typical, the time a request can expect to spend "+
		"in the function (%s, weighted by the cold-start rate), are projected for %s.", from, typ, t.Traffic.Description)
}

// costTable breaks each complete setting's monthly cost down.
func costTable(t *results.Tune) Table {
	tab := Table{
		Header: []string{"Setting", "Billed warm", "Billed from", "Concurrency", "On prewarmed", "Requests", "Duration",
			"Prewarm", "Pings", "Monthly", "Memory used"},
		Align: "lrl",
	}
	for i := range t.Settings {
		s := &t.Settings[i]
		if !s.Complete {
			continue
		}
		c := s.Cost
		used := memoryUsedCell(s)
		tab.Rows = append(tab.Rows, []string{s.Name, msCell(s.Billed.WarmMeanMs, 1) + " ms", s.Billed.Source,
			strconv.FormatFloat(c.Concurrency, 'f', 2, 64), sharePct(c.PrewarmedShare),
			usd(c.Requests), usd(c.Duration), usd(c.Capacity + c.Idle), usd(c.Pings), usd(c.Monthly), used})
	}
	return tab
}

// memoryUsedCell is a setting's memory used and the headroom it leaves:
// "212 MB of 512 MB, 59% headroom"; "-" when the platform reported none.
func memoryUsedCell(s *results.TuneSetting) string {
	if s.MaxMemoryUsedMB <= 0 {
		return "-"
	}
	if s.MaxMemoryUsedMB >= s.MemoryMB {
		return fmt.Sprintf("%d MB of %d MB, no headroom", s.MaxMemoryUsedMB, s.MemoryMB)
	}
	return fmt.Sprintf("%d MB of %d MB, %.0f%% headroom", s.MaxMemoryUsedMB, s.MemoryMB, 100*s.MemoryHeadroom)
}

// TuneSections are a tuning run's report sections: the recommendation
// (lead) and, after it, the settings table and how the costs were made.
func TuneSections(t *results.Tune) (lead, rest []Section) {
	var md strings.Builder
	var html strings.Builder
	if s := tuneStatus(t); s != "" {
		fmt.Fprintf(&md, "> **%s**\n\n", mdText(s))
		fmt.Fprintf(&html, "<div class=\"banner\" role=\"alert\">%s</div>\n", template.HTMLEscapeString(s))
	}
	if rec := t.Recommendation; rec != nil {
		win := settingLabel(t.Setting(rec.Winner))
		fmt.Fprintf(&md, "**Run at %s** (strategy %s).\n\n%s\n\n", mdText(win), mdCode(rec.Strategy), mdText(rec.Reason))
		fmt.Fprintf(&html, "<p class=\"lede\"><strong>Run at %s</strong> (strategy <code>%s</code>).</p>\n<p>%s</p>\n",
			template.HTMLEscapeString(win), template.HTMLEscapeString(rec.Strategy), template.HTMLEscapeString(rec.Reason))
		if rec.Memory != "" {
			fmt.Fprintf(&md, "%s\n\n", mdText(rec.Memory))
			fmt.Fprintf(&html, "<p>%s</p>\n", template.HTMLEscapeString(rec.Memory))
		}
		if tied := tiedLine(t); tied != "" {
			fmt.Fprintf(&md, "%s\n\n", mdText(tied))
			fmt.Fprintf(&html, "<p>%s</p>\n", template.HTMLEscapeString(tied))
		} else if ru := t.Setting(rec.RunnerUp); ru != nil {
			fmt.Fprintf(&md, "Runner-up: %s.\n\n", mdText(settingLabel(ru)))
			fmt.Fprintf(&html, "<p>Runner-up: %s.</p>\n", template.HTMLEscapeString(settingLabel(ru)))
		}
		if rec.Partial {
			const p = "The sweep did not finish: this is the best of the settings measured."
			fmt.Fprintf(&md, "%s\n\n", p)
			fmt.Fprintf(&html, "<p class=\"caution\">%s</p>\n", p)
		}
		ct := changeTable(t)
		md.WriteString(ct.Markdown())
		html.WriteString(string(ct.HTML()))
	} else {
		const none = "No recommendation: no setting was measured completely."
		md.WriteString(none + "\n")
		fmt.Fprintf(&html, "<p>%s</p>\n", none)
	}
	lead = []Section{{ID: "recommendation", Title: "Recommendation", Markdown: md.String(), HTML: template.HTML(html.String())}}

	st := settingsTable(t)
	note := tuneTableNote(t)
	rest = append(rest, Section{
		ID:       "settings",
		Title:    "Settings",
		Markdown: st.Markdown() + "\n" + mdText(note) + "\n",
		HTML:     st.HTML() + template.HTML("<p class=\"note\">"+template.HTMLEscapeString(note)+"</p>\n"),
	})
	ct := costTable(t)
	method := tuneMethod(t)
	var mmd, mhtml strings.Builder
	mmd.WriteString(ct.Markdown() + "\n")
	mhtml.WriteString(string(ct.HTML()))
	for _, p := range method {
		fmt.Fprintf(&mmd, "%s\n\n", mdText(p))
		fmt.Fprintf(&mhtml, "<p>%s</p>\n", template.HTMLEscapeString(p))
	}
	rest = append(rest, Section{ID: "cost-model", Title: "How the costs were worked out", Markdown: mmd.String(), HTML: template.HTML(mhtml.String())})
	return lead, rest
}

// tuneMethod says, in paragraphs, what the numbers rest on.
func tuneMethod(t *results.Tune) []string {
	p := t.Pricing
	out := []string{
		fmt.Sprintf("Pricing: %s (%s), billed per %s; source: %s. List prices in US dollars, without free tier or volume discounts.",
			p.Table, p.Description, msCell(p.GranularityMs, 1)+" ms", p.Source),
		fmt.Sprintf("Traffic: %s, over a month of 730 hours.", t.Traffic.Description),
	}
	billed := "platform-reported billed durations"
	for _, s := range t.Settings {
		if s.Complete && s.Billed.Source != "platform" {
			billed = "measured service times, rounded up as the table bills (the platform reported no billed duration)"
			break
		}
	}
	out = append(out, "Duration is priced from "+billed+".")
	prewarm := "Prewarmed instances are the platform's own (provisioned concurrency or min instances): their capacity is charged for the whole month, busy or not."
	if t.Mechanism == "keep-warm" {
		prewarm = fmt.Sprintf("Prewarm is a keep-warm schedule: every %s, as many concurrent pings as the prewarm level; it costs the pings, and keeps instances warm only if the pings come more often than the keep-alive.",
			msCell(t.KeepWarmS, 1)+" s")
	}
	out = append(out, prewarm,
		fmt.Sprintf("Cold-start rate model: requests arrive as a Poisson stream; by Little's law the mean concurrency is the rate times the billed duration; "+
			"prewarmed instances serve the first requests in flight and never start cold; an on-demand instance starts cold when it sat idle longer than the "+
			"keep-alive, %s s (%s), estimated hour by hour of the daily pattern.", strconv.FormatFloat(t.KeepAlive.S, 'g', 4, 64), t.KeepAlive.Source))
	return out
}

// usd formats dollars with the precision that matters at its size.
func usd(v float64) string {
	switch {
	case v == 0:
		return "$0"
	case v >= 100:
		return "$" + strconv.FormatFloat(v, 'f', 0, 64)
	case v >= 0.1:
		return "$" + strconv.FormatFloat(v, 'f', 2, 64)
	}
	return "$" + strconv.FormatFloat(v, 'f', 4, 64)
}

// sharePct formats a share as a percentage, with more digits when small.
func sharePct(f float64) string {
	switch {
	case f == 0:
		return "0%"
	case f < 1e-5:
		return "<0.001%"
	case f < 0.001:
		return strconv.FormatFloat(100*f, 'f', 3, 64) + "%"
	}
	return percent(f)
}
