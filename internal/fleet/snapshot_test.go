package fleet

import (
	"encoding/binary"
	"fmt"
	"maps"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"github.com/coldbench/coldbench/drivers"
	"github.com/coldbench/coldbench/internal/engine"
	pb "github.com/coldbench/coldbench/proto/coldbench/v1"
	"github.com/coldbench/coldbench/results"
)

// sampleTally is a two-phase tally with cold and warm successes, a few
// errors of two kinds, network timings and a timeline.
func sampleTally(start time.Time, n int) *results.Tally {
	t := results.NewTally([]results.PhasePlan{{Name: "a", Duration: time.Second}, {Name: "b", Duration: time.Second}})
	t.Timeline = results.NewTimeline(start)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range n {
		p := t.Phases[i%2]
		s := results.Sample{
			Temp: drivers.Warm, Source: drivers.SourcePlatform, Outcome: drivers.OK,
			Latency: time.Duration(1e6 + rng.ExpFloat64()*5e6), Service: time.Duration(1e6 + rng.ExpFloat64()*4e6),
			Net: drivers.NetTimings{Connect: time.Millisecond, FirstByte: 2 * time.Millisecond, NewConn: i%10 == 0},
		}
		switch {
		case i%50 == 0:
			s.Temp, s.Latency = drivers.Cold, s.Latency+250*time.Millisecond
		case i%97 == 0:
			s.Outcome, s.Code = drivers.ServerError, []string{"503", "UNAVAILABLE"}[i%2]
		case i%89 == 0:
			s.Outcome = drivers.Timeout
		}
		p.Record(s)
		t.Timeline.Add(start.Add(time.Duration(i)*time.Millisecond), s)
	}
	for _, p := range t.Phases {
		p.Start, p.End = start, start.Add(time.Second)
	}
	return t
}

// TestSnapshotRoundTrip: what an agent sends decodes to its tally, times
// moved to the controller's clock.
func TestSnapshotRoundTrip(t *testing.T) {
	t.Parallel()
	start := time.Unix(1700000000, 0)
	in := sampleTally(start, 5000)
	in.Phases[1].Inference = results.Inference{Candidates: 9, Cold: 3, NotSlow: 4, TargetWide: 2, Compared: 9, BaselineUs: 36000, ThresholdUs: 216000}
	snap, err := encodeSnapshot(in, engine.Progress{Sent: 5000}, start, newDeltaCache())
	if err != nil {
		t.Fatal(err)
	}
	const offset = 1500 * time.Millisecond
	// The agent's clock runs offset ahead: shift what it sends.
	for _, p := range snap.Phases {
		p.StartUnixNanos += int64(offset)
		p.EndUnixNanos += int64(offset)
	}
	snap.Timeline.StartUnixNanos += int64(offset)
	plans := []results.PhasePlan{{Name: "a", Duration: time.Second}, {Name: "b", Duration: time.Second}}
	out, err := decodeSnapshot(snap, plans, offset, decodeCache{})
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range in.Phases {
		q := out.Phases[i]
		if !q.Start.Equal(p.Start) || !q.End.Equal(p.End) {
			t.Errorf("phase %s: %v–%v, want %v–%v", p.Name, q.Start, q.End, p.Start, p.End)
		}
		if q.Sent != p.Sent || q.Outcomes != p.Outcomes || q.Temps != p.Temps || q.ColdSources != p.ColdSources || q.Net.NewConns != p.Net.NewConns ||
			q.Inference != p.Inference {
			t.Errorf("phase %s: counters differ", p.Name)
		}
		if len(p.Codes) == 0 || !maps.Equal(q.Codes, p.Codes) {
			t.Errorf("phase %s: error codes %v, want %v", p.Name, q.Codes, p.Codes)
		}
		if len(q.Hists) != len(p.Hists) {
			t.Fatalf("phase %s: %d histograms, want %d", p.Name, len(q.Hists), len(p.Hists))
		}
		for k, h := range p.Hists {
			if !q.Hists[k].Equals(h) {
				t.Errorf("phase %s: histogram %v differs", p.Name, k)
			}
		}
	}
	if !out.Timeline.Start.Equal(start) || len(out.Timeline.Buckets) != len(in.Timeline.Buckets) || len(out.Timeline.Colds) != len(in.Timeline.Colds) {
		t.Fatalf("timeline differs")
	}
	for i, b := range in.Timeline.Buckets {
		o := out.Timeline.Buckets[i]
		if o.Sent != b.Sent || o.OK != b.OK || o.Cold != b.Cold || o.Bins != b.Bins {
			t.Errorf("timeline bucket %d differs", i)
		}
	}
	if _, err := decodeSnapshot(snap, plans[:1], 0, nil); err == nil {
		t.Error("a snapshot of another plan decoded")
	}
}

