package compare

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/coldbench/coldbench/drivers"
	"github.com/coldbench/coldbench/results"
)

// latencies draws n latencies (µs) from a seeded log-normal around medianMs,
// the right-skewed shape of service times.
func latencies(seed uint64, n int, medianMs, sigma float64) []int64 {
	r := rand.New(rand.NewPCG(seed, 7))
	out := make([]int64, n)
	for i := range out {
		out[i] = int64(medianMs * 1000 * math.Exp(sigma*r.NormFloat64()))
	}
	return out
}

func histOf(vs []int64) *hdrhistogram.Histogram {
	h := results.NewHistogram()
	for _, v := range vs {
		h.RecordValue(v)
	}
	return h
}

// TestQuantileIsHDRs: the sample's point percentile is the histogram's own
// ValueAtQuantile, which run.json's p50/p90/p99 come from.
func TestQuantileIsHDRs(t *testing.T) {
	h := histOf(latencies(1, 3000, 40, 0.3))
	s := newSample(h)
	for _, q := range []float64{0.01, 1, 50, 90, 99, 99.9, 100} {
		if got, want := s.quantile(q), h.ValueAtQuantile(q); got != want {
			t.Errorf("p%g: %d, want %d", q, got, want)
		}
	}
	if s.n != h.TotalCount() {
		t.Errorf("n %d, want %d", s.n, h.TotalCount())
	}
}

// TestBootQuantileIsResampling: the Beta shortcut draws the same
// distribution of a bootstrap percentile as resampling all n values and
// sorting them (checked by mean and spread over many replicates).
func TestBootQuantileIsResampling(t *testing.T) {
	s := newSample(histOf(latencies(2, 800, 30, 0.4)))
	r := rand.New(rand.NewPCG(3, 3))
	const reps = 1500
	for _, q := range []float64{50, 90, 99} {
		var fast, slow []float64
		buf := make([]int64, s.n)
		for range reps {
			fast = append(fast, float64(s.bootQuantile(q, r)))
			for i := range buf {
				buf[i] = s.at(r.Float64())
			}
			slow = append(slow, float64(orderStat(buf, rank(q, s.n))))
		}
		mf, sf := meanSD(fast)
		ms, ss := meanSD(slow)
		t.Logf("p%g: beta %.0f±%.0f µs, resampling %.0f±%.0f µs", q, mf, sf, ms, ss)
		if math.Abs(mf-ms) > 0.15*ss+1 || math.Abs(sf-ss) > 0.2*ss+1 {
			t.Errorf("p%g: beta %.0f±%.0f, resampling %.0f±%.0f: the shortcut is not the bootstrap", q, mf, sf, ms, ss)
		}
	}
}

func orderStat(xs []int64, k int64) int64 {
	c := append([]int64(nil), xs...)
	slices.Sort(c)
	return c[k-1]
}

func meanSD(xs []float64) (float64, float64) {
	var s, ss float64
	for _, x := range xs {
		s += x
	}
	m := s / float64(len(xs))
	for _, x := range xs {
		ss += (x - m) * (x - m)
	}
	return m, math.Sqrt(ss / float64(len(xs)-1))
}

// TestIntervals checks the proportion statistics against published values.
func TestIntervals(t *testing.T) {
	near := func(name string, got, want, tol float64) {
		t.Helper()
		if math.Abs(got-want) > tol {
			t.Errorf("%s = %.4f, want %.4f", name, got, want)
		}
	}
	// Wilson's interval for 0 of 10 (Newcombe 1998, table I: 0.0000–0.2775).
	lo, hi := Wilson(0, 10, 1.96)
	near("wilson lo", lo, 0, 1e-9)
	near("wilson hi", hi, 0.2775, 5e-4)
	// Newcombe's example, 56/70 − 48/80 = 0.2000, method 10: 0.0524 to 0.3339.
	lo, hi = newcombe(48, 80, 56, 70, 1.96)
	near("newcombe lo", lo, 0.0524, 5e-4)
	near("newcombe hi", hi, 0.3339, 5e-4)
	// Pooled z = 2.650 for the same data: two-sided p = 0.0080.
	near("p", twoProportionP(48, 80, 56, 70), 0.0080, 2e-4)
	near("z(0.95)", zFor(0.95), 1.95996, 1e-4)
	near("z(0.90)", zFor(0.90), 1.64485, 1e-4)
}

