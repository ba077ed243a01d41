package scenarios

import (
	"fmt"
	"math"
	"slices"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

const sec = time.Second

// counter is what the tests need of a schedule besides Schedule.
type counter interface {
	Schedule
	Planned() int64
}

func mustRate(t testing.TB, s string) Rate {
	t.Helper()
	r, err := ParseRate(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestPlannedCounts checks that each schedule plans an exact number of
// arrivals, and that At yields exactly that many.
func TestPlannedCounts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		s    counter
		want int64
	}{
		{"constant 500/s for 10s", NewRatePacer(500, 10*sec), 5000},
		{"constant 3/s for 10s: no float drift at the end", NewRatePacer(3, 10*sec), 30},
		{"constant 6000/m for 1s", NewRatePacer(mustRate(t, "6000/m"), sec), 100},
		{"constant 1/m for 150s: at 0, 60 and 120s", NewRatePacer(mustRate(t, "1/m"), 150*sec), 3},
		{"constant 1/m for 120s: 120s is the end, not in it", NewRatePacer(mustRate(t, "1/m"), 120*sec), 2},
		{"constant 2.5/s for 2s", NewRatePacer(2.5, 2*sec), 5},
		{"constant 0.3/s for 10s", NewRatePacer(0.3, 10*sec), 3},
		{"constant 7/s for 1.5s: ceil(10.5)", NewRatePacer(7, 1500*time.Millisecond), 11},
		{"ramp 0→100 over 10s: vegeta's hits(10s) = 500", NewRampPacer(0, 100, 10*sec), 500},
		{"ramp 10→150 over 12s", NewRampPacer(10, 150, 12*sec), 960},
		{"ramp down 100→0 over 10s", NewRampPacer(100, 0, 10*sec), 500},
		{"ramp 1→2 over 3s: hits 4.5, arrivals 0…4", NewRampPacer(1, 2, 3*sec), 5},
		{"steps 10/s for 1s then 20/s for 2s", NewStepPacer([]Step{{10, Duration(sec)}, {20, Duration(2 * sec)}}), 50},
		{"steps 3/s for 1s then 0.5/s for 3s", NewStepPacer([]Step{{3, Duration(sec)}, {0.5, Duration(3 * sec)}}), 5},
		{"burst 20 at once", NewBurstPacer(20, 0, sec), 20},
		{"burst 7 within 1s", NewBurstPacer(7, sec, 2*sec), 7},
		{"idle", IdlePacer{Duration: 5 * sec}, 0},
		{"poisson: random", NewPoissonPacer(10, sec, 1), -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.s.Planned(); got != tt.want {
				t.Errorf("Planned() = %d, want %d", got, tt.want)
			}
			if tt.want < 0 {
				return
			}
			var n uint64
			for ; ; n++ {
				if _, ok := tt.s.At(n); !ok {
					break
				}
			}
			if int64(n) != tt.want {
				t.Errorf("At yields %d arrivals, want %d", n, tt.want)
			}
		})
	}
}

// schedules returns one of each kind, fresh, for the property tests.
func schedules() map[string]counter {
	return map[string]counter{
		"rate":    NewRatePacer(37, 2*sec),
		"ramp":    NewRampPacer(0, 80, 2*sec),
		"rampdn":  NewRampPacer(50, 5, 2*sec),
		"steps":   NewStepPacer([]Step{{20, Duration(sec)}, {60, Duration(sec)}}),
		"burst":   NewBurstPacer(25, 700*time.Millisecond, 2*sec),
		"burst0":  NewBurstPacer(10, 0, sec),
		"idle":    IdlePacer{Duration: sec},
		"poisson": NewPoissonPacer(40, 2*sec, 42),
	}
}

// TestPaceAgreesWithAt checks the schedule contract: Pace waits until
// At(hits), sends at once when behind, stops when At is false or the phase
// is over; and At never goes back in time.
func TestPaceAgreesWithAt(t *testing.T) {
	t.Parallel()
	for name, s := range schedules() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dur := 2 * sec
			if name == "idle" || name == "burst0" {
				dur = sec
			}
			var prev time.Duration
			pacer := Pacer(s, dur)
			for n := uint64(0); n < 400; n++ {
				at, ok := s.At(n)
				if ok && at < prev {
					t.Fatalf("At(%d) = %v, before At(%d) = %v", n, at, n-1, prev)
				}
				if ok && (at < 0 || at >= dur) {
					t.Fatalf("At(%d) = %v, outside the phase", n, at)
				}
				prev = at
				for _, elapsed := range []time.Duration{0, at - time.Millisecond, at - 1, at, at + 1, at + 250*time.Millisecond, dur - 1, dur, dur + sec} {
					if elapsed < 0 {
						continue
					}
					wait, stop := pacer.Pace(elapsed, n)
					wantStop := !ok || elapsed >= dur
					var wantWait time.Duration
					if !wantStop && at > elapsed {
						wantWait = at - elapsed
					}
					if stop != wantStop || wait != wantWait {
						t.Fatalf("Pace(%v, %d) = %v, %v; At(%d) = %v, %v: want %v, %v", elapsed, n, wait, stop, n, at, ok, wantWait, wantStop)
					}
				}
			}
		})
	}
}

