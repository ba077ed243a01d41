package bench

import (
	"bytes"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"
)

// VegetaVersion is the vegeta `make bench` installs and compares against.
const VegetaVersion = "v12.13.0"

// Config is what a benchmark run was asked to do.
type Config struct {
	Quick     bool          `json:"quick"`
	Rounds    int           `json:"rounds"`
	Step      time.Duration `json:"step_ns"` // length of one search probe
	P99Bound  time.Duration `json:"p99_bound_ns"`
	CPURate   int           `json:"cpu_rate"`  // rate of the CPU-per-request runs
	CPUCount  int64         `json:"cpu_count"` // requests in each
	LagRates  []int         `json:"lag_rates"`
	LagStep   time.Duration `json:"lag_step_ns"`
	RSSRate   int           `json:"rss_rate"`
	RSSCounts []int64       `json:"rss_counts"`
}

// Report is everything one benchmark run measured; BENCHMARKS.md and the
// raw JSON are both made from it.
type Report struct {
	Machine   Machine          `json:"machine"`
	Config    Config           `json:"config"`
	Ceiling   []float64        `json:"wrk_ceiling"`      // wrk's closed-loop req/s, per round
	Sustained map[string][]int `json:"sustained"`        // best passing rate per tool, per round
	Search    []Probe          `json:"search_probes"`    // every search probe, in order
	CPU       []Probe          `json:"cpu"`              // the fixed-rate runs
	Lag       []Probe          `json:"lag"`              // the timing-accuracy runs
	RSS       []Probe          `json:"rss"`              // the long runs
	Errors    []string         `json:"errors,omitempty"` // probes that could not run
}

// Passed says whether a probe sustained its rate: at least 99 % of the
// planned requests answered successfully within the run, and p99 latency
// under bound.
func Passed(p Probe, bound time.Duration) bool {
	return p.Achieved() >= 0.99 && p.P99 > 0 && p.P99 < bound
}

