package results

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/coldbench/coldbench/drivers"
)

// benchSamples is a spread of successful warm samples, a few cold and a
// few failed, as the engine records them.
func benchSamples(n int) []Sample {
	rng := rand.New(rand.NewPCG(1, 2))
	out := make([]Sample, n)
	for i := range out {
		s := Sample{
			Temp: drivers.Warm, Source: drivers.SourceInferred, Outcome: drivers.OK,
			Latency: time.Duration(2e5 + rng.ExpFloat64()*1e6), Service: time.Duration(1e5 + rng.ExpFloat64()*1e6),
			Lag: time.Duration(rng.ExpFloat64() * 5e4),
		}
		switch {
		case i%100 == 0:
			s.Temp = drivers.Cold
		case i%97 == 0:
			s.Outcome = drivers.ServerError
		}
		out[i] = s
	}
	return out
}

// BenchmarkPhaseTallyRecord is the cost of recording one finished request
// into a phase: counters and three histograms (latency, service, lag).
func BenchmarkPhaseTallyRecord(b *testing.B) {
	samples := benchSamples(1 << 12)
	p := NewTally([]PhasePlan{{Name: "p"}}).Phases[0]
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		p.Record(samples[i&(len(samples)-1)])
		i++
	}
}

// BenchmarkTimelineAdd is the cost of adding one request to the latency
// over time timeline.
func BenchmarkTimelineAdd(b *testing.B) {
	samples := benchSamples(1 << 12)
	start := time.Now()
	tl := NewTimeline(start)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		// 10 000 requests a second of schedule time.
		tl.Add(start.Add(time.Duration(i)*100*time.Microsecond), samples[i&(len(samples)-1)])
		i++
	}
}

// BenchmarkTallyMerge merges one agent's two-phase tally into another, as
// the controller does for every snapshot.
func BenchmarkTallyMerge(b *testing.B) {
	plans := []PhasePlan{{Name: "a"}, {Name: "b"}}
	src := NewTally(plans)
	start := time.Now()
	src.Timeline = NewTimeline(start)
	for i, s := range benchSamples(20000) {
		src.Phases[i%2].Record(s)
		src.Timeline.Add(start.Add(time.Duration(i)*time.Millisecond), s)
	}
	b.ReportAllocs()
	for b.Loop() {
		dst := NewTally(plans)
		if err := dst.Merge(src); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSummarize is what the run.json journal computes every second:
// the record of a two-phase tally of 20 000 requests, percentiles and
// encoded histograms included.
func BenchmarkSummarize(b *testing.B) {
	plans := []PhasePlan{{Name: "a"}, {Name: "b"}}
	t := NewTally(plans)
	start := time.Now()
	t.Timeline = NewTimeline(start)
	for i, s := range benchSamples(20000) {
		t.Phases[i%2].Record(s)
		t.Timeline.Add(start.Add(time.Duration(i)*time.Millisecond), s)
	}
	b.ReportAllocs()
	for b.Loop() {
		Summarize(t, Meta{Host: Host{Hostname: "bench"}})
	}
}
