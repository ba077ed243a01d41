package results

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// TestEncodeHistogram: what EncodeHistogram writes decodes, with
// hdrhistogram-go's own decoder, to the histogram it was given, for each
// kind's geometry and for counts that need every LEB128 length.
func TestEncodeHistogram(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(3, 4))
	cases := []struct {
		name string
		h    *hdrhistogram.Histogram
		fill func(h *hdrhistogram.Histogram)
	}{
		// one value at the bottom of the range
		{"one", NewHistogram(), func(h *hdrhistogram.Histogram) { h.RecordValue(1) }},
		// latencies spread over the range, with runs of zeros between
		{"latency", NewHistogram(), func(h *hdrhistogram.Histogram) {
			for range 20000 {
				h.RecordValue(int64(1 + rng.ExpFloat64()*5000))
			}
			h.RecordValue(histHighest)
		}},
		// huge counts: every ZigZag length, up to the ninth byte
		{"huge counts", NewHistogramOf(Lag), func(h *hdrhistogram.Histogram) {
			for i, n := range []int64{1, 1 << 7, 1 << 14, 1 << 21, 1 << 28, 1 << 35, 1 << 42, 1 << 49, 1 << 56, math.MaxInt64 >> 2} {
				h.RecordValues(int64(10*(i+1)), n)
			}
		}},
		// memory in MB
		{"memory", NewHistogramOf(Memory), func(h *hdrhistogram.Histogram) {
			for i := range 300 {
				h.RecordValue(int64(128 + i*7))
			}
		}},
	}
	for _, tc := range cases {
		tc.fill(tc.h)
		b, err := EncodeHistogram(tc.h)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		d, err := hdrhistogram.Decode(b)
		if err != nil {
			t.Fatalf("%s: decode: %v", tc.name, err)
		}
		if !d.Equals(tc.h) || d.TotalCount() != tc.h.TotalCount() || d.SignificantFigures() != tc.h.SignificantFigures() || d.HighestTrackableValue() != tc.h.HighestTrackableValue() {
			t.Errorf("%s: decoded histogram differs", tc.name)
		}
	}
}

// BenchmarkEncodeHistogram compares hdrhistogram-go's Encode with
// EncodeHistogram on a latency histogram of 20 000 requests: what the
// run.json journal does per histogram per second.
func BenchmarkEncodeHistogram(b *testing.B) {
	h := NewHistogram()
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		h.RecordValue(int64(200 + rng.ExpFloat64()*5000))
	}
	b.Run("hdrhistogram", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := h.Encode(hdrhistogram.V2CompressedEncodingCookieBase); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("pooled", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := EncodeHistogram(h); err != nil {
				b.Fatal(err)
			}
		}
	})
}