// run builds a run record with one phase: warm and cold latencies and a
// number of failed requests.
func run(name string, warm, cold []int64, errs int) *results.Run {
	return lagRun(name, warm, cold, errs, 0)
}

// lagRun is run with every request sent lagUs late: latency from the
// intended send time lagUs above the service time.
func lagRun(name string, warm, cold []int64, errs int, lagUs int64) *results.Run {
	tally := results.NewTally([]results.PhasePlan{{Name: name, Duration: time.Second, Planned: int64(len(warm) + len(cold) + errs), Rate: 1}})
	p := tally.Phases[0]
	p.Start = time.Unix(1e9, 0)
	p.End = p.Start.Add(time.Second)
	rec := func(temp drivers.Temperature, out drivers.Outcome, us int64) {
		d := time.Duration(us) * time.Microsecond
		p.Record(results.Sample{Temp: temp, Outcome: out, Latency: d + time.Duration(lagUs)*time.Microsecond, Service: d})
	}
	for _, v := range warm {
		rec(drivers.Warm, drivers.OK, v)
	}
	for _, v := range cold {
		rec(drivers.Cold, drivers.OK, v)
	}
	for range errs {
		rec(drivers.Warm, drivers.ServerError, 1000)
	}
	return results.Summarize(tally, results.Meta{Scenario: "x", StartedAt: p.Start, FinishedAt: p.End, Complete: true})
}

func scale(vs []int64, f float64) []int64 {
	out := make([]int64, len(vs))
	for i, v := range vs {
		out[i] = int64(float64(v) * f)
	}
	return out
}

func find(t *testing.T, r *Result, phase, metric string) Change {
	t.Helper()
	for _, c := range r.Changes {
		if c.Phase == phase && c.Metric == metric {
			return c
		}
	}
	t.Fatalf("no change %s:%s in %+v", phase, metric, r.Changes)
	return Change{}
}

// TestVerdicts: table of pairs of runs and the verdict each gated metric
// must get with the default options.
func TestVerdicts(t *testing.T) {
	base := latencies(10, 2000, 40, 0.25)
	cold := latencies(11, 40, 300, 0.1)
	tests := []struct {
		name   string
		a, b   *results.Run
		metric string
		want   Verdict
	}{
		// Two samples of one distribution: only sampling noise.
		{"same distribution", run("s", base, cold, 0), run("s", latencies(20, 2000, 40, 0.25), latencies(21, 40, 300, 0.1), 0), "warm.p99", Same},
		{"same distribution p50", run("s", base, cold, 0), run("s", latencies(22, 2000, 40, 0.25), cold, 0), "warm.p50", Same},
		// 30% slower everywhere: worse, and far beyond the interval.
		{"30% slower", run("s", base, cold, 0), run("s", scale(latencies(23, 2000, 40, 0.25), 1.3), cold, 0), "warm.p99", Worse},
		{"30% faster", run("s", base, cold, 0), run("s", scale(latencies(24, 2000, 40, 0.25), 0.7), cold, 0), "warm.p50", Better},
		// A real but small shift (8%) is within the 20% minimum effect.
		{"8% slower is same", run("s", base, cold, 0), run("s", scale(base, 1.08), cold, 0), "warm.p50", Same},
		// 40 cold starts cannot say anything about cold p99 (500 needed).
		{"few cold samples", run("s", base, cold, 0), run("s", base, scale(cold, 2), 0), "cold.p99", Inconclusive},
		// Errors: 0 → 5% of 2000 is worse; 0.1% → 0.2% is within 1 point.
		{"errors up", run("s", base, cold, 0), run("s", base, cold, 105), "errors.rate", Worse},
		{"errors noise", run("s", base, cold, 2), run("s", base, cold, 4), "errors.rate", Same},
		// 25% slower on 40 samples: past the minimum effect, but p50's
		// interval on so few reaches back within it.
		{"25% slower, few samples", run("s", base[:40], cold, 0), run("s", scale(base[40:80], 1.25), cold, 0), "warm.p50", Inconclusive},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := DefaultOptions()
			opts.Gate = []Gate{{Metric: tt.metric}}
			r, err := Runs(tt.a, tt.b, opts)
			if err != nil {
				t.Fatal(err)
			}
			c := find(t, r, "", tt.metric)
			t.Logf("%s: %.3f → %.3f, interval [%.3f, %.3f], min effect %.3f: %s (%s)", tt.metric, c.Base, c.New, c.Lo, c.Hi, c.MinEffect, c.Verdict, c.Reason)
			if c.Verdict != tt.want {
				t.Errorf("verdict %s, want %s", c.Verdict, tt.want)
			}
			if want := tt.want == Worse; r.Regressed() != want {
				t.Errorf("regressed %v, want %v", r.Regressed(), want)
			}
		})
	}
}

