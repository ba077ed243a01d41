package report

import (
	"fmt"

	"github.com/coldbench/coldbench/results"
)

// File stems of a capacity plan's charts.
const (
	ChartCapacityLatency     = "plan-latency"
	ChartCapacityConcurrency = "plan-concurrency"
	ChartCapacityErrors      = "plan-errors"
)

// CapacityCharts draws a capacity plan's charts from its complete steps,
// against the target rate: p50 and p99 (with the SLO when there is one);
// concurrency by Little's law and the platform's instance count; the error
// and throttle rates with their limits. The maximum sustainable rate is
// marked on each, the knee with a rule. A ramp of fewer than two complete
// steps has no charts.
func CapacityCharts(p *results.Capacity) ([]Chart, error) {
	var done []*results.CapacityStep
	for i := range p.Steps {
		if p.Steps[i].Complete {
			done = append(done, &p.Steps[i])
		}
	}
	if len(done) < 2 {
		return nil, nil
	}
	var opts []ChartOption
	if i := p.Result.MaxSustainable; i >= 0 {
		opts = append(opts, Mark(p.Steps[i].Target, "max sustainable: "+rps(p.Steps[i].Target)+"/s"))
	}
	if i := p.Result.Knee; i >= 0 {
		opts = append(opts, VLine(p.Steps[i].Target, "knee"))
	}
	with := func(name string) []ChartOption { return append([]ChartOption{ChartName(name)}, opts...) }
	first, last := done[0].Target, done[len(done)-1].Target
	flat := func(name string, y float64) Series {
		return Series{Name: name, X: []float64{first, last}, Y: []float64{y, y}, Color: rgb(0x999999)}
	}
	target := func(s *results.CapacityStep) float64 { return s.Target }
	var charts []Chart

	lat := []Series{
		stepLine(done, "p50", func(s *results.CapacityStep) bool { return s.Latency.Count > 0 }, target, func(s *results.CapacityStep) float64 { return s.Latency.P50Ms }),
		stepLine(done, "p99", func(s *results.CapacityStep) bool { return s.Latency.Count > 0 }, target, func(s *results.CapacityStep) float64 { return s.Latency.P99Ms }),
	}
	if len(lat[0].X) > 0 {
		if p.Stop.P99Ms > 0 {
			lat = append(lat, flat("p99 SLO", p.Stop.P99Ms))
		}
		c, err := LineChart("Latency by request rate (successful requests)", "target rate (req/s)", "latency (ms)", lat, with(ChartCapacityLatency)...)
		if err != nil {
			return nil, err
		}
		charts = append(charts, c)
	}

	all := func(*results.CapacityStep) bool { return true }
	conc := []Series{stepLine(done, "concurrency (Little's law)", all, target, func(s *results.CapacityStep) float64 { return s.Concurrency })}
	if inst := stepLine(done, "instances (platform, max)", func(s *results.CapacityStep) bool { return s.Instances != nil }, target,
		func(s *results.CapacityStep) float64 { return float64(s.Instances.Max) }); len(inst.X) > 0 {
		conc = append(conc, inst)
	}
	c, err := LineChart("Concurrency by request rate", "target rate (req/s)", "instances", conc, with(ChartCapacityConcurrency)...)
	if err != nil {
		return nil, err
	}
	charts = append(charts, c)

	errs := []Series{
		stepLine(done, "errors", all, target, func(s *results.CapacityStep) float64 { return 100 * s.ErrorRate }),
		stepLine(done, "throttled", all, target, func(s *results.CapacityStep) float64 { return 100 * s.ThrottleRate }),
		flat(fmt.Sprintf("error limit %s", sharePct(p.Stop.ErrorRate)), 100*p.Stop.ErrorRate),
	}
	if p.Stop.ThrottleRate != p.Stop.ErrorRate {
		errs = append(errs, flat(fmt.Sprintf("throttle limit %s", sharePct(p.Stop.ThrottleRate)), 100*p.Stop.ThrottleRate))
	}
	c, err = LineChart("Error and throttle rate by request rate", "target rate (req/s)", "share of requests (%)", errs, with(ChartCapacityErrors)...)
	if err != nil {
		return nil, err
	}
	return append(charts, c), nil
}

// stepLine collects the steps that pass keep into a series, in ramp
// order (rising rate).
func stepLine(steps []*results.CapacityStep, name string, keep func(*results.CapacityStep) bool, x, y func(*results.CapacityStep) float64) Series {
	s := Series{Name: name}
	for _, st := range steps {
		if keep(st) {
			s.X, s.Y = append(s.X, x(st)), append(s.Y, y(st))
		}
	}
	return s
}
