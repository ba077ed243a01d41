package compare

import (
	"math"
	"math/rand/v2"
	"slices"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// sample is an HDR histogram read as an empirical distribution: its
// distinct values (each bucket's highest equivalent value, as
// ValueAtQuantile reports them) with cumulative counts.
type sample struct {
	values []int64
	cum    []int64
	n      int64
}

func newSample(h *hdrhistogram.Histogram) sample {
	var s sample
	for _, b := range h.Distribution() {
		if b.Count == 0 {
			continue
		}
		s.n += b.Count
		s.values = append(s.values, b.To)
		s.cum = append(s.cum, s.n)
	}
	return s
}

// rank is the 1-based rank of quantile q (percent) among n values, as
// hdrhistogram's ValueAtQuantile takes it.
func rank(q float64, n int64) int64 {
	r := q/100*float64(n) + 0.5
	if !(r >= 1) {
		return 1
	}
	if r >= float64(n) {
		return n
	}
	return int64(r)
}

// at returns the value at cumulative position u·n, u in [0, 1]: the
// inverse of the empirical distribution function.
func (s sample) at(u float64) int64 {
	pos := int64(math.Ceil(u * float64(s.n)))
	pos = min(max(pos, 1), s.n)
	i, _ := slices.BinarySearch(s.cum, pos)
	return s.values[i]
}

// quantile is the sample's q-th percentile, equal to ValueAtQuantile.
func (s sample) quantile(q float64) int64 {
	k := rank(q, s.n)
	i, _ := slices.BinarySearch(s.cum, k)
	return s.values[i]
}

// bootQuantile draws the q-th percentile of one bootstrap resample (n
// values drawn with replacement from s) without drawing the n values. The
// resample is F⁻¹(U₁..Uₙ) for uniforms Uᵢ, and F⁻¹ is monotone, so its
// k-th smallest value is F⁻¹(U₍ₖ₎), and the k-th smallest of n uniforms is
// Beta(k, n+1−k). The draw is exact, and costs O(log buckets) however many
// requests the histogram holds.
func (s sample) bootQuantile(q float64, r *rand.Rand) int64 {
	k := rank(q, s.n)
	return s.at(betaDraw(r, float64(k), float64(s.n+1-k)))
}

// betaDraw draws from Beta(a, b) as X/(X+Y) of two gamma draws.
func betaDraw(r *rand.Rand, a, b float64) float64 {
	x := gammaDraw(r, a)
	y := gammaDraw(r, b)
	return x / (x + y)
}

// gammaDraw draws from Gamma(shape, 1) by Marsaglia and Tsang's method
// (ACM TOMS 26(3), 2000); shapes below 1 are boosted by U^(1/shape).
func gammaDraw(r *rand.Rand, shape float64) float64 {
	if shape < 1 {
		return gammaDraw(r, shape+1) * math.Pow(r.Float64(), 1/shape)
	}
	d := shape - 1.0/3
	c := 1 / math.Sqrt(9*d)
	for {
		x := r.NormFloat64()
		v := 1 + c*x
		if v <= 0 {
			continue
		}
		v = v * v * v
		u := r.Float64()
		if u < 1-0.0331*x*x*x*x || math.Log(u) < 0.5*x*x+d*(1-v+math.Log(v)) {
			return d * v
		}
	}
}

// bootstrapDiff is the percentile bootstrap interval, at two-sided
// confidence conf, of quantile q of b minus that of a, from resamples
// replicates drawn independently from each.
func bootstrapDiff(a, b sample, q, conf float64, resamples int, r *rand.Rand) (lo, hi float64) {
	d := make([]float64, resamples)
	for i := range d {
		d[i] = float64(b.bootQuantile(q, r) - a.bootQuantile(q, r))
	}
	slices.Sort(d)
	alpha := (1 - conf) / 2
	return sorted(d, alpha), sorted(d, 1-alpha)
}

// sorted reads the p-quantile (0..1) of sorted xs, by linear interpolation.
func sorted(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	pos := p * float64(len(xs)-1)
	i := int(pos)
	if i >= len(xs)-1 {
		return xs[len(xs)-1]
	}
	f := pos - float64(i)
	return xs[i]*(1-f) + xs[i+1]*f
}

// Wilson is the Wilson score interval of a share of hits in n, at normal
// quantile z. It stays inside [0, 1] and is honest near 0, where errors and
// cold starts usually are. With n = 0 it is [0, 1].
func Wilson(hits, n int64, z float64) (lo, hi float64) {
	if n <= 0 {
		return 0, 1
	}
	p, nf := float64(hits)/float64(n), float64(n)
	den := 1 + z*z/nf
	mid := p + z*z/(2*nf)
	half := z * math.Sqrt(p*(1-p)/nf+z*z/(4*nf*nf))
	return max(0, (mid-half)/den), min(1, (mid+half)/den)
}

// newcombe is Newcombe's hybrid score interval (method 10, Statistics in
// Medicine 17, 1998) for p2 − p1: Wilson intervals of each share, combined.
// Unlike the textbook Wald interval it keeps its coverage when a share is
// 0 or near it.
func newcombe(k1, n1, k2, n2 int64, z float64) (lo, hi float64) {
	p1, p2 := float64(k1)/float64(n1), float64(k2)/float64(n2)
	l1, u1 := Wilson(k1, n1, z)
	l2, u2 := Wilson(k2, n2, z)
	d := p2 - p1
	return d - math.Hypot(p2-l2, u1-p1), d + math.Hypot(u2-p2, p1-l1)
}

// twoProportionP is the two-sided p-value of the pooled two-proportion z
// test that k1/n1 and k2/n2 are shares of the same rate.
func twoProportionP(k1, n1, k2, n2 int64) float64 {
	p := float64(k1+k2) / float64(n1+n2)
	se := math.Sqrt(p * (1 - p) * (1/float64(n1) + 1/float64(n2)))
	if se == 0 {
		return 1
	}
	zv := (float64(k2)/float64(n2) - float64(k1)/float64(n1)) / se
	return math.Erfc(math.Abs(zv) / math.Sqrt2)
}

// zFor is the normal quantile of a two-sided confidence level: 1.96 for
// 0.95.
func zFor(conf float64) float64 { return math.Sqrt2 * math.Erfinv(conf) }