// TestRunsDeterministic: one seed, one answer; and the comparison covers
// the whole run and each phase, with phases in one run only noted.
func TestRunsDeterministic(t *testing.T) {
	a := run("steady", latencies(30, 1000, 40, 0.3), latencies(31, 30, 300, 0.1), 1)
	b := run("steady", latencies(32, 1000, 41, 0.3), latencies(33, 30, 300, 0.1), 1)
	r1, err := Runs(a, b, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	r2, _ := Runs(a, b, DefaultOptions())
	for i := range r1.Changes {
		if r1.Changes[i] != r2.Changes[i] {
			t.Fatalf("change %d differs between two comparisons with one seed:\n%+v\n%+v", i, r1.Changes[i], r2.Changes[i])
		}
	}
	find(t, r1, "steady", "warm.p90")
	if g := r1.Gated(); len(g) != 3 || g[0].Metric != "warm.p50" || g[1].Metric != "cold.p50" {
		t.Errorf("gated %+v: want warm.p50, cold.p50, errors.rate", g)
	}
	c := run("other", latencies(34, 100, 40, 0.3), nil, 0)
	r3, err := Runs(a, c, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	if notes := strings.Join(r3.Notes, "; "); !strings.Contains(notes, `"steady" is only in the baseline`) || !strings.Contains(notes, `"other" is only in the new run`) {
		t.Errorf("notes %q", notes)
	}
}

func TestParseGate(t *testing.T) {
	tests := []struct {
		in   string
		want string // gates joined, or the error's start
	}{
		{"warm.p99, cold.p99,errors.rate", "warm.p99 cold.p99 errors.rate"},
		{"steady:warm.p50", "steady:warm.p50"},
		{"warm.p95", `error: metric "warm.p95" is not compared`},
		{"wram.p99", `error: unknown metric "wram.p99"`},
		{"", "error: no metrics"},
	}
	for _, tt := range tests {
		gs, err := ParseGate(tt.in)
		got := ""
		if err != nil {
			got = "error: " + err.Error()
		} else {
			var names []string
			for _, g := range gs {
				names = append(names, g.String())
			}
			got = strings.Join(names, " ")
		}
		if !strings.HasPrefix(got, tt.want) {
			t.Errorf("ParseGate(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestGeneratorLag: a run whose generator fell behind (latency far above
// service time) gets no better or worse latency verdict, only
// inconclusive and a note; a slower target (service time up as much as
// latency) is still worse.
func TestGeneratorLag(t *testing.T) {
	warm := latencies(40, 1000, 50, 0.1)
	base := run("s", warm, nil, 0)
	stalled := lagRun("s", latencies(41, 1000, 50, 0.1), nil, 0, 250_000)
	r, err := Runs(base, stalled, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	if c := find(t, r, "", "warm.p50"); c.Verdict != Inconclusive || c.Delta < 200 {
		t.Errorf("stalled generator: warm.p50 %+v, want inconclusive on a 250 ms rise", c)
	}
	if notes := strings.Join(r.Notes, "; "); !strings.Contains(notes, "the new run's load generator fell behind") {
		t.Errorf("notes %q", notes)
	}
	slower, err := Runs(base, run("s", scale(latencies(42, 1000, 50, 0.1), 1.3), nil, 0), DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	if c := find(t, slower, "", "warm.p50"); c.Verdict != Worse || len(slower.Notes) != 0 {
		t.Errorf("slower target: warm.p50 %s, notes %q; want worse", c.Verdict, slower.Notes)
	}
}
