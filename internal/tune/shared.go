package tune

import (
	"time"

	"github.com/coldbench/coldbench/drivers"
	simdriver "github.com/coldbench/coldbench/drivers/sim"
	"github.com/coldbench/coldbench/internal/cost"
	"github.com/coldbench/coldbench/results"
	"github.com/coldbench/coldbench/scenarios"
)

// This file exports what other multi-run commands (`coldbench plan`)
// share with the tuning sweep: the billed-duration collector, the traffic
// and pricing records, and the keep-alive the cold-start model assumes.

// Collector gathers the billed durations of successful requests, as a
// tuning setting does, for a cost projection. Observe is an
// engine.Observer; it is safe for concurrent use.
type Collector struct{ c collector }

// NewCollector returns a collector that rounds durations as table bills.
func NewCollector(table cost.Table) *Collector { return &Collector{c: collector{table: table}} }

// Observe records one finished request.
func (c *Collector) Observe(call *drivers.Call, s results.Sample) { c.c.observe(call, s) }

// Billed summarises what was observed (see results.TuneBilled), and the
// mean time a request held an instance; an error when no request
// succeeded.
func (c *Collector) Billed() (results.TuneBilled, time.Duration, error) {
	b, err := c.c.billing()
	if err != nil {
		return results.TuneBilled{}, 0, err
	}
	return b.record(), b.busy, nil
}

// Traffic turns a traffic: block into hourly rates and a description; an
// empty block is the default, 1,000,000 requests a month.
func Traffic(t scenarios.Traffic) (cost.Traffic, string, error) { return traffic(t) }

// PricingRecord is a pricing table as tune.json and plan.json store it.
func PricingRecord(t cost.Table) results.TunePricing { return pricingRecord(t) }

// CostRecord is a cost estimate as tune.json and plan.json store it.
func CostRecord(e cost.Estimate) results.TuneCost { return costRecord(e) }

// KeepAlive is the idle lifetime the cold-start model assumes and where it
// came from: given when positive ("scenario"), else the emulator's own
// setting for a sim target ("emulator"), else DefaultKeepAlive
// ("default").
func KeepAlive(s *scenarios.Scenario, given time.Duration) (time.Duration, string) {
	if given > 0 {
		return given, "scenario"
	}
	if sc, ok := s.Target.Config.(*simdriver.Config); ok && sc.KeepAlive > 0 {
		return sc.KeepAlive, "emulator"
	}
	return DefaultKeepAlive, "default"
}
