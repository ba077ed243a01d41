package report

import (
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/coldbench/coldbench/results"
)

// exemplarNote says what the exemplar tables are for.
const exemplarNote = "The slowest successful requests of each temperature, with the W3C trace id each carried: search it in your tracing tool. run.json also holds a random sample per temperature."

// namedExemplars are one temperature's exemplars of a phase.
type namedExemplars struct {
	temp string
	x    *results.Exemplars
}

func phaseExemplars(ps *results.PhaseStats) []namedExemplars {
	pe := ps.Exemplars
	if pe == nil {
		return nil
	}
	var out []namedExemplars
	for _, n := range []namedExemplars{{"cold", pe.Cold}, {"warm", pe.Warm}, {"unknown", pe.Unknown}} {
		if n.x != nil && len(n.x.Slowest) > 0 {
			out = append(out, n)
		}
	}
	return out
}

// exemplarTable lists a phase's slowest requests by temperature, or is nil
// when the phase has none.
func exemplarTable(ps *results.PhaseStats) *Table {
	named := phaseExemplars(ps)
	if len(named) == 0 {
		return nil
	}
	t := &Table{Header: []string{"Slowest", "Latency", "Service", "Sent at", "Trace id", "Request id"}, Align: "lrrrcc"}
	for _, n := range named {
		for i := range n.x.Slowest {
			e := &n.x.Slowest[i]
			t.Rows = append(t.Rows, []string{n.temp + " #" + strconv.Itoa(i+1), msCell(durMs(e.Latency), 1), msCell(durMs(e.Service), 1),
				"+" + e.Offset.Round(time.Millisecond).String(), traceCell(e), e.RequestID})
		}
	}
	return t
}

// traceCell is the trace id, marked when the request went unsampled (its
// spans may not have been kept downstream).
func traceCell(e *results.Exemplar) string {
	id := e.TraceIDHex()
	switch {
	case id == "":
		return "-"
	case !e.Sampled:
		return id + " (unsampled)"
	}
	return id
}

// writeSlowest writes, for the text report, the slowest request of each
// phase × temperature with its trace id, the line a user copies into a
// tracing tool.
func writeSlowest(w io.Writer, r *results.Run) error {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	header := false
	for i := range r.Phases {
		for _, n := range phaseExemplars(&r.Phases[i]) {
			if !header {
				fmt.Fprintln(w, "\nSlowest requests, with the trace id each carried:")
				header = true
			}
			e := &n.x.Slowest[0]
			fmt.Fprintf(tw, "  %s\tslowest %s:\t%s ms\ttrace %s\trequest %s\n",
				oneLine(r.Phases[i].Name), n.temp, msCell(durMs(e.Latency), 1), traceCell(e), oneLine(e.RequestID))
		}
	}
	return tw.Flush()
}

func durMs(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
