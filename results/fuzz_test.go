package results

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/coldbench/coldbench/drivers"
)

// FuzzDecodeHistogram: a stored histogram string (run.json's "histogram"
// fields) either fails to decode with an error or decodes to a histogram of
// coldbench's geometry that survives a round trip through run.json's
// encoding and through histograms.hlog unchanged. Seeds: encodings of a
// few histograms here, and testdata/fuzz/FuzzDecodeHistogram.
func FuzzDecodeHistogram(f *testing.F) {
	for _, values := range [][]int64{{1}, {1, 2, 3, 1000, 5e6}, {histHighest}} {
		h := NewHistogram()
		for _, v := range values {
			h.RecordValue(v)
		}
		s, err := encodeHist(h)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(s)
	}
	// Another geometry: decodes, and merges only if its values fit.
	other := hdrhistogram.New(1, 1e12, 2)
	other.RecordValue(1e11)
	b, _ := other.Encode(hdrhistogram.V2CompressedEncodingCookieBase)
	f.Add(string(b))
	f.Add("")
	f.Add("HISTFAAAAB14nJNpmSzMwMDAxQABzFCaEUzOmNZg")

	f.Fuzz(func(t *testing.T, s string) {
		h, err := decodeHist(s)
		if err != nil {
			if h != nil {
				t.Fatal("a histogram and an error")
			}
			return
		}
		if h.LowestTrackableValue() != histLowest || h.HighestTrackableValue() != histHighest || h.SignificantFigures() != histSigFigs {
			t.Fatalf("decoded to another geometry: %d..%d at %d", h.LowestTrackableValue(), h.HighestTrackableValue(), h.SignificantFigures())
		}
		enc, err := encodeHist(h)
		if err != nil {
			t.Fatalf("a decoded histogram does not encode: %v", err)
		}
		again, err := decodeHist(enc)
		if err != nil {
			t.Fatalf("re-encoded histogram does not decode: %v", err)
		}
		if !sameCounts(h, again) {
			t.Fatal("round trip through run.json changed the histogram")
		}
		if h.TotalCount() == 0 {
			return
		}
		// Through histograms.hlog, read back as other tools read it.
		tally := NewTally([]PhasePlan{{Name: "p"}})
		p := tally.Phases[0]
		p.Start, p.End = time.Unix(1000, 0), time.Unix(1010, 0)
		p.Hists[HistKey{drivers.Warm, drivers.OK, Latency}] = h
		var buf bytes.Buffer
		if err := writeHistogramLog(&buf, tally, time.Unix(1010, 0)); err != nil {
			t.Fatalf("write hlog: %v", err)
		}
		got, err := hdrhistogram.NewHistogramLogReader(&buf).NextIntervalHistogram()
		if err != nil || got == nil {
			t.Fatalf("read hlog back: %v", err)
		}
		if !sameCounts(h, got) {
			t.Fatal("round trip through histograms.hlog changed the histogram")
		}
	})
}

// sameCounts compares the recorded values, not the tags or times.
func sameCounts(a, b *hdrhistogram.Histogram) bool {
	if a.TotalCount() != b.TotalCount() || a.Min() != b.Min() || a.Max() != b.Max() {
		return false
	}
	for _, q := range []float64{1, 50, 90, 99, 99.9, 100} {
		if a.ValueAtQuantile(q) != b.ValueAtQuantile(q) {
			return false
		}
	}
	return true
}

// FuzzRunRecord: run.json as Load parses it, rebuilt into a tally
// (Run.Tally, what compare and report do with a stored run). Whatever the
// bytes, this errors or yields a tally that summarizes and merges without
// a panic. Seeds: the runs under testdata/ and testdata/fuzz/FuzzRunRecord.
func FuzzRunRecord(f *testing.F) {
	paths, _ := filepath.Glob("testdata/*/run.json")
	more, _ := filepath.Glob("testdata/*.json")
	for _, p := range append(paths, more...) {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	// A real record: a tally of every outcome and temperature, summarized.
	tally := NewTally([]PhasePlan{{Name: "warm-up", Duration: time.Second, Planned: 10, Rate: 10}, {Name: "steady", Duration: time.Second, Planned: -1}})
	start := time.Unix(1e9, 0)
	tally.Timeline = NewTimeline(start)
	for i := range 50 {
		s := Sample{Temp: drivers.Temperature(i % 3), Outcome: drivers.Outcome(i % drivers.NumOutcomes),
			Latency: time.Duration(i) * time.Millisecond, Service: time.Duration(i) * time.Microsecond}
		tally.Phases[i%2].Start = start
		tally.Phases[i%2].Record(s)
		tally.Timeline.Add(start.Add(time.Duration(i)*100*time.Millisecond), s)
	}
	b, err := json.Marshal(Summarize(tally, Meta{Host: Host{Hostname: "seed"}}))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte(`{"schema":"coldbench.run/v1","phases":[{"name":"a","ok":1,"errors":{"5xx":2}}],"timeline":{"start":"2026-01-01T00:00:00Z","step_ns":1000000000,"buckets":[{"sent":1,"ok":1,"bins":[1]}]}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var r Run
		if json.Unmarshal(data, &r) != nil {
			return
		}
		tally, err := r.Tally()
		if err != nil {
			return
		}
		Summarize(tally, Meta{Host: Host{Hostname: "fuzz"}})
		merged := NewTally(tallyPlans(tally))
		if err := merged.Merge(tally); err != nil {
			t.Fatalf("a rebuilt tally does not merge into an empty one of its plan: %v", err)
		}
		if err := merged.Merge(tally); err != nil {
			t.Fatalf("a rebuilt tally does not merge twice: %v", err)
		}
	})
}

func tallyPlans(t *Tally) []PhasePlan {
	plans := make([]PhasePlan, len(t.Phases))
	for i, p := range t.Phases {
		plans[i] = p.PhasePlan
	}
	return plans
}