// TestSnapshotDeltasExact: an agent's tally grows between snapshots;
// they go as deltas, some are not queued (a full outbox) and so not
// committed, and the controller, adding up the ones it receives, holds
// exactly the agent's histograms after each.
func TestSnapshotDeltasExact(t *testing.T) {
	t.Parallel()
	start := time.Unix(1700000000, 0)
	plans := []results.PhasePlan{{Name: "a", Duration: time.Second}, {Name: "b", Duration: time.Second}}
	agent := results.NewTally(plans)
	enc, dec := newDeltaCache(), decodeCache{}
	for step := range 6 {
		// The agent records a sixth more, in the second phase only from
		// step 3 on: the first then repeats unchanged.
		part := sampleTally(start.Add(time.Duration(step)*time.Second), 2000)
		if step >= 3 {
			part.Phases[0] = results.NewTally(plans[:1]).Phases[0]
		}
		if err := agent.Merge(part); err != nil {
			t.Fatal(err)
		}
		snap, err := encodeSnapshot(agent.Clone(), engine.Progress{}, start, enc)
		if err != nil {
			t.Fatal(err)
		}
		if step == 1 || step == 4 {
			continue // not queued: neither committed nor received
		}
		enc.commit()
		got, err := decodeSnapshot(snap, plans, 0, dec)
		if err != nil {
			t.Fatalf("step %d: %v", step, err)
		}
		for i, p := range agent.Phases {
			q := got.Phases[i]
			if len(q.Hists) != len(p.Hists) {
				t.Fatalf("step %d phase %s: %d histograms, want %d", step, p.Name, len(q.Hists), len(p.Hists))
			}
			for k, h := range p.Hists {
				if !q.Hists[k].Equals(h) {
					t.Fatalf("step %d phase %s: histogram %v differs", step, p.Name, k)
				}
			}
		}
		// A phase that did not change since the last committed
		// snapshot costs no counts (step 3 follows a dropped snapshot
		// that would have carried its last change).
		if step == 5 {
			for _, h := range snap.Phases[0].Histograms {
				if !h.Delta || len(h.Added) != 0 || len(h.Hdr) != 0 {
					t.Errorf("step %d: unchanged histogram %d/%d/%d sent with %d bytes", step, h.Temp, h.Outcome, h.Kind, len(h.Added)+len(h.Hdr))
				}
			}
		}
	}
}

// TestSnapshotDeltaRejected: deltas that do not fit the histogram, or that
// come outside a stream, are refused with an error.
func TestSnapshotDeltaRejected(t *testing.T) {
	t.Parallel()
	plans := []results.PhasePlan{{Name: "a", Duration: time.Second}}
	mk := func(added []byte) *pb.Snapshot {
		return &pb.Snapshot{Phases: []*pb.PhaseSnapshot{{Name: "a", Histograms: []*pb.Histogram{
			{Temp: uint32(drivers.Warm), Outcome: uint32(drivers.OK), Kind: uint32(results.Latency), Delta: true, Added: added},
		}}}}
	}
	tests := []struct {
		name  string
		added []byte
		cache decodeCache
	}{
		{"no stream", []byte{1, 1}, nil},                                        // a delta needs the stream's state
		{"index past the end", binary.AppendUvarint(nil, 1<<30), decodeCache{}}, // beyond the counts
		{"zero count", []byte{1, 0}, decodeCache{}},                             // a pair adds something
		{"truncated", []byte{1}, decodeCache{}},                                 // a gap without its count
	}
	for _, tc := range tests {
		if _, err := decodeSnapshot(mk(tc.added), plans, 0, tc.cache); err == nil {
			t.Errorf("%s: decoded", tc.name)
		}
	}
}

