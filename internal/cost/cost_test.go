package cost

import (
	"math"
	"testing"
	"time"

	"github.com/coldbench/coldbench/pricing"
)

// near reports whether got is within a millionth (relative) of want.
func near(got, want float64) bool {
	return math.Abs(got-want) <= 1e-6*math.Max(1e-9, math.Abs(want))
}

func mustTable(t *testing.T, name string) Table {
	t.Helper()
	tab, err := pricing.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	return tab
}

// TestCompute checks each cost term against numbers worked out by hand.
func TestCompute(t *testing.T) {
	t.Parallel()
	lambda, run := mustTable(t, "aws-lambda-x86_64"), mustTable(t, "cloud-run")
	million := PerMonth(1e6)
	tests := []struct {
		name  string
		tab   Table
		tr    Traffic
		u     Usage
		check func(e Estimate) []float64 // got, want pairs
	}{
		{
			// 1M × $0.20/1M = $0.20; 1M × 0.1 s × 1 GB × $0.0000166667 = $1.66667.
			name: "lambda on demand", tab: lambda, tr: million,
			u: Usage{MemoryMB: 1024, WarmBilled: 100 * time.Millisecond, ColdBilled: 100 * time.Millisecond,
				Busy: 100 * time.Millisecond, KeepAlive: 10 * time.Minute},
			check: func(e Estimate) []float64 {
				return []float64{e.Requests, 0.20, e.Duration, 1.66667, e.Monthly, 1.86667, e.PerMillion, 1.86667, e.Capacity, 0}
			},
		},
		{
			// No traffic: only capacity, 2 × 2,628,000 s × 2 GB × $0.0000041667 = $43.8003504.
			name: "lambda provisioned capacity", tab: lambda, tr: Traffic{},
			u: Usage{MemoryMB: 2048, Prewarm: 2, Busy: 100 * time.Millisecond, KeepAlive: time.Minute},
			check: func(e Estimate) []float64 {
				return []float64{e.Capacity, 43.8003504, e.Monthly, 43.8003504, e.Requests, 0}
			},
		},
		{
			// Busy 0: nothing overlaps, every request lands on a prewarmed
			// instance at the PC duration rate: 1M × 0.1 s × 2 GB ×
			// $0.0000097222 = $1.94444.
			name: "lambda provisioned duration", tab: lambda, tr: million,
			u: Usage{MemoryMB: 2048, Prewarm: 2, WarmBilled: 100 * time.Millisecond, KeepAlive: time.Minute},
			check: func(e Estimate) []float64 {
				return []float64{e.Duration, 1.94444, e.PrewarmedShare, 1, e.ColdRate, 0, e.Capacity, 43.8003504}
			},
		},
		{
			// 1769 MB = 1.7275390625 GiB and 1 vCPU. Requests 1M × $0.40/1M;
			// duration 1M × 0.1 s × (1.7275390625 × $0.0000025 + 1 × $0.000024)
			// = $2.831884765625; the min instance idles 2,628,000 − 100,000 s
			// at (1.7275390625 + 1) × $0.0000025 = $17.238046875.
			name: "cloud run min instance", tab: run, tr: million,
			u: Usage{MemoryMB: 1769, Prewarm: 1, WarmBilled: 100 * time.Millisecond, KeepAlive: 15 * time.Minute},
			check: func(e Estimate) []float64 {
				return []float64{e.Requests, 0.40, e.Duration, 2.831884765625, e.Idle, 17.238046875, e.Capacity, 0}
			},
		},
		{
			// 2 pings every 5 min: 2 × 2,628,000 / 300 = 17,520 a month, each
			// $0.0000002 + 0.05 s × 1 GB × $0.0000166667 = $0.018104029.
			name: "keep-warm pings", tab: lambda, tr: Traffic{},
			u: Usage{MemoryMB: 1024, Prewarm: 2, Mechanism: KeepWarm, KeepWarmEvery: 5 * time.Minute,
				WarmBilled: 50 * time.Millisecond, KeepAlive: 10 * time.Minute},
			check: func(e Estimate) []float64 {
				eff := 0.0
				if e.KeepWarmEffective {
					eff = 1
				}
				return []float64{e.Pings, 0.0181040292, e.Monthly, 0.0181040292, eff, 1}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := Compute(tt.tab, tt.tr, tt.u)
			if err != nil {
				t.Fatal(err)
			}
			pairs := tt.check(e)
			for i := 0; i < len(pairs); i += 2 {
				if !near(pairs[i], pairs[i+1]) {
					t.Errorf("term %d: got %.10g, want %.10g (estimate %+v)", i/2, pairs[i], pairs[i+1], e)
				}
			}
		})
	}
}

// TestKeepWarmTooRare: pings less often than the keep-alive keep nothing
// warm, so the cold-start rate is that of no prewarm at all.
func TestKeepWarmTooRare(t *testing.T) {
	t.Parallel()
	lambda := mustTable(t, "aws-lambda-x86_64")
	tr := PerMonth(50_000)
	u := Usage{MemoryMB: 512, Prewarm: 1, Mechanism: KeepWarm, KeepWarmEvery: 15 * time.Minute,
		WarmBilled: 20 * time.Millisecond, Busy: 20 * time.Millisecond, KeepAlive: 5 * time.Minute}
	rare, _ := Compute(lambda, tr, u)
	u.Prewarm = 0
	none, _ := Compute(lambda, tr, u)
	if rare.KeepWarmEffective || !near(rare.ColdRate, none.ColdRate) || rare.Pings <= 0 {
		t.Errorf("rare pings: effective=%v cold %v vs %v without, pings $%v", rare.KeepWarmEffective, rare.ColdRate, none.ColdRate, rare.Pings)
	}
}

func TestTraffic(t *testing.T) {
	t.Parallel()
	if got := PerMonth(1e7).RequestsPerMonth(); !near(got, 1e7) {
		t.Errorf("PerMonth(1e7) = %v a month", got)
	}
	pattern := make([]float64, 24)
	pattern[12] = 2 // one busy hour at twice the rate, nothing else
	tr, err := Daily(10, pattern)
	if err != nil {
		t.Fatal(err)
	}
	// 20/s for one hour a day: 72,000 a day × 30.4167 days = 2,190,000.
	if got := tr.RequestsPerMonth(); !near(got, 2_190_000) || tr.Peak() != 20 {
		t.Errorf("requests %v, peak %v", got, tr.Peak())
	}
	if _, err := Daily(10, []float64{1, 2}); err == nil {
		t.Error("a 2-value daily pattern was accepted")
	}
}
