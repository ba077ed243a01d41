package cost

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestColdRateEdges(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		rate      float64
		busy, ka  time.Duration
		warm      int
		want, tol float64
	}{
		// One slot: exactly the share of Poisson gaps longer than the
		// keep-alive, exp(−λK) = exp(−1).
		{"slot one is exact", 0.1, 0, 10 * time.Second, 0, math.Exp(-1), 1e-12},
		// Nothing overlaps and one instance is prewarmed: never cold.
		{"prewarm covers all", 5, 0, time.Second, 1, 0, 1e-12},
		{"no traffic", 0, time.Second, time.Second, 0, 0, 0},
		// Keep-alive 0: every climb to a slot is cold, and with no
		// overlap every request climbs to slot 1.
		{"no keep-alive", 3, 0, 0, 0, 1, 1e-12},
	}
	for _, tt := range tests {
		if got := ColdRate(tt.rate, tt.busy, tt.ka, tt.warm); math.Abs(got-tt.want) > tt.tol {
			t.Errorf("%s: ColdRate = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestColdRateMonotone(t *testing.T) {
	t.Parallel()
	busy := 200 * time.Millisecond
	prev := 2.0
	for p := range 8 { // more prewarm, fewer cold starts
		r := ColdRate(20, busy, 5*time.Second, p)
		if r > prev {
			t.Errorf("prewarm %d: cold rate %v above %v at prewarm %d", p, r, prev, p-1)
		}
		prev = r
	}
	prev = 2.0
	for _, ka := range []time.Duration{0, time.Second, 10 * time.Second, time.Minute} { // longer keep-alive, fewer
		r := ColdRate(2, busy, ka, 0)
		if r > prev {
			t.Errorf("keep-alive %v: cold rate %v rose", ka, r)
		}
		prev = r
	}
}

// TestColdRateAgreesWithSimulation runs the platform the model describes
// (Poisson arrivals, fixed service time, most-recently-used reuse, idle
// instances expire after the keep-alive, prewarmed ones never) and checks
// the model's cold rate against the simulated one.
func TestColdRateAgreesWithSimulation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		rate     float64
		busy, ka time.Duration
		warm     int
	}{
		{2, 500 * time.Millisecond, 2 * time.Second, 0},   // C = 1, frequent expiry
		{5, 400 * time.Millisecond, 3 * time.Second, 1},   // C = 2, one prewarmed
		{20, 150 * time.Millisecond, time.Second, 2},      // C = 3
		{0.5, 100 * time.Millisecond, 3 * time.Second, 0}, // sparse: mostly slot one
	}
	for _, tt := range tests {
		model := ColdRate(tt.rate, tt.busy, tt.ka, tt.warm)
		sim := simulateCold(tt.rate, tt.busy, tt.ka, tt.warm, 200_000)
		t.Logf("rate %v busy %v keep-alive %v prewarm %d: model %.4f, simulated %.4f", tt.rate, tt.busy, tt.ka, tt.warm, model, sim)
		// The exponential sojourn below a slot is an approximation; it
		// errs on the high side by up to about a third when several
		// slots are in play. Allow 35%, or 0.005 absolute.
		if math.Abs(model-sim) > math.Max(0.35*sim, 0.005) {
			t.Errorf("rate %v busy %v keep-alive %v prewarm %d: model %.4f, simulation %.4f", tt.rate, tt.busy, tt.ka, tt.warm, model, sim)
		}
	}
}

// simulateCold simulates n requests and returns the share that were cold.
func simulateCold(rate float64, busy, keepAlive time.Duration, prewarm, n int) float64 {
	rng := rand.New(rand.NewPCG(1, 2))
	type inst struct {
		freeAt float64 // when its current request ends
		pinned bool
	}
	var pool []*inst
	for range prewarm {
		pool = append(pool, &inst{pinned: true})
	}
	b, k := busy.Seconds(), keepAlive.Seconds()
	var now float64
	cold := 0
	for range n {
		now += rng.ExpFloat64() / rate
		// Expire idle on-demand instances.
		pool = slices.DeleteFunc(pool, func(in *inst) bool {
			return !in.pinned && in.freeAt <= now && now-in.freeAt >= k
		})
		// Most recently freed idle instance first.
		var pick *inst
		for _, in := range pool {
			if in.freeAt <= now && (pick == nil || in.freeAt > pick.freeAt) {
				pick = in
			}
		}
		if pick == nil {
			cold++
			pick = &inst{}
			pool = append(pool, pick)
		}
		pick.freeAt = now + b
	}
	return float64(cold) / float64(n)
}
