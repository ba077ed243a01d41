package bench

import "testing"

func TestSearch(t *testing.T) {
	tests := []struct {
		name                 string
		start, limit, probes int
		tol                  float64
		capacity             int // a probe passes at or below it
		wantMin, wantMax     int
		wantProbesAtMost     int
	}{
		// doubles 1k→16k (16k fails), then bisects 8k..16k to within 5 %
		{"double then bisect", 1000, 1 << 20, 20, 0.05, 11_000, 10_500, 11_000, 9},
		// the very first probe fails: bisects below the start
		{"first probe fails", 8000, 1 << 20, 20, 0.05, 3000, 2800, 3000, 10},
		// passes at the limit: stops there
		{"limit", 1000, 4000, 20, 0.05, 1 << 30, 4000, 4000, 3},
		// out of probes: the best so far, which passed
		{"probe budget", 1000, 1 << 20, 3, 0.01, 1 << 30, 4000, 4000, 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := NewSearch(tc.start, tc.limit, tc.probes, tc.tol)
			n := 0
			for {
				r, ok := s.Next()
				if !ok {
					break
				}
				n++
				s.Report(r, r <= tc.capacity)
			}
			if b := s.Best(); b < tc.wantMin || b > tc.wantMax {
				t.Errorf("best %d, want %d..%d", b, tc.wantMin, tc.wantMax)
			}
			if n > tc.wantProbesAtMost {
				t.Errorf("%d probes, want at most %d", n, tc.wantProbesAtMost)
			}
		})
	}
}
