package results

import (
	"cmp"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"
)

// recorderEntries spreads benchSamples over two phases, with due times
// 100 µs apart and distinct exemplar keys.
func recorderEntries(start time.Time, n int) []Entry {
	out := make([]Entry, n)
	for i, s := range benchSamples(n) {
		out[i] = Entry{
			Phase: i % 2, Due: start.Add(time.Duration(i) * 100 * time.Microsecond), Sample: s,
			Exemplar: Exemplar{RequestID: fmt.Sprint("r", i), Latency: s.Latency, Service: s.Service, Outcome: s.Outcome, Key: uint64(i*7919) % 10007},
		}
	}
	return out
}

// recordDirect is what the engine did before the recorder: every entry
// applied in place, in order.
func recordDirect(t *Tally, es []Entry) {
	for _, e := range es {
		p := t.Phases[e.Phase]
		p.Record(e.Sample)
		e.Exemplar.Offset = e.Due.Sub(p.Start)
		p.Exemplars[e.Sample.Temp].Offer(e.Exemplar)
		t.Timeline.Add(e.Due, e.Sample)
	}
}

// tallyDiff names the first difference between two tallies, or "".
func tallyDiff(a, b *Tally) string {
	for i := range a.Phases {
		pa, pb := a.Phases[i], b.Phases[i]
		if pa.Sent != pb.Sent || pa.Dropped != pb.Dropped || pa.Outcomes != pb.Outcomes || pa.Temps != pb.Temps || pa.ColdSources != pb.ColdSources {
			return fmt.Sprintf("phase %d counters: %+v vs %+v", i, pa.Outcomes, pb.Outcomes)
		}
		if len(pa.Hists) != len(pb.Hists) {
			return fmt.Sprintf("phase %d: %d vs %d histograms", i, len(pa.Hists), len(pb.Hists))
		}
		for k, h := range pa.Hists {
			if o := pb.Hists[k]; o == nil || !h.Equals(o) {
				return fmt.Sprintf("phase %d histogram %v differs", i, k)
			}
		}
		if !reflect.DeepEqual(pa.Exemplars, pb.Exemplars) {
			return fmt.Sprintf("phase %d exemplars differ", i)
		}
	}
	// Cold points are kept in the order requests finish, which parallel
	// workers do not fix: compare them as a set.
	ta, tb := *a.Timeline, *b.Timeline
	ta.Colds, tb.Colds = sortedColds(ta.Colds), sortedColds(tb.Colds)
	if !reflect.DeepEqual(ta, tb) {
		return "timelines differ"
	}
	return ""
}

func sortedColds(c []ColdPoint) []ColdPoint {
	c = slices.Clone(c)
	slices.SortFunc(c, func(x, y ColdPoint) int { return cmp.Compare(x.At, y.At) })
	return c
}

// TestRecorderExact: entries added from many goroutines while snapshots
// are taken end in the same tally as recording them one by one in place,
// and every snapshot is a consistent prefix (its counters and histograms
// agree).
func TestRecorderExact(t *testing.T) {
	t.Parallel()
	start := time.Now()
	plans := []PhasePlan{{Name: "a"}, {Name: "b"}}
	entries := recorderEntries(start, 20000)

	want := NewTally(plans)
	want.Timeline = NewTimeline(start)
	for _, p := range want.Phases {
		p.Start = start
	}
	recordDirect(want, entries)
	want.Phases[1].Dropped = 3

	r := NewRecorder(NewTally(plans))
	r.Start()
	r.Do(func(t *Tally) {
		t.Timeline = NewTimeline(start)
		for _, p := range t.Phases {
			p.Start = start
		}
	})
	const workers = 8
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(entries); i += workers {
				r.Add(entries[i])
			}
		})
	}
	for range 3 {
		r.Drop(1)
	}
	snaps := 0
	for done := false; !done; snaps++ {
		s := r.Snapshot()
		var n int64
		for _, p := range s.Phases {
			var h int64
			for k, x := range p.Hists {
				if k.Kind == Latency {
					h += x.TotalCount()
				}
			}
			if h != p.Sent {
				t.Fatalf("snapshot %d phase %s: %d sent, %d in latency histograms", snaps, p.Name, p.Sent, h)
			}
			n += p.Sent
		}
		done = n == int64(len(entries))
		if snaps > 10000 {
			t.Fatal("recorder never applied every entry")
		}
	}
	wg.Wait()
	got := r.Close()
	if d := tallyDiff(got, want); d != "" {
		t.Fatal(d)
	}
}

// TestRecorderCloseApplies: entries added with no goroutine running and
// no snapshot are in the tally Close returns.
func TestRecorderCloseApplies(t *testing.T) {
	t.Parallel()
	start := time.Now()
	r := NewRecorder(NewTally([]PhasePlan{{Name: "a"}, {Name: "b"}}))
	r.Do(func(t *Tally) { t.Timeline = NewTimeline(start) })
	for _, e := range recorderEntries(start, 10) {
		r.Add(e)
	}
	if got := r.Close(); got.Phases[0].Sent+got.Phases[1].Sent != 10 {
		t.Fatalf("%d + %d recorded, want 10", got.Phases[0].Sent, got.Phases[1].Sent)
	}
}

// BenchmarkRecorderAdd is the whole cost of recording one finished
// request through the recorder: the append on the request path plus its
// share of applying a batch (counters, histograms, exemplar, timeline),
// which the recorder's goroutine does off that path.
func BenchmarkRecorderAdd(b *testing.B) {
	start := time.Now()
	entries := recorderEntries(start, 1<<12)
	r := NewRecorder(NewTally([]PhasePlan{{Name: "a"}, {Name: "b"}}))
	r.Do(func(t *Tally) { t.Timeline = NewTimeline(start) })
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		r.Add(entries[i&(len(entries)-1)])
		if i++; i%recorderBatch == 0 {
			r.Do(func(*Tally) {})
		}
	}
}

// BenchmarkRecorderSnapshot is the cost of a snapshot of a two-phase
// tally; the request path does not wait for it.
func BenchmarkRecorderSnapshot(b *testing.B) {
	start := time.Now()
	r := NewRecorder(NewTally([]PhasePlan{{Name: "a"}, {Name: "b"}}))
	r.Do(func(t *Tally) { t.Timeline = NewTimeline(start) })
	for _, e := range recorderEntries(start, 20000) {
		r.Add(e)
	}
	b.ReportAllocs()
	for b.Loop() {
		r.Snapshot()
	}
}
