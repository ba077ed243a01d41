package tune

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/coldbench/coldbench/results"
	"github.com/coldbench/coldbench/scenarios"
)

// SpeedTolerance is how close to the fastest typical time a setting
// must be to count as equally fast: 5%, or 1 ms for very fast functions.
// Strategy speed picks the cheapest of the equally fast, since a
// difference that small is within what a few samples can tell apart.
const (
	SpeedTolerance    = 0.05
	SpeedToleranceAbs = 1.0 // ms
)

// Recommend ranks the complete settings of rec under its strategy, setting
// each one's Rank, Score and SLOMisses, and returns the recommendation;
// nil when no setting was measured completely. Settings that used all
// their memory are not ranked when any other fits.
//
//   - cost: the lowest monthly cost (ties: the faster); settings whose
//     cost intervals overlap the cheapest one's are tied within noise,
//     and among them TieRule picks (ties.go);
//   - speed: the lowest typical time (TuneSetting.TypicalMs), and among
//     the settings within
//     SpeedTolerance of it the cheapest;
//   - balanced: the lowest Weight × cost + (1−Weight) × typical time,
//     each normalised to 0 (best swept) .. 1 (worst swept);
//   - slo: the cheapest setting that meets every target; when none does,
//     the one that misses them by the least (relative shortfall summed).
func Recommend(rec *results.Tune) *results.Recommendation {
	var cands []*results.TuneSetting
	for i := range rec.Settings {
		ts := &rec.Settings[i]
		ts.Rank, ts.Score, ts.SLOMisses = 0, 0, nil
		if ts.Complete {
			cands = append(cands, ts)
		}
	}
	if len(cands) == 0 {
		return nil
	}
	complete := cands
	cands = fitting(cands)
	for _, ts := range cands {
		ts.Intervals = intervals(ts) // ties.go
	}
	var reason func(w, r *results.TuneSetting) string
	var tied []*results.TuneSetting
	var separate int64
	switch rec.Strategy {
	case scenarios.StrategyCost:
		reason = rankCost(cands)
		// The deciding measure is the monthly cost: settings whose cost
		// intervals overlap the cheapest one's are tied.
		lo := func(ts *results.TuneSetting) float64 { return ts.Intervals.MonthlyLo }
		hi := func(ts *results.TuneSetting) float64 { return ts.Intervals.MonthlyHi }
		if tied = tieBreak(cands, lo, hi); tied != nil {
			point := func(ts *results.TuneSetting) float64 { return ts.Cost.Monthly }
			separate = separateSamples(tied, tied[0].Billed.Count, point, lo, hi)
			low, high := math.Inf(1), math.Inf(-1)
			for _, ts := range tied {
				low, high = min(low, lo(ts)), max(high, hi(ts))
			}
			reason = func(w, r *results.TuneSetting) string {
				return tiedText(tied, "monthly costs", dollars(low)+"–"+dollars(high)+" a month", separate)
			}
		}
	case scenarios.StrategySpeed:
		reason = rankSpeed(cands)
	case scenarios.StrategySLO:
		reason = rankSLO(cands, rec.SLO)
	default:
		reason = rankBalanced(cands, rec.Weight)
	}
	for i, ts := range cands {
		ts.Rank = i + 1
	}
	w := cands[0]
	var ru *results.TuneSetting
	if len(cands) > 1 {
		ru = cands[1]
	}
	out := &results.Recommendation{
		Strategy: rec.Strategy,
		Winner:   w.Name,
		Reason:   reason(w, ru),
		Partial:  !rec.Complete,
		After:    snapshot(w),
	}
	if ru != nil {
		out.RunnerUp = ru.Name
	}
	if tied != nil {
		for _, ts := range tied {
			out.Tied = append(out.Tied, ts.Name)
		}
		out.TieRule, out.SeparateSamples = TieRule, separate
	}
	out.Memory = memoryNote(w, complete)
	for _, ts := range cands {
		if ts.Current {
			out.Before = new(snapshot(ts))
		}
	}
	return out
}

func snapshot(ts *results.TuneSetting) results.TuneSnapshot {
	return results.TuneSnapshot{
		Setting:   ts.Name,
		ColdP99Ms: ts.Cold.P99Ms,
		WarmP99Ms: ts.Warm.P99Ms,
		ColdRate:  ts.Cost.ColdRate,
		Monthly:   ts.Cost.Monthly,
	}
}

// byCost orders by monthly cost, then typical time. Sorting is stable,
// so remaining ties keep the sweep's order.
func byCost(a, b *results.TuneSetting) int {
	if c := cmp.Compare(a.Cost.Monthly, b.Cost.Monthly); c != 0 && !sameCost(a, b) {
		return c
	}
	return cmp.Compare(a.TypicalMs, b.TypicalMs)
}

// sameCost treats costs equal to a millionth as equal.
func sameCost(a, b *results.TuneSetting) bool {
	x, y := a.Cost.Monthly, b.Cost.Monthly
	return math.Abs(x-y) <= 1e-6*math.Max(math.Abs(x), math.Abs(y))
}

