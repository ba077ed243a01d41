package bench

import (
	"bytes"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"
	"time"
)

// VegetaVersion is the vegeta `make bench` installs and compares against.
const VegetaVersion = "v12.13.0"

// Config is what a benchmark run was asked to do.
type Config struct {
	Quick  bool `json:"quick"`
	Rounds int  `json:"rounds"`
	// Rates are the headline rates, ones every generator sustains on the
	// machine (the asked ones, lowered to what wrk's ceiling allows), each
	// run for RateCount requests per generator per round.
	Rates     []int         `json:"rates"`
	RateCount int64         `json:"rate_count"`
	Step      time.Duration `json:"step_ns"` // length of one overload search probe
	P99Bound  time.Duration `json:"p99_bound_ns"`
	RSSRate   int           `json:"rss_rate"`
	RSSCounts []int64       `json:"rss_counts"`
	// VegetaRSSMax skips vegeta's memory runs above this many requests:
	// its attack's memory grows with the run (3.6 GiB at 1 M).
	VegetaRSSMax int64 `json:"vegeta_rss_max"`
}

// Report is everything one benchmark run measured; BENCHMARKS.md and the
// raw JSON are both made from it.
type Report struct {
	Machine   Machine          `json:"machine"`
	Config    Config           `json:"config"`
	Ceiling   []float64        `json:"wrk_ceiling"`      // wrk's closed-loop req/s, per round
	Rated     []Probe          `json:"rated"`            // the headline runs at Config.Rates
	Sustained map[string][]int `json:"sustained"`        // overload: best passing rate per tool, per round
	Search    []Probe          `json:"search_probes"`    // every search probe, in order
	RSS       []Probe          `json:"rss"`              // the long runs
	Errors    []string         `json:"errors,omitempty"` // probes that could not run
}

// Tools are the open-model generators compared, in table order.
// coldbench-nethttp (the http driver with `client: net/http`) runs in the
// headline only: the overload search and the long memory runs are the
// default client's.
var Tools = []string{"coldbench", "coldbench-nethttp", "vegeta", "bombardier"}

