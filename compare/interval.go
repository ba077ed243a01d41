package compare

import (
	"math"
	"math/rand/v2"
	"slices"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Intervals for one measurement on its own (the tuning sweep's settings),
// from the same seeded bootstrap the regression verdicts use.

// QuantileInterval is the percentile bootstrap interval, at two-sided
// confidence conf, of quantile q (percent) of h; resamples replicates
// from a generator seeded with seed, so the same histogram always gets
// the same interval. NaNs for an empty h.
func QuantileInterval(h *hdrhistogram.Histogram, q, conf float64, resamples int, seed uint64) (lo, hi float64) {
	s := newSample(h)
	if s.n == 0 || resamples < 1 {
		return math.NaN(), math.NaN()
	}
	r := rand.New(rand.NewPCG(seed, 0x636f6c6462656e63))
	d := make([]float64, resamples)
	for i := range d {
		d[i] = float64(s.bootQuantile(q, r))
	}
	slices.Sort(d)
	alpha := (1 - conf) / 2
	return sorted(d, alpha), sorted(d, 1-alpha)
}

// exactMeanDraws bounds the samples a mean is resampled from one by one;
// past it a replicate's mean is drawn from its normal limit (mean,
// sd/√n), which the bootstrap distribution of a mean of that many values
// is indistinguishable from, at O(1) a replicate.
const exactMeanDraws = 500

// WeightedMeanInterval is the percentile bootstrap interval, at two-sided
// confidence conf, of Σ weights[i] × mean(hs[i]), each histogram resampled
// independently (resamples replicates, seeded): for a quantity such as a
// setting's billed duration, a mix of its warm and cold means. Empty
// histograms add nothing. NaNs when all are empty.
func WeightedMeanInterval(hs []*hdrhistogram.Histogram, weights []float64, conf float64, resamples int, seed uint64) (lo, hi float64) {
	samples := make([]sample, len(hs))
	any := false
	for i, h := range hs {
		if h != nil {
			samples[i] = newSample(h)
			any = any || samples[i].n > 0
		}
	}
	if !any || resamples < 1 {
		return math.NaN(), math.NaN()
	}
	r := rand.New(rand.NewPCG(seed, 0x636f6c6462656e63))
	d := make([]float64, resamples)
	for k := range d {
		var v float64
		for i, s := range samples {
			if s.n == 0 {
				continue
			}
			v += weights[i] * s.bootMean(hs[i], r)
		}
		d[k] = v
	}
	slices.Sort(d)
	alpha := (1 - conf) / 2
	return sorted(d, alpha), sorted(d, 1-alpha)
}

// bootMean draws the mean of one bootstrap resample of s (from h).
func (s sample) bootMean(h *hdrhistogram.Histogram, r *rand.Rand) float64 {
	if s.n > exactMeanDraws {
		return h.Mean() + r.NormFloat64()*h.StdDev()/math.Sqrt(float64(s.n))
	}
	var sum float64
	for range s.n {
		sum += float64(s.at(r.Float64()))
	}
	return sum / float64(s.n)
}
