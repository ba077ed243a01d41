package report

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"strconv"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/coldbench/coldbench/results"
)

// This file holds the formats meant for tools rather than people: CSV for
// spreadsheets and plots, .hgrm for HdrHistogram's plotter.

// CSVHeader is the header row CSV writes.
var CSVHeader = []string{
	"phase", "temperature", "count",
	"min_ms", "mean_ms", "p50_ms", "p90_ms", "p95_ms", "p99_ms", "p999_ms", "max_ms",
}

// CSV writes r as comma-separated values for spreadsheets and plotting: a
// header row (CSVHeader), then one row per phase × temperature with the
// latency of successful requests in milliseconds. Every phase has a cold
// and a warm row (count 0 and empty percentiles when there were none) and an
// unknown row when some requests' temperature was not known.
func CSV(w io.Writer, r *results.Run) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(CSVHeader); err != nil {
		return err
	}
	for i := range r.Phases {
		for _, t := range temps(&r.Phases[i].Stats) {
			if err := cw.Write(csvRow(r.Phases[i].Name, t.name, t.p)); err != nil {
				return err
			}
		}
	}
	cw.Flush()
	return cw.Error()
}

func csvRow(phase, temp string, p *results.Percentiles) []string {
	row := []string{phase, temp, strconv.FormatInt(p.Count, 10)}
	for _, v := range []float64{p.MinMs, p.MeanMs, p.P50Ms, p.P90Ms, p.P95Ms, p.P99Ms, p.P999Ms, p.MaxMs} {
		cell := ""
		if p.Count > 0 {
			cell = strconv.FormatFloat(v, 'f', -1, 64)
		}
		row = append(row, cell)
	}
	return row
}

// namedTemp is the successful-request latency of one temperature.
type namedTemp struct {
	name string
	p    *results.Percentiles
}

// temps lists the temperatures of s: cold, warm, and unknown when there
// were such requests.
func temps(s *results.Stats) []namedTemp {
	t := []namedTemp{{"cold", &s.Cold}, {"warm", &s.Warm}}
	if s.Unknown != nil {
		t = append(t, namedTemp{"unknown", s.Unknown})
	}
	return t
}

// hgrmTicks is the number of reporting ticks per half distance to 100%,
// HdrHistogram's default for outputPercentileDistribution.
const hgrmTicks = 5

// HGRM writes, for each phase × temperature, the percentile distribution of
// successful requests' latency in milliseconds, in HdrHistogram's
// outputPercentileDistribution text format (.hgrm), which HdrHistogram's
// plotter and other tools read. Each block starts with a '#' line naming
// the phase and temperature; blocks are separated by a blank line. The
// distributions come from the stored histograms, so they are exact to the
// histograms' precision.
func HGRM(w io.Writer, r *results.Run) error {
	bw := bufio.NewWriter(w)
	first := true
	for i := range r.Phases {
		ps := &r.Phases[i]
		for _, t := range temps(&ps.Stats) {
			h, err := t.p.Decode()
			if err != nil {
				return fmt.Errorf("phase %q %s: %w", ps.Name, t.name, err)
			}
			if !first {
				fmt.Fprintln(bw)
			}
			first = false
			fmt.Fprintf(bw, "# phase=%s temp=%s: latency of successful requests in ms, from the intended send time\n", oneLine(ps.Name), t.name)
			if h.TotalCount() == 0 {
				fmt.Fprint(bw, "#[No samples]\n")
				continue
			}
			writePercentileDistribution(bw, h, 1000)
		}
	}
	return bw.Flush()
}

// writePercentileDistribution writes h's distribution with values divided
// by scale, exactly as HdrHistogram's (Java) AbstractHistogram.
// outputPercentileDistribution does: a header, one line per percentile
// reporting tick with the value, the percentile as a fraction, the count up
// to it and 1/(1-percentile) (left out on the 100% line), then mean,
// standard deviation, max, count and the bucket geometry.
func writePercentileDistribution(w io.Writer, h *hdrhistogram.Histogram, scale float64) {
	digits := h.SignificantFigures()
	fmt.Fprintf(w, "%12s %14s %10s %14s\n\n", "Value", "Percentile", "TotalCount", "1/(1-Percentile)")
	for _, b := range h.CumulativeDistributionWithTicks(hgrmTicks) {
		q := b.Quantile / 100
		if b.Quantile != 100 {
			fmt.Fprintf(w, "%12.*f %2.12f %10d %14.2f\n", digits, float64(b.ValueAt)/scale, q, b.Count, 1/(1-q))
		} else {
			fmt.Fprintf(w, "%12.*f %2.12f %10d\n", digits, float64(b.ValueAt)/scale, q, b.Count)
		}
	}
	buckets, subBuckets := geometry(h)
	fmt.Fprintf(w, "#[Mean    = %12.*f, StdDeviation   = %12.*f]\n", digits, h.Mean()/scale, digits, h.StdDev()/scale)
	fmt.Fprintf(w, "#[Max     = %12.*f, Total count    = %12d]\n", digits, float64(h.Max())/scale, h.TotalCount())
	fmt.Fprintf(w, "#[Buckets = %12d, SubBuckets     = %12d]\n", buckets, subBuckets)
}

// geometry computes h's bucket and sub-bucket counts, which the library
// does not export, from its range and precision the way HdrHistogram does.
func geometry(h *hdrhistogram.Histogram) (buckets, subBuckets int64) {
	largestSingleUnit := 2 * math.Pow10(int(h.SignificantFigures()))
	subBucketCountMagnitude := int(math.Ceil(math.Log2(largestSingleUnit)))
	if subBucketCountMagnitude < 1 {
		subBucketCountMagnitude = 1
	}
	subBuckets = int64(1) << subBucketCountMagnitude
	unitMagnitude := int(math.Floor(math.Log2(float64(max(h.LowestTrackableValue(), 1)))))
	smallestUntrackable := subBuckets << unitMagnitude
	buckets = 1
	for smallestUntrackable <= h.HighestTrackableValue() {
		if smallestUntrackable > math.MaxInt64/2 {
			return buckets + 1, subBuckets
		}
		smallestUntrackable <<= 1
		buckets++
	}
	return buckets, subBuckets
}
