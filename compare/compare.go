// Package compare decides whether a run regressed against a baseline run,
// without flagging noise: for every phase and temperature it compares the
// latency percentiles (p50, p90, p99) through bootstrap confidence
// intervals drawn from the stored HDR histograms, and the cold-start and
// error rates through score intervals and a two-proportion test, against a
// minimum effect size. Each change gets a verdict: better, same, worse or
// inconclusive.
//
// A verdict is worse only when the whole confidence interval of the change
// lies beyond the minimum effect: sampling noise (the interval) and
// run-to-run drift (the minimum effect) must both be ruled out.
package compare

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/coldbench/coldbench/results"
	"github.com/coldbench/coldbench/scenarios"
)

// Verdict is the judgement of one change, or of a whole comparison.
type Verdict string

// Verdicts. Lower is better for every metric compared (latency, cold-start
// rate, error rate).
const (
	Better       Verdict = "better"       // surely lower, by more than the minimum effect
	Same         Verdict = "same"         // the change measured is within the minimum effect
	Worse        Verdict = "worse"        // surely higher, by more than the minimum effect
	Inconclusive Verdict = "inconclusive" // too few samples, or a change beyond the minimum effect that the interval does not confirm
)

// Options tune the statistics. The zero value is not useful: start from
// DefaultOptions.
type Options struct {
	// MinEffect is the smallest relative change that counts (0.15: 15% of
	// the baseline's value).
	MinEffect float64 `json:"min_effect"`
	// MinEffectMs is the smallest latency change that counts, in ms,
	// whatever MinEffect says: a fast function's p99 moves by a
	// millisecond from scheduling alone.
	MinEffectMs float64 `json:"min_effect_ms"`
	// MinRateEffect is the smallest change of a rate that counts, as a
	// fraction (0.01: one percentage point).
	MinRateEffect float64 `json:"min_rate_effect"`
	// Confidence is the two-sided confidence level of the intervals.
	Confidence float64 `json:"confidence"`
	// Resamples is the number of bootstrap replicates per percentile.
	Resamples int `json:"resamples"`
	// Seed seeds the bootstrap, so the same runs always get the same
	// intervals.
	Seed uint64 `json:"seed"`
	// Gate lists the metrics whose worse verdict fails the comparison.
	Gate []Gate `json:"gate"`
}

// DefaultOptions are the defaults of `coldbench compare`. The minimum
// effect is 20% and 2 ms: two runs of the same code differ by more than
// sampling explains (the scheduler, other tenants, CPU frequency, a
// different set of cold instances). On the loaded 2-core machine this was
// measured on, identical 1.5 s emulator runs moved warm p50 by up to 5%
// and cold p50 by up to 16%, so a smaller bar would flag noise.
func DefaultOptions() Options {
	return Options{
		MinEffect:     0.20,
		MinEffectMs:   2,
		MinRateEffect: 0.01,
		Confidence:    0.95,
		Resamples:     2000,
		Seed:          1,
		Gate:          DefaultGate(),
	}
}

// Gate is one gated metric: a metric name, over the whole run (Phase
// empty) or one phase.
type Gate struct {
	Phase  string `json:"phase,omitempty"`
	Metric string `json:"metric"`
}

func (g Gate) String() string {
	if g.Phase != "" {
		return g.Phase + ":" + g.Metric
	}
	return g.Metric
}

// DefaultGate is warm p50, cold p50 and the error rate over the whole
// run. The tails (p90, p99) are compared and shown but not gated by
// default: between identical runs on a shared machine they move by far
// more than any sensible minimum effect (warm p99 from −42% to +73% in
// 1.5 s runs), while a median moves by a few percent. Gate them with
// --gate on long runs on a dedicated runner.
func DefaultGate() []Gate {
	return []Gate{{Metric: "warm.p50"}, {Metric: "cold.p50"}, {Metric: "errors.rate"}}
}

// Metrics lists the metrics compared, in order, for each scope.
var Metrics = []string{"warm.p50", "warm.p90", "warm.p99", "cold.p50", "cold.p90", "cold.p99", "cold.rate", "errors.rate"}

