package engine

import (
	"math/rand/v2"
	"testing"
	"time"
)

func TestInferrer(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	norm := func(mean, sd time.Duration) time.Duration {
		return max(time.Microsecond, mean+time.Duration(rng.NormFloat64()*float64(sd)))
	}
	tests := []struct {
		name       string
		warm, cold int
		warmMean   time.Duration
		coldMean   time.Duration
		wantOK     bool
	}{
		// The emulator's defaults: 35 ms handler at 1 GB, 250 ms init.
		{"emulator", 900, 100, 35 * time.Millisecond, 285 * time.Millisecond, true},
		// Mostly cold: a burst-heavy run still splits.
		{"mostly cold", 100, 400, 20 * time.Millisecond, 400 * time.Millisecond, true},
		// Fast function, modest init.
		{"fast", 950, 50, 2 * time.Millisecond, 80 * time.Millisecond, true},
		// Only warm traffic with ordinary jitter: no cold cluster.
		{"warm only", 1000, 0, 30 * time.Millisecond, 0, false},
		// Only cold starts: no warm baseline to compare against.
		{"cold only", 0, 200, 0, 250 * time.Millisecond, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var f inferrer
			type s struct {
				d    time.Duration
				cold bool
			}
			var all []s
			for range tt.warm {
				all = append(all, s{norm(tt.warmMean, tt.warmMean/10), false})
			}
			for range tt.cold {
				all = append(all, s{norm(tt.coldMean, tt.coldMean/10), true})
			}
			rng.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
			for _, x := range all {
				f.add(x.d)
			}
			f.recompute()
			if f.ok != tt.wantOK {
				t.Fatalf("split believed = %v, want %v", f.ok, tt.wantOK)
			}
			if !f.ok {
				return
			}
			wrong := 0
			for _, x := range all {
				if f.cold(x.d) != x.cold {
					wrong++
				}
			}
			if float64(wrong) > 0.01*float64(len(all)) {
				t.Errorf("%d of %d misclassified", wrong, len(all))
			}
		})
	}
}
