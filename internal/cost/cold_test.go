package cost

import (
	"math"
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