// AdaptRates keeps the asked rates at or under half wrk's closed-loop
// ceiling — rates every generator can be expected to sustain on this
// machine — and falls back to a quarter and a half of the ceiling, rounded
// to 500/s, when none is.
func AdaptRates(asked []int, ceiling float64) []int {
	var out []int
	for _, r := range asked {
		if float64(r) <= ceiling/2 {
			out = append(out, r)
		}
	}
	if len(out) > 0 {
		return out
	}
	for _, f := range []float64{0.25, 0.5} {
		if r := int(ceiling*f/500) * 500; r > 0 && !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	if len(out) == 0 {
		out = []int{500}
	}
	return out
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

// mibOr is mib, or "–" for a figure not measured.
func mibOr(b int64) string {
	if b == 0 {
		return "–"
	}
	return mib(b)
}

// split is "anon / file" in MiB, or "–" when /proc was not read.
func split(anon, file int64) string {
	if anon == 0 && file == 0 {
		return "–"
	}
	return fmt.Sprintf("%.1f / %.1f", float64(anon)/(1<<20), float64(file)/(1<<20))
}

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

// rated is one tool's medians at one headline rate.
type rated struct {
	ok, cpu         float64
	rss, anon, file int64
	p99             time.Duration
	lag             string // "p99 / max" in ms, or "–"
}

func aggregate(probes []Probe, tool string, rate int) (rated, bool) {
	var ach, cpu []float64
	var rss, anon, file []int64
	var p99, lp99, lmax []time.Duration
	for _, p := range probes {
		if p.Tool != tool || int(p.Rate) != rate {
			continue
		}
		ach = append(ach, p.Achieved())
		cpu = append(cpu, cpuPer100k(p))
		rss = append(rss, p.Usage.RSS())
		anon, file = append(anon, p.Usage.Anon()), append(file, p.Usage.File())
		p99 = append(p99, p.P99)
		if p.Lag != nil {
			lp99, lmax = append(lp99, p.Lag.P99), append(lmax, p.Lag.Max)
		}
	}
	if len(ach) == 0 {
		return rated{}, false
	}
	a := rated{ok: median(ach), cpu: median(cpu), rss: median(rss), anon: median(anon), file: median(file), p99: median(p99), lag: "–"}
	if len(lp99) > 0 {
		a.lag = ms(median(lp99)) + " / " + ms(median(lmax))
	}
	return a, true
}

// Markdown renders the results tables with the machine they ran on.
func (r *Report) Markdown() string {
	var b strings.Builder
	m := r.Machine
	c := r.Config
	mode := "full"
	if c.Quick {
		mode = "quick (BENCH_QUICK=1)"
	}
	fmt.Fprintf(&b, "Measured %s UTC, %s mode, on %d cores (%s), %s; vegeta %s, bombardier %s, %s.\n",
		m.Date.Format("2006-01-02 15:04"), mode, m.Cores, m.CPU, m.Go, VegetaVersion, BombardierVersion, m.Wrk)
	fmt.Fprintf(&b, "Load average (1, 5, 15 min) at the start: %s; at the end: %s.\n\n", m.LoadStart, m.LoadEnd)

	fmt.Fprintf(&b, "**At rates every generator sustains** (%s requests per run, median of %d interleaved runs; coldbench's p99 from the intended send time, the others' from the actual send; CPU and peak RSS of the whole process, coldbench's report writing included, vegeta's attack writing its results to a file):\n\n", count(c.RateCount), c.Rounds)
	b.WriteString("| rate | tool | OK / planned | CPU s per 100 k | peak RSS | peak anon / file | p99 ms | send lag p99 / max ms | CPU / vegeta | p99 / vegeta |\n|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, rate := range c.Rates {
		rows := map[string]rated{}
		for _, tool := range Tools {
			if a, ok := aggregate(r.Rated, tool, rate); ok {
				rows[tool] = a
			}
		}
		v := rows["vegeta"]
		for _, tool := range Tools {
			a, ok := rows[tool]
			if !ok {
				continue
			}
			fmt.Fprintf(&b, "| %d | %s | %.4f | %.2f | %s | %s | %s | %s | %s | %s |\n", rate, tool, a.ok, a.cpu, mib(a.rss),
				split(a.anon, a.file), ms(a.p99), a.lag, ratio(a.cpu, v.cpu), ratio(float64(a.p99), float64(v.p99)))
		}
	}

	fmt.Fprintf(&b, "\n**Overload: the highest rate each sustains** (≥ 99 %% of the planned requests OK and p99 < %s; median of %d searches; wrk's closed-loop ceiling %.0f req/s, median of %d):\n\n",
		c.P99Bound, len(r.Sustained["coldbench"]), median(r.Ceiling), len(r.Ceiling))
	b.WriteString("| tool | sustained req/s | / vegeta |\n|---|---:|---:|\n")
	vg := median(r.Sustained["vegeta"])
	for _, tool := range Tools {
		if s, ok := r.Sustained[tool]; ok {
			fmt.Fprintf(&b, "| %s | %d | %s |\n", tool, median(s), ratio(float64(median(s)), float64(vg)))
		}
	}

	if len(r.RSS) > 0 {
		fmt.Fprintf(&b, "\n**Peak RSS of long runs** at %d/s (vegeta: attack + report processes; anon: heap and stacks, file: mostly the executable's own pages; sampled every %s):\n\n", c.RSSRate, memEvery)
		b.WriteString("| requests | tool | peak RSS | peak anon | peak file |\n|---:|---|---:|---:|---:|\n")
		for _, n := range c.RSSCounts {
			for _, tool := range Tools {
				for _, p := range r.RSS {
					if p.Planned == n && p.Tool == tool {
						fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", count(n), tool, mib(p.Usage.RSS()), mibOr(p.Usage.Anon()), mibOr(p.Usage.File()))
					}
				}
			}
		}
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
