package cost

import (
	"time"

	"github.com/coldbench/coldbench/results"
)

// PricingRecord is a pricing table as tune.json and plan.json store it.
func PricingRecord(t Table) results.TunePricing {
	return results.TunePricing{
		Table:         t.Name,
		Description:   t.Description,
		Source:        t.Source,
		GranularityMs: ms(t.Granularity),
		Rates: map[string]float64{
			"per_million_requests":           t.PerMillionRequests,
			"gb_second":                      t.GBSecond,
			"vcpu_second":                    t.VCPUSecond,
			"provisioned_gb_second":          t.ProvisionedGBSecond,
			"provisioned_duration_gb_second": t.ProvisionedDurationGBSecond,
			"idle_gb_second":                 t.IdleGBSecond,
			"idle_vcpu_second":               t.IdleVCPUSecond,
			"mb_per_vcpu":                    t.MBPerVCPU,
		},
	}
}

// CostRecord is an estimate as tune.json and plan.json store it.
func CostRecord(e Estimate) results.TuneCost {
	return results.TuneCost{
		RequestsPerMonth:  e.RequestsPerMonth,
		Concurrency:       e.Concurrency,
		PeakConcurrency:   e.PeakConcurrency,
		ColdRate:          e.ColdRate,
		PrewarmedShare:    e.PrewarmedShare,
		KeepWarmEffective: e.KeepWarmEffective,
		Requests:          e.Requests,
		Duration:          e.Duration,
		Capacity:          e.Capacity,
		Idle:              e.Idle,
		Pings:             e.Pings,
		Monthly:           e.Monthly,
		PerMillion:        e.PerMillion,
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
