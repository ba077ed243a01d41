package tune

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/coldbench/coldbench/compare"
	"github.com/coldbench/coldbench/results"
)

// Ties are ties. A setting's numbers come from a few samples with jitter,
// so every ranked setting carries bootstrap intervals (TuneIntervals) and
// settings whose intervals on the deciding measure overlap the best one's
// are reported as tied: the strategy then picks among them by TieRule
// instead of by a difference the samples cannot show.

// Interval settings: the confidence and the bootstrap's size and seed
// (fixed, so that the same record always gets the same intervals and the
// same recommendation).
const (
	IntervalConfidence = 0.95
	intervalResamples  = 1000
	intervalSeed       = 1
)

// TieRule is how the strategies pick among tied settings: the least
// memory, then the least prewarm — the setting that asks the least of
// the platform.
const TieRule = "least memory, then least prewarm"

// intervals computes ts's bootstrap intervals. The cost interval carries
// the interval of the billed duration — warm and cold billed means mixed
// at the projected cold-start rate, each resampled — into the duration
// part of the monthly cost, which is proportional to it; the other parts
// (requests, prewarmed capacity) are not measured and have no spread.
func intervals(ts *results.TuneSetting) *results.TuneIntervals {
	iv := &results.TuneIntervals{Confidence: IntervalConfidence,
		MonthlyLo: ts.Cost.Monthly, MonthlyHi: ts.Cost.Monthly,
		BilledLoMs: billedMix(ts, ts.Billed.WarmMeanMs, ts.Billed.ColdMeanMs), BilledHiMs: billedMix(ts, ts.Billed.WarmMeanMs, ts.Billed.ColdMeanMs)}
	iv.WarmP50LoMs, iv.WarmP50HiMs = medianInterval(&ts.Warm)
	iv.ColdP50LoMs, iv.ColdP50HiMs = medianInterval(&ts.Cold)
	warm, cold := decoded(ts.Billed.WarmDist), decoded(ts.Billed.ColdDist)
	if warm == nil {
		warm = cold // only cold requests: priced as warm ones too
	}
	if cold == nil {
		cold = warm
	}
	point := iv.BilledLoMs
	if warm == nil || point <= 0 {
		return iv
	}
	r := ts.Cost.ColdRate
	lo, hi := compare.WeightedMeanInterval([]*hdrhistogram.Histogram{warm, cold}, []float64{1 - r, r}, IntervalConfidence, intervalResamples, intervalSeed)
	lo, hi = lo/1000, hi/1000 // µs to ms
	if math.IsNaN(lo) || math.IsNaN(hi) {
		return iv
	}
	iv.BilledLoMs, iv.BilledHiMs = lo, hi
	iv.MonthlyLo = ts.Cost.Monthly + ts.Cost.Duration*(lo/point-1)
	iv.MonthlyHi = ts.Cost.Monthly + ts.Cost.Duration*(hi/point-1)
	return iv
}

// billedMix is a request's expected billed duration at the projected
// cold-start rate.
func billedMix(ts *results.TuneSetting, warmMs, coldMs float64) float64 {
	r := ts.Cost.ColdRate
	return (1-r)*warmMs + r*coldMs
}

// medianInterval is the bootstrap interval of a latency's median, or its
// median twice when its histogram is not stored.
func medianInterval(p *results.Percentiles) (lo, hi float64) {
	h := decoded(p)
	if h == nil {
		return p.P50Ms, p.P50Ms
	}
	lo, hi = compare.QuantileInterval(h, 50, IntervalConfidence, intervalResamples, intervalSeed)
	return lo / 1000, hi / 1000
}

// decoded is p's histogram, or nil when there is none to resample.
func decoded(p *results.Percentiles) *hdrhistogram.Histogram {
	if p == nil || p.Histogram == "" {
		return nil
	}
	h, err := p.Decode()
	if err != nil || h.TotalCount() == 0 {
		return nil
	}
	return h
}

// overlap reports whether two intervals share a point.
func overlap(alo, ahi, blo, bhi float64) bool { return alo <= bhi && blo <= ahi }

// tieBreak reorders cands, ranked best first by the strategy, when others
// tie with the best on the deciding measure (lo and hi of its interval):
// the tied settings come first, ordered by TieRule, then the rest as they
// were. It returns the tied settings, winner first; nil when none ties.
func tieBreak(cands []*results.TuneSetting, lo, hi func(*results.TuneSetting) float64) []*results.TuneSetting {
	if len(cands) < 2 {
		return nil
	}
	best := cands[0]
	var tied, rest []*results.TuneSetting
	for _, ts := range cands {
		if ts == best || overlap(lo(best), hi(best), lo(ts), hi(ts)) {
			tied = append(tied, ts)
		} else {
			rest = append(rest, ts)
		}
	}
	if len(tied) < 2 {
		return nil
	}
	slices.SortStableFunc(tied, func(a, b *results.TuneSetting) int {
		if c := cmp.Compare(a.MemoryMB, b.MemoryMB); c != 0 {
			return c
		}
		return cmp.Compare(a.Prewarm, b.Prewarm)
	})
	copy(cands, tied)
	copy(cands[len(tied):], rest)
	return tied
}

// separateSamples is about how many samples per setting would make the
// winner's interval clear every other tied one's: intervals narrow as
// 1/√n, so n' = n × ((halfwidth₁ + halfwidth₂) / |difference|)², the
// largest over the tied pairs. 0 when a pair measured the same (no
// number of samples separates equal values).
func separateSamples(tied []*results.TuneSetting, n int64, point, lo, hi func(*results.TuneSetting) float64) int64 {
	w := tied[0]
	var need float64
	for _, ts := range tied[1:] {
		d := math.Abs(point(w) - point(ts))
		half := (hi(w)-lo(w))/2 + (hi(ts)-lo(ts))/2
		if d <= 1e-9*math.Max(math.Abs(point(w)), 1e-12) {
			return 0
		}
		need = max(need, float64(n)*(half/d)*(half/d))
	}
	return int64(math.Ceil(min(need, 1e12)))
}

// tiedText is the reason's sentence for a tie: which settings, the range
// they share, the rule, and the samples that would separate them.
func tiedText(tied []*results.TuneSetting, measure string, rangeText string, separate int64) string {
	names := make([]string, len(tied))
	for i, ts := range tied {
		names[i] = label(ts)
	}
	s := fmt.Sprintf("%s: tied within noise with %s, whose %s overlap at %.0f%% confidence (%s); among tied settings the rule is %s",
		label(tied[0]), strings.Join(names[1:], ", "), measure, 100*IntervalConfidence, rangeText, TieRule)
	switch {
	case separate == 0:
		s += "; they measured the same, so no number of samples would separate them"
	default:
		s += fmt.Sprintf("; about %d samples per setting would tell them apart, if they differ as measured", separate)
	}
	return s + "."
}
