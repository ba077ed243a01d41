package results

import (
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/coldbench/coldbench/drivers"
)

// request makes the exemplar of request i with a latency and a key.
func request(i int, latency time.Duration, key uint64, o drivers.Outcome) Exemplar {
	e := Exemplar{RequestID: "r-" + strconv.Itoa(i), Latency: latency, Service: latency / 2, Offset: time.Duration(i) * time.Millisecond, Outcome: o, Key: key, Sampled: true}
	e.TraceID[0], e.TraceID[15], e.SpanID[7] = byte(i>>8), byte(i), 1
	return e
}

// TestExemplarsMergeExact: splitting requests across any number of parts
// and merging gives the same slowest and random exemplars as offering them
// all to one set: the top k by latency of successful requests, the bottom
// k by key of all.
func TestExemplarsMergeExact(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	all := make([]Exemplar, 1000)
	for i := range all {
		o := drivers.OK
		if i%7 == 0 {
			o = drivers.Timeout // slow failures must not be among the slowest
		}
		all[i] = request(i, time.Duration(rng.IntN(1e9)), rng.Uint64(), o)
	}
	var one Exemplars
	for _, e := range all {
		one.Offer(e)
	}
	// The definition, computed directly.
	ok := slices.DeleteFunc(slices.Clone(all), func(e Exemplar) bool { return e.Outcome != drivers.OK })
	slices.SortFunc(ok, func(a, b Exemplar) int { return int(b.Latency - a.Latency) })
	byKey := slices.Clone(all)
	slices.SortFunc(byKey, func(a, b Exemplar) int {
		if a.Key < b.Key {
			return -1
		}
		return 1
	})
	if !reflect.DeepEqual(one.Slowest, ok[:ExemplarsPerKind]) || !reflect.DeepEqual(one.Random, byKey[:ExemplarsPerKind]) {
		t.Fatalf("one set: slowest %v random %v", one.Slowest, one.Random)
	}
	for _, parts := range []int{2, 3, 10} {
		sets := make([]Exemplars, parts)
		for _, e := range all {
			sets[rng.IntN(parts)].Offer(e) // uneven shares
		}
		var merged Exemplars
		for i := range sets {
			merged.Merge(&sets[i])
		}
		merged.Merge(&sets[0]) // merging a part twice adds nothing
		if !reflect.DeepEqual(merged, one) {
			t.Errorf("%d parts: merged %v, want %v", parts, merged, one)
		}
	}
}

// TestExemplarsMergeUniform: the random exemplars of two parts of very
// different sizes (900 and 100 requests) merge to a uniform sample of the
// union: over 500 trials, 90% of the merged exemplars come from the big
// part (± 3 points; the standard error is 0.6).
func TestExemplarsMergeUniform(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(3, 4))
	fromBig, total := 0, 0
	for range 500 {
		var big, small Exemplars
		for i := range 1000 {
			e := request(i, time.Millisecond, rng.Uint64(), drivers.OK)
			if i < 900 {
				big.Offer(e)
			} else {
				small.Offer(e)
			}
		}
		big.Merge(&small)
		for _, e := range big.Random {
			if int(e.TraceID[0])<<8|int(e.TraceID[15]) < 900 { // the request's index
				fromBig++
			}
			total++
		}
	}
	if share := float64(fromBig) / float64(total); share < 0.87 || share > 0.93 {
		t.Errorf("%.3f of the merged sample from the part holding 90%% of requests", share)
	}
}

// TestExemplarsRecordRoundTrip: exemplars go through Summarize, JSON and
// Run.Tally without loss, and Clone shares no memory.
func TestExemplarsRecordRoundTrip(t *testing.T) {
	t.Parallel()
	tally := fixtureTally()
	p := tally.Phases[0]
	for i := range 20 {
		p.Exemplars[drivers.Cold].Offer(request(i, time.Duration(i)*time.Millisecond+123456, uint64(i*7919%20), drivers.OK))
		p.Exemplars[drivers.Warm].Offer(request(i+100, time.Duration(i)*time.Microsecond, uint64(i), drivers.ServerError))
	}
	r := Summarize(tally, fixtureMeta())
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var back Run
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	rebuilt, err := back.Tally()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(rebuilt.Phases[0].Exemplars, p.Exemplars) {
		t.Errorf("round trip:\n got %+v\nwant %+v", rebuilt.Phases[0].Exemplars, p.Exemplars)
	}
	if w := back.Phases[0].Exemplars.Warm; len(w.Slowest) != 0 || len(w.Random) != 5 {
		t.Errorf("failed requests: %d slowest (want 0: the slowest are successful ones), %d random", len(w.Slowest), len(w.Random))
	}
	c := tally.Clone()
	c.Phases[0].Exemplars[drivers.Cold].Slowest[0].RequestID = "changed"
	if p.Exemplars[drivers.Cold].Slowest[0].RequestID == "changed" {
		t.Error("Clone shares exemplars with the original")
	}
}