func rankCost(cands []*results.TuneSetting) func(w, r *results.TuneSetting) string {
	for _, ts := range cands {
		ts.Score = ts.Cost.Monthly
	}
	slices.SortStableFunc(cands, byCost)
	return func(w, r *results.TuneSetting) string {
		s := fmt.Sprintf("%s is the cheapest setting at %s a month (%s per million requests)",
			label(w), dollars(w.Cost.Monthly), dollars(w.Cost.PerMillion))
		if r != nil && r.Cost.Monthly > 0 {
			s += fmt.Sprintf(", %.1f%% below %s", 100*(1-w.Cost.Monthly/r.Cost.Monthly), label(r))
		}
		return s + memoryClause(w, cands) + "."
	}
}

// fitting leaves out the settings that used all their memory, where a
// real function runs out of it (platforms cap what they report at the
// size), unless that leaves none.
func fitting(cands []*results.TuneSetting) []*results.TuneSetting {
	var fit []*results.TuneSetting
	for _, ts := range cands {
		if ts.MaxMemoryUsedMB == 0 || ts.MaxMemoryUsedMB < ts.MemoryMB {
			fit = append(fit, ts)
		}
	}
	if len(fit) == 0 {
		return cands
	}
	return fit
}

// memoryClause explains a winner that is not the smallest memory size: its
// requests bill so much shorter that the larger size costs less.
func memoryClause(w *results.TuneSetting, all []*results.TuneSetting) string {
	var small *results.TuneSetting
	for _, ts := range all {
		if ts.Prewarm == w.Prewarm && ts.MemoryMB < w.MemoryMB && (small == nil || ts.MemoryMB < small.MemoryMB) {
			small = ts
		}
	}
	if small == nil || small.Billed.WarmMeanMs <= w.Billed.WarmMeanMs {
		return ""
	}
	return fmt.Sprintf(": its requests bill %s against %s at %d MB, which more than pays for the extra memory",
		msText(w.Billed.WarmMeanMs), msText(small.Billed.WarmMeanMs), small.MemoryMB)
}

func rankSpeed(cands []*results.TuneSetting) func(w, r *results.TuneSetting) string {
	best := math.Inf(1)
	for _, ts := range cands {
		ts.Score = ts.TypicalMs
		best = min(best, ts.TypicalMs)
	}
	limit := best + max(SpeedTolerance*best, SpeedToleranceAbs)
	fast := func(ts *results.TuneSetting) bool { return ts.TypicalMs <= limit }
	slices.SortStableFunc(cands, func(a, b *results.TuneSetting) int {
		fa, fb := fast(a), fast(b)
		switch {
		case fa && !fb:
			return -1
		case fb && !fa:
			return 1
		case fa && fb:
			return byCost(a, b)
		}
		return cmp.Compare(a.TypicalMs, b.TypicalMs)
	})
	n := 0
	for _, ts := range cands {
		if fast(ts) {
			n++
		}
	}
	return func(w, r *results.TuneSetting) string {
		s := fmt.Sprintf("%s is the fastest setting: a request can expect %s in the function at a projected cold-start rate of %s (measured warm p99 %s)",
			label(w), msText(w.TypicalMs), pct(w.Cost.ColdRate), msText(w.Warm.P99Ms))
		if n > 1 {
			s += fmt.Sprintf(", and the cheapest (%s a month) of the %d settings within %.0f%% of the fastest", dollars(w.Cost.Monthly), n, 100*SpeedTolerance)
		}
		return s + "."
	}
}

func rankBalanced(cands []*results.TuneSetting, weight float64) func(w, r *results.TuneSetting) string {
	minC, maxC, minL, maxL := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	for _, ts := range cands {
		minC, maxC = min(minC, ts.Cost.Monthly), max(maxC, ts.Cost.Monthly)
		minL, maxL = min(minL, ts.TypicalMs), max(maxL, ts.TypicalMs)
	}
	norm := func(v, lo, hi float64) float64 {
		if hi <= lo {
			return 0
		}
		return (v - lo) / (hi - lo)
	}
	for _, ts := range cands {
		ts.Score = weight*norm(ts.Cost.Monthly, minC, maxC) + (1-weight)*norm(ts.TypicalMs, minL, maxL)
	}
	costRank := ranks(cands, func(ts *results.TuneSetting) float64 { return ts.Cost.Monthly })
	speedRank := ranks(cands, func(ts *results.TuneSetting) float64 { return ts.TypicalMs })
	slices.SortStableFunc(cands, func(a, b *results.TuneSetting) int {
		if c := cmp.Compare(a.Score, b.Score); c != 0 {
			return c
		}
		return byCost(a, b)
	})
	return func(w, r *results.TuneSetting) string {
		return fmt.Sprintf("%s strikes the best balance at weight %.2f on cost: %s a month (%s of %d) with a typical %s in the function (%s) and a projected cold-start rate of %s.",
			label(w), weight, dollars(w.Cost.Monthly), nth(costRank[w], "cheapest"), len(cands), msText(w.TypicalMs), nth(speedRank[w], "fastest"), pct(w.Cost.ColdRate))
	}
}

