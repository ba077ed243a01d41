package engine

import (
	"slices"
	"testing"
	"time"

	"github.com/coldbench/coldbench/drivers"
	"github.com/coldbench/coldbench/results"
)

// req is one synthetic request for the inferrer: when it starts (from t0),
// how long it takes, and whether it was really cold.
type req struct {
	at, dur time.Duration
	lag     time.Duration
	bytes   int64
	cold    bool
}

// replay feeds reqs to an inferrer in time order, starts and ends
// interleaved as they would happen, and returns each request's label.
func replay(t *testing.T, reqs []req) ([]drivers.Temperature, results.Inference) {
	t.Helper()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	type event struct {
		at    time.Duration
		i     int
		start bool
	}
	var evs []event
	for i, r := range reqs {
		evs = append(evs, event{r.at, i, true}, event{r.at + r.dur, i, false})
	}
	slices.SortStableFunc(evs, func(a, b event) int {
		if a.at != b.at {
			return int(a.at - b.at)
		}
		if a.start != b.start { // ends first at the same instant
			if a.start {
				return 1
			}
			return -1
		}
		return a.i - b.i
	})
	var f inferrer
	labels := make([]drivers.Temperature, len(reqs))
	set := make([]bool, len(reqs))
	starts := make([]startInfo, len(reqs))
	var ev results.Inference
	take := func(hs []held) {
		for _, h := range hs {
			i := int(h.a.seq)
			labels[i], set[i] = h.s.Temp, true
			ev.Add(h.ev)
		}
	}
	for _, e := range evs {
		now := t0.Add(e.at)
		if e.start {
			starts[e.i] = f.begin(now)
			continue
		}
		r := reqs[e.i]
		c := drivers.Call{BytesIn: r.bytes}
		s := results.Sample{Outcome: drivers.OK, Service: r.dur, Lag: max(r.lag, 1)}
		hs, done := f.finish(arrival{seq: uint64(e.i), ev: starts[e.i]}, &c, &s, r.dur, now, true, nil)
		if done {
			labels[e.i], set[e.i] = s.Temp, true
		}
		take(hs)
	}
	take(f.settle(t0.Add(time.Hour), true, nil))
	for i := range set {
		if !set[i] {
			t.Fatalf("request %d never labelled", i)
		}
	}
	return labels, ev
}

// steady is n requests every gap from at, each taking dur.
func steady(at, gap time.Duration, n int, dur time.Duration) []req {
	out := make([]req, n)
	for i := range out {
		out[i] = req{at: at + time.Duration(i)*gap, dur: dur + time.Duration(i%7)*100*time.Microsecond, bytes: 100}
	}
	return out
}

func TestInferrer(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		name string
		reqs []req
		// maxUnknown bounds the unknown labels; colds must match truth.
		maxUnknown int
	}{
		// Warm traffic only, with ordinary jitter: nothing cold.
		{"warm only", steady(0, 10*ms, 300, 5*ms), 1},
		// A burst of 5 on a fresh target, then warm traffic on the same
		// instances: the 5 are cold, though there is no warm request
		// before them.
		{"fresh burst", append(burst(0, 5, 250*ms), steady(260*ms, 20*ms, 50, 20*ms)...), 0},
		// Warm traffic, then every request in flight stalls until a
		// common instant, with in-flight far above the high-water mark:
		// a target-wide slowdown, not cold starts.
		{"stall", stall(), 300},
		// Scale-out on a serving target: two at once where one was in
		// flight at most; the new instance is slow while the warm one and
		// the traffic after go on fast.
		{"scale-out", append(steady(0, 10*ms, 200, 5*ms), req{at: 1005 * ms, dur: 250 * ms, bytes: 100, cold: true},
			req{at: 1005 * ms, dur: 5 * ms, bytes: 100}), 0},
		// Traffic three at a time, then one at a time for 2 s (the
		// platform reaps two instances), then three again: two cold
		// starts without an idle gap, below the first high-water mark.
		{"reaped while busy", reaped(), 0},
		// Cold after an idle gap: the first request after 2 s of nothing.
		{"idle gap", append(steady(0, 20*ms, 50, 5*ms), append([]req{{at: 3 * time.Second, dur: 300 * ms, bytes: 100, cold: true}},
			steady(3*time.Second+10*ms, 20*ms, 50, 5*ms)...)...), 0},
		// A fast group of tiny 200 answers mixed with 25 ms successes; a
		// scale-out request at warm speed must stay warm.
		{"fast group", fastGroup(), 0},
		// A slow scale-out request while the generator lagged as much:
		// the host, not a new instance.
		{"generator lag", lagged(), 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			labels, ev := replay(t, tt.reqs)
			unknown := 0
			for i, r := range tt.reqs {
				switch {
				case labels[i] == drivers.Unknown:
					unknown++
					if r.cold {
						t.Errorf("request %d (at %v, %v) is cold, labelled unknown", i, r.at, r.dur)
					}
				case (labels[i] == drivers.Cold) != r.cold:
					t.Errorf("request %d (at %v, %v): labelled %v, truth cold=%v", i, r.at, r.dur, labels[i], r.cold)
				}
			}
			if unknown > tt.maxUnknown {
				t.Errorf("%d unknown, want at most %d (evidence %+v)", unknown, tt.maxUnknown, ev)
			}
		})
	}
}

func burst(at time.Duration, n int, dur time.Duration) []req {
	out := make([]req, n)
	for i := range out {
		out[i] = req{at: at, dur: dur, bytes: 100, cold: true}
	}
	return out
}

// stall is warm traffic at 300/s in which, from 1 s to 2 s, every request
// waits until 2 s.
func stall() []req {
	out := steady(0, 3333*time.Microsecond, 900, 2*time.Millisecond)
	for i := range out {
		if r := &out[i]; r.at >= time.Second && r.at < 2*time.Second {
			r.dur = 2*time.Second - r.at
		}
	}
	return out
}

func fastGroup() []req {
	ms := time.Millisecond
	var out []req
	for i := range 200 {
		r := req{at: time.Duration(i) * 10 * ms, dur: 25 * ms, bytes: 2000}
		if i%3 == 0 {
			r.dur, r.bytes = 3*ms, 20
		}
		out = append(out, r)
	}
	// Requests overlapping at 1 s: in flight above anything before.
	for range 4 {
		out = append(out, req{at: time.Second + ms, dur: 26 * ms, bytes: 2000})
	}
	return out
}

func reaped() []req {
	ms := time.Millisecond
	var out []req
	for i := range 100 {
		for range 3 {
			out = append(out, req{at: time.Duration(i) * 10 * ms, dur: 5 * ms, bytes: 100})
		}
	}
	out = append(out, steady(time.Second, 10*ms, 200, 5*ms)...)
	out = append(out, req{at: 3005 * ms, dur: 5 * ms, bytes: 100},
		req{at: 3005 * ms, dur: 200 * ms, bytes: 100, cold: true}, req{at: 3005 * ms, dur: 210 * ms, bytes: 100, cold: true})
	return append(out, steady(3010*ms, 10*ms, 100, 5*ms)...)
}

func lagged() []req {
	ms := time.Millisecond
	out := steady(0, 10*ms, 200, 5*ms)
	for range 3 {
		out = append(out, req{at: time.Second + ms, dur: 60 * ms, lag: 50 * ms, bytes: 100})
	}
	return out
}