// vegetaHits is vegeta's LinearPacer.hits, copied from lib/pacer.go.
func vegetaHits(p vegeta.LinearPacer, t time.Duration) float64 {
	if t < 0 {
		return 0
	}
	a := p.Slope
	b := float64(p.StartAt.Freq) / float64(p.StartAt.Per) * 1e9
	x := t.Seconds()
	return (a*math.Pow(x, 2))/2 + b*x
}

// TestRampMatchesVegeta checks that ramp arrival k is due at the first
// nanosecond at which vegeta's LinearPacer has counted k hits. vegeta's own
// Pace is the oracle for "counted k by t": with k−1 hits sent it says "send
// now" (wait 0) exactly when floor(hits(t)) > k−1.
func TestRampMatchesVegeta(t *testing.T) {
	t.Parallel()
	tests := []struct {
		from, to Rate
		d        time.Duration
	}{
		{1, 100, 10 * sec},
		{10, 150, 12 * sec},
		{100, 5, 10 * sec},
		{mustRate(t, "90/m"), mustRate(t, "7/s"), 40 * sec},
		{1000, 2000, 3 * sec},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%v→%v/%v", tt.from, tt.to, tt.d), func(t *testing.T) {
			t.Parallel()
			p := NewRampPacer(tt.from, tt.to, tt.d)
			lp := vegeta.LinearPacer{StartAt: tt.from.pacer(), Slope: float64(tt.to-tt.from) / tt.d.Seconds()}
			for k := uint64(2); k < uint64(p.Planned()); k++ {
				at, ok := p.At(k)
				if !ok {
					t.Fatalf("At(%d) = false before Planned() = %d", k, p.Planned())
				}
				if wait, _ := lp.Pace(at, k-1); wait != 0 {
					t.Fatalf("At(%d) = %v, but vegeta has not counted %d hits by then (wait %v)", k, at, k, wait)
				}
				if h := vegetaHits(lp, at-1); h >= float64(k) {
					t.Fatalf("At(%d) = %v, but vegeta counted %g hits a nanosecond earlier", k, at, h)
				}
			}
			if _, ok := p.At(uint64(p.Planned())); ok {
				t.Errorf("At(Planned()) is true")
			}
			if last := vegetaHits(lp, tt.d-1); uint64(p.Planned()) != uint64(last)+1 {
				t.Errorf("Planned() = %d, vegeta counts %g hits before the end", p.Planned(), last)
			}
		})
	}
}

// TestShares checks that splitting a phase across parts loses and adds
// nothing: the parts' counts sum to the whole's, and for deterministic
// shapes the union of their arrival times is exactly the whole's.
func TestShares(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		make      func(sh share) counter
		parts     int
		wantParts []int64 // nil: only check the sum
	}{
		{"burst 20 over 3: the first 20%3 parts get one more", func(sh share) counter { return newBurstPacer(20, sec, 2*sec, sh) }, 3, []int64{7, 7, 6}},
		{"burst 2 over 3", func(sh share) counter { return newBurstPacer(2, 0, sec, sh) }, 3, []int64{1, 1, 0}},
		{"constant 500/s × 10s over 3", func(sh share) counter { return newRatePacer(500, 10*sec, sh) }, 3, []int64{1667, 1667, 1666}},
		{"constant 100/s × 1s over 7", func(sh share) counter { return newRatePacer(100, sec, sh) }, 7, nil},
		{"ramp 0→100 × 10s over 3", func(sh share) counter { return newRampPacer(0, 100, 10*sec, sh) }, 3, nil},
		{"steps over 4", func(sh share) counter {
			return newStepPacer([]Step{{13, Duration(sec)}, {29, Duration(2 * sec)}}, sh)
		}, 4, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			all := tt.make(whole)
			var want []time.Duration
			for n := uint64(0); ; n++ {
				at, ok := all.At(n)
				if !ok {
					break
				}
				want = append(want, at)
			}
			var got []time.Duration
			var sum int64
			var rates float64
			for i := range tt.parts {
				p := tt.make(share{uint64(i), uint64(tt.parts)})
				if tt.wantParts != nil && p.Planned() != tt.wantParts[i] {
					t.Errorf("part %d plans %d, want %d", i, p.Planned(), tt.wantParts[i])
				}
				sum += p.Planned()
				for n := uint64(0); ; n++ {
					at, ok := p.At(n)
					if !ok {
						break
					}
					got = append(got, at)
				}
				rates += Pacer(p, 0).Rate(0)
			}
			if whole := Pacer(all, 0).Rate(0); math.Abs(rates-whole) > 1e-9*whole {
				t.Errorf("the parts' rates sum to %g, the whole's is %g", rates, whole)
			}
			if sum != all.Planned() {
				t.Errorf("parts plan %d in all, the whole %d", sum, all.Planned())
			}
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Errorf("the parts' arrivals differ from the whole's (%d vs %d)", len(got), len(want))
			}
		})
	}
}

