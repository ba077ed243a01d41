package report

import (
	"fmt"
	"html/template"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/coldbench/coldbench/results"
)

// ThresholdTable is the pass/fail table of a run's thresholds.
func ThresholdTable(vs []results.ThresholdVerdict) Table {
	t := Table{Header: []string{"Threshold", "Measured", "Samples", "Result", "Note"}, Align: "cr rll"}
	for _, v := range vs {
		measured := "-"
		if v.Status != results.ThresholdNoData {
			measured = thresholdValue(v, v.Value)
		}
		t.Rows = append(t.Rows, []string{v.Threshold, measured, strconv.FormatInt(v.Samples, 10), strings.ToUpper(v.Status), v.Note})
	}
	return t
}

// thresholdValue formats a measured value in the threshold's unit.
func thresholdValue(v results.ThresholdVerdict, x float64) string {
	if v.Unit == "share" {
		return strconv.FormatFloat(x*100, 'f', 2, 64) + "%"
	}
	if x >= 1000 {
		return time.Duration(x * float64(time.Millisecond)).Round(time.Millisecond).String()
	}
	return strconv.FormatFloat(x, 'f', 1, 64) + "ms"
}

// thresholdsLine sums the verdicts up: "Thresholds: 1 of 3 FAILED."
func thresholdsLine(vs []results.ThresholdVerdict) string {
	failed := 0
	for _, v := range vs {
		if v.Status == results.ThresholdFail {
			failed++
		}
	}
	if failed == 0 {
		return fmt.Sprintf("Thresholds: all %d passed.", len(vs))
	}
	return fmt.Sprintf("Thresholds: %d of %d FAILED.", failed, len(vs))
}

// writeThresholdsText writes the threshold table of a terminal report;
// nothing for a run without thresholds.
func writeThresholdsText(w io.Writer, r *results.Run) error {
	if len(r.Thresholds) == 0 {
		return nil
	}
	fmt.Fprintf(w, "\n%s\n", thresholdsLine(r.Thresholds))
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	t := ThresholdTable(r.Thresholds)
	fmt.Fprintln(tw, strings.ToUpper(strings.Join(t.Header, "\t")))
	for _, row := range t.Rows {
		cells := make([]string, len(row))
		for i, c := range row {
			cells[i] = oneLine(c)
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	return tw.Flush()
}

// thresholdSections is the lead section of report.md and report.html for
// a run with thresholds: the verdicts come first, they decide the build.
func thresholdSections(r *results.Run) []Section {
	if len(r.Thresholds) == 0 {
		return nil
	}
	t := ThresholdTable(r.Thresholds)
	line := thresholdsLine(r.Thresholds)
	return []Section{{
		ID:       "thresholds",
		Title:    "Thresholds",
		HTML:     template.HTML("<p>"+template.HTMLEscapeString(line)+"</p>\n") + t.HTML(),
		Markdown: "**" + mdText(line) + "**\n\n" + t.Markdown(),
	}}
}