func median[T int | float64 | int64 | time.Duration](xs []T) T {
	if len(xs) == 0 {
		return 0
	}
	s := append([]T(nil), xs...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func ratio(a, b float64) string {
	if b == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f", a/b)
}

// cpuPer100k is a probe's CPU seconds per 100 000 requests sent.
func cpuPer100k(p Probe) float64 {
	if p.Sent == 0 {
		return 0
	}
	return p.Usage.CPU.Seconds() * 100_000 / float64(p.Sent)
}

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

func ms(d time.Duration) string { return fmt.Sprintf("%.3f", float64(d)/1e6) }

func count(n int64) string {
	switch {
	case n >= 1_000_000 && n%1_000_000 == 0:
		return fmt.Sprintf("%d M", n/1_000_000)
	case n >= 1000 && n%1000 == 0:
		return fmt.Sprintf("%d k", n/1000)
	}
	return fmt.Sprint(n)
}

// Markdown renders the results table with the machine it ran on.
func (r *Report) Markdown() string {
	var b strings.Builder
	m := r.Machine
	c := r.Config
	mode := "full"
	if c.Quick {
		mode = "quick (BENCH_QUICK=1)"
	}
	fmt.Fprintf(&b, "Measured %s UTC, %s mode, on %d cores (%s), %s; vegeta %s, %s.\n",
		m.Date.Format("2006-01-02 15:04"), mode, m.Cores, m.CPU, m.Go, VegetaVersion, m.Wrk)
	fmt.Fprintf(&b, "Load average (1, 5, 15 min) at the start: %s; at the end: %s.\n\n", m.LoadStart, m.LoadEnd)

	b.WriteString("| measure | coldbench | vegeta | coldbench / vegeta |\n|---|---:|---:|---:|\n")
	cb, vg := median(r.Sustained["coldbench"]), median(r.Sustained["vegeta"])
	fmt.Fprintf(&b, "| sustained open-model rate, req/s (≥ 99 %% OK, p99 < %s; median of %d searches; higher is better) | %d | %d | %s |\n",
		c.P99Bound, len(r.Sustained["coldbench"]), cb, vg, ratio(float64(cb), float64(vg)))
	fmt.Fprintf(&b, "| wrk closed-loop ceiling, req/s (median of %d) | %.0f | | |\n", len(r.Ceiling), median(r.Ceiling))

	cpu := map[string][]float64{}
	var attack []float64 // vegeta's attack process alone
	for _, p := range r.CPU {
		cpu[p.Tool] = append(cpu[p.Tool], cpuPer100k(p))
		if p.Tool == "vegeta" && len(p.Usage.CPUs) == 2 && p.Sent > 0 {
			attack = append(attack, p.Usage.CPUs[0].Seconds()*100_000/float64(p.Sent))
		}
	}
	cbCPU, vgCPU := median(cpu["coldbench"]), median(cpu["vegeta"])
	fmt.Fprintf(&b, "| CPU seconds per 100 000 requests at %d/s, whole run: coldbench run with its report; vegeta attack + report (median of %d; lower is better) | %.2f | %.2f | %s |\n",
		c.CPURate, len(cpu["coldbench"]), cbCPU, vgCPU, ratio(cbCPU, vgCPU))
	if len(attack) > 0 {
		a := median(attack)
		fmt.Fprintf(&b, "| … against vegeta attack alone | %.2f | %.2f | %s |\n", cbCPU, a, ratio(cbCPU, a))
	}

	for _, n := range c.RSSCounts {
		var cp, vp *Probe
		for i := range r.RSS {
			p := &r.RSS[i]
			if p.Planned != n {
				continue
			}
			if p.Tool == "coldbench" {
				cp = p
			} else {
				vp = p
			}
		}
		if cp == nil || vp == nil {
			continue
		}
		vs := mib(vp.Usage.RSS())
		if len(vp.Usage.MaxRSS) == 2 {
			vs = fmt.Sprintf("%s (attack %s + report %s)", vs, mib(vp.Usage.MaxRSS[0]), mib(vp.Usage.MaxRSS[1]))
		}
		fmt.Fprintf(&b, "| peak RSS, %s requests at %d/s | %s | %s | %s |\n",
			count(n), c.RSSRate, mib(cp.Usage.RSS()), vs, ratio(float64(cp.Usage.RSS()), float64(vp.Usage.RSS())))
	}

	for _, rate := range c.LagRates {
		var cl, vl *Lag
		for _, p := range r.Lag {
			if int(p.Rate) != rate || p.Lag == nil {
				continue
			}
			if p.Tool == "coldbench" {
				cl = p.Lag
			} else {
				vl = p.Lag
			}
		}
		if cl == nil || vl == nil {
			continue
		}
		fmt.Fprintf(&b, "| send lag at %d/s, ms p50 / p99 / max | %s / %s / %s | %s / %s / %s | %s / %s / %s |\n", rate,
			ms(cl.P50), ms(cl.P99), ms(cl.Max), ms(vl.P50), ms(vl.P99), ms(vl.Max),
			ratio(float64(cl.P50), float64(vl.P50)), ratio(float64(cl.P99), float64(vl.P99)), ratio(float64(cl.Max), float64(vl.Max)))
	}
	if len(r.Errors) > 0 {
		b.WriteString("\nRuns that failed:\n\n")
		for _, e := range r.Errors {
			fmt.Fprintf(&b, "- %s\n", e)
		}
	}
	return b.String()
}

// Markers delimit the generated part of BENCHMARKS.md; the prose around
// them is kept when the benchmark rewrites the file.
const (
	beginMarker = "<!-- make bench: begin generated results -->"
	endMarker   = "<!-- make bench: end generated results -->"
)

// Splice puts table between the markers of doc, or appends it with the
// markers when doc has none.
func Splice(doc, table string) string {
	block := beginMarker + "\n" + table + endMarker
	i := strings.Index(doc, beginMarker)
	j := strings.Index(doc, endMarker)
	if i < 0 || j < i {
		if doc != "" && !strings.HasSuffix(doc, "\n") {
			doc += "\n"
		}
		return doc + "\n" + block + "\n"
	}
	return doc[:i] + block + doc[j+len(endMarker):]
}

// WriteMarkdown splices the table into the file at path.
func WriteMarkdown(path, table string) error {
	old, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	doc := Splice(string(old), table)
	if bytes.Equal(old, []byte(doc)) {
		return nil
	}
	return os.WriteFile(path, []byte(doc), 0o644)
}