// ParseGate parses "warm.p99,cold.p99,steady:errors.rate".
func ParseGate(s string) ([]Gate, error) {
	var out []Gate
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		var g Gate
		if i := strings.LastIndex(f, ":"); i >= 0 {
			g.Phase, f = strings.TrimSpace(f[:i]), strings.TrimSpace(f[i+1:])
		}
		m, err := scenarios.ParseMetric(f)
		if err != nil {
			return nil, err
		}
		if !slices.Contains(Metrics, m.Name) {
			return nil, fmt.Errorf("metric %q is not compared: want one of %s", f, strings.Join(Metrics, ", "))
		}
		g.Metric = m.Name
		out = append(out, g)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no metrics in %q", s)
	}
	return out, nil
}

// Change is the comparison of one metric of one scope.
type Change struct {
	Phase  string  `json:"phase"`  // empty: the whole run
	Metric string  `json:"metric"` // warm.p99, cold.rate, errors.rate, ...
	Unit   string  `json:"unit"`   // ms, or share (a fraction)
	Base   float64 `json:"base"`
	New    float64 `json:"new"`
	// BaseN and NewN are the samples each value rests on.
	BaseN int64 `json:"base_samples"`
	NewN  int64 `json:"new_samples"`
	// Delta is New − Base; Rel is Delta / Base (0 when Base is 0).
	Delta float64 `json:"delta"`
	Rel   float64 `json:"rel"`
	// Lo and Hi bound Delta at the confidence level.
	Lo float64 `json:"ci_low"`
	Hi float64 `json:"ci_high"`
	// MinEffect is the change that counts here, in Unit: the larger of
	// the relative minimum effect and the absolute floor.
	MinEffect float64 `json:"min_effect"`
	// P is the two-proportion test's p-value, for rates; -1 otherwise.
	P       float64 `json:"p"`
	Verdict Verdict `json:"verdict"`
	Reason  string  `json:"reason"`
	Gated   bool    `json:"gated"`
}

// Name is "warm.p99" for the whole run, "steady:warm.p99" for a phase.
func (c Change) Name() string { return Gate{c.Phase, c.Metric}.String() }

// Result is a whole comparison.
type Result struct {
	Base    string   `json:"base"` // what the baseline is: a run directory or a baseline's name
	New     string   `json:"new"`
	Options Options  `json:"options"`
	Changes []Change `json:"changes"`
	// Verdict sums up the gated changes: worse if any is, else better if
	// any is, else same if any is, else inconclusive.
	Verdict Verdict `json:"verdict"`
	// Notes are what the reader should know: phases in one run only, an
	// incomplete run, gated metrics that were not measured.
	Notes []string `json:"notes,omitempty"`
}

// Gated returns the gated changes, in gate order.
func (r *Result) Gated() []Change {
	var out []Change
	for _, g := range r.Options.Gate {
		for _, c := range r.Changes {
			if c.Gated && c.Phase == g.Phase && c.Metric == g.Metric {
				out = append(out, c)
			}
		}
	}
	return out
}

// Regressed reports whether a gated metric is worse.
func (r *Result) Regressed() bool { return r.Verdict == Worse }