// TestConstantShareInterleaves checks that part i of a constant rate runs
// i/parts of an interval behind part 0.
func TestConstantShareInterleaves(t *testing.T) {
	t.Parallel()
	for i, want := range []time.Duration{0, 10 * time.Millisecond, 20 * time.Millisecond, 30 * time.Millisecond} {
		p := newRatePacer(100, sec, share{uint64(i), 4}) // each part 25/s: every 40ms
		at0, _ := p.At(0)
		at1, _ := p.At(1)
		if at0 != want || at1-at0 != 40*time.Millisecond {
			t.Errorf("part %d: At(0) = %v, At(1) = %v; want %v and 40ms apart", i, at0, at1, want)
		}
	}
}

// TestPoisson checks determinism for a seed, independence across seeds,
// replay after going back, and the mean count.
func TestPoisson(t *testing.T) {
	t.Parallel()
	arrivals := func(p *PoissonPacer) []time.Duration {
		var out []time.Duration
		for n := uint64(0); ; n++ {
			at, ok := p.At(n)
			if !ok {
				return out
			}
			out = append(out, at)
		}
	}
	a := arrivals(NewPoissonPacer(50, 100*sec, 7))
	b := arrivals(NewPoissonPacer(50, 100*sec, 7))
	c := arrivals(NewPoissonPacer(50, 100*sec, 8))
	if !slices.Equal(a, b) {
		t.Error("the same seed gave different arrivals")
	}
	if slices.Equal(a, c) {
		t.Error("different seeds gave the same arrivals")
	}
	// 5000 expected, standard deviation about 71: allow 5 of them.
	if n := len(a); n < 5000-355 || n > 5000+355 {
		t.Errorf("%d arrivals in 100s at 50/s, want about 5000", n)
	}
	if mean := a[len(a)-1].Seconds() / float64(len(a)); math.Abs(mean-0.02) > 0.002 {
		t.Errorf("mean gap %gs, want about 0.02s", mean)
	}
	p := NewPoissonPacer(50, 100*sec, 7)
	for _, n := range []uint64{10, 3, 3, 4000, 11, 0} {
		if at, ok := p.At(n); !ok || at != a[n] {
			t.Errorf("At(%d) out of order = %v, %v; want %v", n, at, ok, a[n])
		}
	}
	if _, ok := p.At(uint64(len(a))); ok {
		t.Error("At past the last arrival is true")
	}
}

// TestRateStrings checks ParseRate's forms and its errors.
func TestRateStrings(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]Rate{"100": 100, "100/s": 100, "6000/m": 100, "360000/h": 100, " 2.5 / s ": 2.5, "1e3/s": 1000} {
		if got, err := ParseRate(in); err != nil || got != want {
			t.Errorf("ParseRate(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "fast", "100/ms", "100/", "/s", "NaN", "inf/s", "100 rps"} {
		if _, err := ParseRate(in); err == nil {
			t.Errorf("ParseRate(%q) succeeded", in)
		}
	}
}

// TestFromPacerRoundTrip: a vegeta pacer made a Schedule paces as it did,
// through Pacer, at every arrival: what a vegeta pacer says, coldbench's
// engine does.
func TestFromPacerRoundTrip(t *testing.T) {
	t.Parallel()
	const dur = 2 * sec
	for _, p := range []vegeta.Pacer{
		vegeta.ConstantPacer{Freq: 40, Per: time.Second},
		vegeta.LinearPacer{StartAt: vegeta.Rate{Freq: 10, Per: time.Second}, Slope: 30},
	} {
		s := FromPacer(p, dur)
		back := Pacer(s, dur)
		var prev time.Duration
		n := uint64(0)
		for ; ; n++ {
			at, ok := s.At(n)
			if !ok {
				break
			}
			if at < prev || at >= dur {
				t.Fatalf("%T: At(%d) = %v after %v", p, n, at, prev)
			}
			prev = at
			if wait, stop := p.Pace(at, n); wait > 0 || stop {
				t.Fatalf("%T: At(%d) = %v, but vegeta waits %v (stop %v) then", p, n, at, wait, stop)
			}
			if wait, stop := back.Pace(at, n); wait != 0 || stop {
				t.Fatalf("%T: Pacer(FromPacer) waits %v (stop %v) at At(%d)", p, wait, stop, n)
			}
		}
		if n < 40 {
			t.Errorf("%T: %d arrivals in %v", p, n, dur)
		}
		// Going back replays from the start.
		again, _ := s.At(0)
		if first, _ := FromPacer(p, dur).At(0); again != first {
			t.Errorf("%T: At(0) after a walk = %v, fresh %v", p, again, first)
		}
	}
}