// ranks numbers the settings from 1 by ascending key.
func ranks(cands []*results.TuneSetting, key func(*results.TuneSetting) float64) map[*results.TuneSetting]int {
	sorted := slices.Clone(cands)
	slices.SortStableFunc(sorted, func(a, b *results.TuneSetting) int { return cmp.Compare(key(a), key(b)) })
	out := make(map[*results.TuneSetting]int, len(sorted))
	for i, ts := range sorted {
		out[ts] = i + 1
	}
	return out
}

func rankSLO(cands []*results.TuneSetting, slo *results.TuneSLO) func(w, r *results.TuneSetting) string {
	if slo == nil {
		slo = &results.TuneSLO{}
	}
	short := map[*results.TuneSetting]float64{}
	met := 0
	for _, ts := range cands {
		ts.SLOMisses, short[ts] = sloMisses(ts, slo)
		ts.Score = short[ts]
		if len(ts.SLOMisses) == 0 {
			met++
		}
	}
	slices.SortStableFunc(cands, func(a, b *results.TuneSetting) int {
		if c := cmp.Compare(short[a], short[b]); c != 0 && (short[a] > 0 || short[b] > 0) {
			return c
		}
		return byCost(a, b)
	})
	targets := sloText(slo)
	return func(w, r *results.TuneSetting) string {
		if met == 0 {
			return fmt.Sprintf("No setting meets every target (%s); %s comes closest, missing %s, at %s a month.",
				targets, label(w), strings.Join(w.SLOMisses, " and "), dollars(w.Cost.Monthly))
		}
		return fmt.Sprintf("%s is the cheapest of the %d settings that meet every target (%s), at %s a month.",
			label(w), met, targets, dollars(w.Cost.Monthly))
	}
}

// sloMisses lists the targets ts misses and sums the relative shortfalls.
// A target on a latency that was not measured counts as missed by 100%.
func sloMisses(ts *results.TuneSetting, slo *results.TuneSLO) ([]string, float64) {
	var misses []string
	var short float64
	check := func(name string, got, target float64, measured bool) {
		switch {
		case target <= 0:
		case !measured:
			misses = append(misses, name+" (not measured)")
			short++
		case got > target:
			misses = append(misses, fmt.Sprintf("%s (%s > %s)", name, msText(got), msText(target)))
			short += got/target - 1
		}
	}
	check("warm p50", ts.Warm.P50Ms, slo.WarmP50Ms, ts.Warm.Count > 0)
	check("warm p99", ts.Warm.P99Ms, slo.WarmP99Ms, ts.Warm.Count > 0)
	check("cold p99", ts.Cold.P99Ms, slo.ColdP99Ms, ts.Cold.Count > 0)
	if r := slo.ColdRate; r != nil && ts.Cost.ColdRate > *r {
		misses = append(misses, fmt.Sprintf("cold-start rate (%.3g%% > %.3g%%)", 100*ts.Cost.ColdRate, 100**r))
		short += (ts.Cost.ColdRate - *r) / max(*r, 1e-3)
	}
	return misses, short
}

// sloText lists the targets: "warm p99 ≤ 250 ms, cold-start rate ≤ 5%".
func sloText(slo *results.TuneSLO) string {
	var parts []string
	for _, t := range []struct {
		name string
		v    float64
	}{{"warm p50", slo.WarmP50Ms}, {"warm p99", slo.WarmP99Ms}, {"cold p99", slo.ColdP99Ms}} {
		if t.v > 0 {
			parts = append(parts, t.name+" ≤ "+msText(t.v))
		}
	}
	if slo.ColdRate != nil {
		parts = append(parts, "cold-start rate ≤ "+pct(*slo.ColdRate))
	}
	return strings.Join(parts, ", ")
}

// label is a setting as a sentence names it: "1769 MB with 2 prewarmed".
func label(ts *results.TuneSetting) string {
	if ts.Prewarm == 0 {
		return fmt.Sprintf("%d MB without prewarm", ts.MemoryMB)
	}
	return fmt.Sprintf("%d MB with %d prewarmed", ts.MemoryMB, ts.Prewarm)
}

// dollars formats a cost with the precision that matters at its size.
func dollars(v float64) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("$%.0f", v)
	case v >= 0.1:
		return fmt.Sprintf("$%.2f", v)
	}
	return fmt.Sprintf("$%.4f", v)
}

func pct(f float64) string {
	switch {
	case f == 0:
		return "0%"
	case f < 1e-5:
		return "<0.001%"
	case f < 0.001:
		return fmt.Sprintf("%.3f%%", 100*f)
	}
	return fmt.Sprintf("%.1f%%", 100*f)
}

// nth is "the cheapest" for 1, "2nd cheapest" for 2, and so on.
func nth(n int, superlative string) string {
	if n == 1 {
		return "the " + superlative
	}
	return ordinal(n) + " " + superlative
}

func ordinal(n int) string {
	suffix := "th"
	switch {
	case n%100 >= 11 && n%100 <= 13:
	case n%10 == 1:
		suffix = "st"
	case n%10 == 2:
		suffix = "nd"
	case n%10 == 3:
		suffix = "rd"
	}
	return fmt.Sprintf("%d%s", n, suffix)
}