// Runs compares run b (new) against run a (the baseline): the whole run,
// then each phase both have, by name.
func Runs(a, b *results.Run, opts Options) (*Result, error) {
	if opts.Confidence <= 0 || opts.Confidence >= 1 {
		return nil, fmt.Errorf("confidence %v: want between 0 and 1", opts.Confidence)
	}
	if opts.Resamples < 100 {
		return nil, fmt.Errorf("resamples %d: want at least 100", opts.Resamples)
	}
	if opts.MinEffect < 0 || opts.MinEffectMs < 0 || opts.MinRateEffect < 0 {
		return nil, fmt.Errorf("minimum effects must not be negative")
	}
	res := &Result{Options: opts}
	rng := rand.New(rand.NewPCG(opts.Seed, 0x636f6c6462656e63)) // "coldbenc"
	z := zFor(opts.Confidence)

	type scope struct {
		phase string
		a, b  *results.Stats
	}
	scopes := []scope{{"", &a.Totals, &b.Totals}}
	for i := range a.Phases {
		pa := &a.Phases[i]
		pb := findPhase(b, pa.Name)
		if pb == nil {
			res.Notes = append(res.Notes, fmt.Sprintf("phase %q is only in the baseline", pa.Name))
			continue
		}
		scopes = append(scopes, scope{pa.Name, &pa.Stats, &pb.Stats})
	}
	for i := range b.Phases {
		if findPhase(a, b.Phases[i].Name) == nil {
			res.Notes = append(res.Notes, fmt.Sprintf("phase %q is only in the new run", b.Phases[i].Name))
		}
	}
	for _, r := range []struct {
		name string
		run  *results.Run
	}{{"the baseline", a}, {"the new run", b}} {
		if !r.run.Complete {
			res.Notes = append(res.Notes, r.name+" is incomplete: it stopped early")
		}
	}

	// A run whose load generator fell behind measured the machine, not the
	// target: its latencies (from the intended send time) cannot say
	// better or worse.
	lagged := false
	for _, r := range []struct {
		name string
		run  *results.Run
	}{{"the baseline", a}, {"the new run", b}} {
		lat, svc, ok, err := generatorLag(&r.run.Totals)
		if err != nil {
			return nil, err
		}
		if ok && lat-svc > max(opts.MinEffect*svc, opts.MinEffectMs) {
			lagged = true
			res.Notes = append(res.Notes, fmt.Sprintf("%s's load generator fell behind: median latency from the intended send time %.1f ms, "+
				"median service time %.1f ms (a busy machine, not the target); its latency verdicts are inconclusive", r.name, lat, svc))
		}
	}

	for _, sc := range scopes {
		for _, m := range Metrics {
			gated := slices.Contains(opts.Gate, Gate{sc.phase, m})
			c, ok, err := compareMetric(sc.a, sc.b, m, opts, z, rng)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", Gate{sc.phase, m}, err)
			}
			if !ok && !gated {
				continue // measured in neither run
			}
			if lagged && c.Unit == "ms" && (c.Verdict == Worse || c.Verdict == Better) {
				c.Verdict, c.Reason = Inconclusive, "a load generator fell behind (see the notes)"
			}
			c.Phase, c.Metric, c.Gated = sc.phase, m, gated
			res.Changes = append(res.Changes, c)
		}
	}
	for _, g := range opts.Gate {
		if g.Phase != "" && !slices.ContainsFunc(scopes, func(s scope) bool { return s.phase == g.Phase }) {
			res.Notes = append(res.Notes, fmt.Sprintf("gated %s: no phase %q in both runs", g, g.Phase))
			res.Changes = append(res.Changes, Change{Phase: g.Phase, Metric: g.Metric, Gated: true, P: -1,
				Verdict: Inconclusive, Reason: "the phase is not in both runs"})
		}
	}
	res.Verdict = overall(res.Gated())
	return res, nil
}

// generatorLag is a run's median latency from the intended send time and
// median service time from the actual send, in ms, over every successful
// request. Latency above service time is time spent before the request
// left: the generator's own delay.
func generatorLag(s *results.Stats) (latency, service float64, ok bool, err error) {
	if s.Service.Count == 0 {
		return 0, 0, false, nil
	}
	h := results.NewHistogram()
	for _, p := range []*results.Percentiles{&s.Cold, &s.Warm, s.Unknown} {
		if p == nil {
			continue
		}
		d, err := p.Decode()
		if err != nil {
			return 0, 0, false, err
		}
		h.Merge(d)
	}
	return float64(h.ValueAtQuantile(50)) / 1000, s.Service.P50Ms, true, nil
}

func findPhase(r *results.Run, name string) *results.PhaseStats {
	for i := range r.Phases {
		if r.Phases[i].Name == name {
			return &r.Phases[i]
		}
	}
	return nil
}

// overall sums up gated verdicts: worse if any is, else better if any is,
// else same if any is; inconclusive only when none could be judged. A
// gated metric that is inconclusive beside others that are not is named
// in the verdict line of every rendering (report.CompareText), not hidden.
func overall(cs []Change) Verdict {
	for _, v := range []Verdict{Worse, Better, Same} {
		if slices.ContainsFunc(cs, func(c Change) bool { return c.Verdict == v }) {
			return v
		}
	}
	return Inconclusive
}