// BenchmarkSnapshot measures an agent's snapshot: copying its tally out of
// the engine and encoding it, and its size, with 2 000 requests recorded
// since the last one (the merge that adds them is in the loop too). whole
// is every histogram whole (results.EncodeHistogram), as without a
// stream's state; delta is a stream's steady state.
func BenchmarkSnapshot(b *testing.B) {
	in := sampleTally(time.Now(), 20000)
	more := sampleTally(time.Now(), 2000)
	for _, mode := range []string{"whole", "delta"} {
		b.Run(mode, func(b *testing.B) {
			var cache *deltaCache
			if mode == "delta" {
				cache = newDeltaCache()
			}
			var size int
			b.ReportAllocs()
			for b.Loop() {
				if err := in.Merge(more); err != nil {
					b.Fatal(err)
				}
				snap, err := encodeSnapshot(in.Clone(), engine.Progress{}, time.Now(), cache)
				if err != nil {
					b.Fatal(err)
				}
				if cache != nil {
					cache.commit()
				}
				size = protoSize(snap)
			}
			b.ReportMetric(float64(size), "bytes/snapshot")
		})
	}
}

// BenchmarkControllerMemory measures what the controller keeps per agent:
// the tally decoded from its last snapshot (here two phases of a dozen
// histograms), and the cost of merging all of them into the run's view.
// Run with -bench ControllerMemory -benchtime 1x.
func BenchmarkControllerMemory(b *testing.B) {
	snap, err := encodeSnapshot(sampleTally(time.Now(), 20000), engine.Progress{}, time.Now(), nil)
	if err != nil {
		b.Fatal(err)
	}
	s := mustParse(&testing.T{}, "name: m\ntarget: {driver: sim}\nphases:\n  - {name: a, duration: 1s, rate: 10}\n  - {name: b, duration: 1s, rate: 10}\n")
	for _, n := range []int{1, 10, 50, 100} {
		b.Run(fmt.Sprintf("agents=%d", n), func(b *testing.B) {
			for b.Loop() {
				eps := make([]*Endpoint, n)
				for i := range eps {
					eps[i] = &Endpoint{Name: fmt.Sprint(i)}
				}
				ctl, err := New(Config{Scenario: s, Agents: eps})
				if err != nil {
					b.Fatal(err)
				}
				var before, after runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&before)
				for _, c := range ctl.conns {
					if c.tally, err = decodeSnapshot(snap, ctl.tallyPhases(), 0, decodeCache{}); err != nil {
						b.Fatal(err)
					}
				}
				runtime.GC()
				runtime.ReadMemStats(&after)
				start := time.Now()
				ctl.Snapshot()
				b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/float64(n), "heap-bytes/agent")
				b.ReportMetric(float64(time.Since(start).Microseconds())/1000, "merge-ms")
				b.ReportMetric(float64(protoSize(snap)), "snapshot-bytes")
			}
		})
	}
}

// BenchmarkSnapshotDecodeMerge is the controller's side of a snapshot:
// decoding an agent's snapshot into a tally (no cache: every histogram
// changed) and merging it into the run's view.
func BenchmarkSnapshotDecodeMerge(b *testing.B) {
	in := sampleTally(time.Now(), 20000)
	snap, err := encodeSnapshot(in, engine.Progress{}, time.Now(), nil)
	if err != nil {
		b.Fatal(err)
	}
	plans := make([]results.PhasePlan, len(in.Phases))
	for i, p := range in.Phases {
		plans[i] = p.PhasePlan
	}
	b.ReportAllocs()
	for b.Loop() {
		t, err := decodeSnapshot(snap, plans, 0, nil)
		if err != nil {
			b.Fatal(err)
		}
		view := results.NewTally(plans)
		if err := view.Merge(t); err != nil {
			b.Fatal(err)
		}
	}
}