// compareMetric compares one metric of two scopes; ok is false when
// neither measured it.
func compareMetric(a, b *results.Stats, metric string, o Options, z float64, rng *rand.Rand) (Change, bool, error) {
	switch metric {
	case "cold.rate":
		c := compareRate(a.Cold.Count, a.Cold.Count+a.Warm.Count, b.Cold.Count, b.Cold.Count+b.Warm.Count, o, z)
		return c, c.BaseN+c.NewN > 0, nil
	case "errors.rate":
		c := compareRate(a.ErrorCount(), a.Sent, b.ErrorCount(), b.Sent, o, z)
		return c, c.BaseN+c.NewN > 0, nil
	}
	m, err := scenarios.ParseMetric(metric)
	if err != nil {
		return Change{}, false, err
	}
	pa, pb := &a.Warm, &b.Warm
	if m.Temp == "cold" {
		pa, pb = &a.Cold, &b.Cold
	}
	ha, err := pa.Decode()
	if err != nil {
		return Change{}, false, err
	}
	hb, err := pb.Decode()
	if err != nil {
		return Change{}, false, err
	}
	c := comparePercentile(newSample(ha), newSample(hb), m.Quantile, o, rng)
	return c, c.BaseN+c.NewN > 0, nil
}

// MinSamples is how many samples a run needs for its percentile q to be
// compared: at least five beyond it (500 for p99, 50 for p90, 10 for p50).
// Fewer leave the bootstrap interval of a tail percentile far too narrow:
// a resample cannot reach past the largest value seen.
func MinSamples(q float64) int64 {
	return int64(math.Ceil(5/(1-q/100) - 1e-9))
}

// comparePercentile compares percentile q (percent) of two samples.
func comparePercentile(a, b sample, q float64, o Options, rng *rand.Rand) Change {
	c := Change{Unit: "ms", BaseN: a.n, NewN: b.n, P: -1}
	if a.n > 0 {
		c.Base = float64(a.quantile(q)) / 1000
	}
	if b.n > 0 {
		c.New = float64(b.quantile(q)) / 1000
	}
	c.Delta = c.New - c.Base
	if c.Base > 0 {
		c.Rel = c.Delta / c.Base
	}
	c.MinEffect = max(o.MinEffect*c.Base, o.MinEffectMs)
	need := MinSamples(q)
	if a.n < need || b.n < need {
		c.Verdict = Inconclusive
		c.Reason = fmt.Sprintf("too few samples for p%g (%d and %d; need %d each)", q, a.n, b.n, need)
		return c
	}
	lo, hi := bootstrapDiff(a, b, q, o.Confidence, o.Resamples, rng)
	c.Lo, c.Hi = lo/1000, hi/1000
	c.Verdict, c.Reason = judge(c)
	return c
}

// compareRate compares shares k1/n1 (baseline) and k2/n2.
func compareRate(k1, n1, k2, n2 int64, o Options, z float64) Change {
	c := Change{Unit: "share", BaseN: n1, NewN: n2, P: -1}
	if n1 > 0 {
		c.Base = float64(k1) / float64(n1)
	}
	if n2 > 0 {
		c.New = float64(k2) / float64(n2)
	}
	c.Delta = c.New - c.Base
	if c.Base > 0 {
		c.Rel = c.Delta / c.Base
	}
	c.MinEffect = max(o.MinEffect*c.Base, o.MinRateEffect)
	if n1 == 0 || n2 == 0 {
		c.Verdict, c.Reason = Inconclusive, "not measured in both runs"
		return c
	}
	c.Lo, c.Hi = newcombe(k1, n1, k2, n2, z)
	c.P = twoProportionP(k1, n1, k2, n2)
	c.Verdict, c.Reason = judge(c)
	return c
}

// judge gives the verdict of a change with its interval: worse (better)
// only when the whole interval is above (below) the minimum effect; same
// when the change measured is within it; inconclusive when the change
// measured is beyond it but the interval reaches back inside.
func judge(c Change) (Verdict, string) {
	e := c.MinEffect
	switch {
	case c.Lo > e:
		return Worse, "the whole interval is above the minimum effect"
	case c.Hi < -e:
		return Better, "the whole interval is below the minimum effect"
	case math.Abs(c.Delta) <= e:
		return Same, "the change is within the minimum effect"
	}
	return Inconclusive, "the change exceeds the minimum effect, but its interval reaches back within it"
}
