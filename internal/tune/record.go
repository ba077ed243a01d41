package tune

import (
	"fmt"
	"strings"
	"time"

	"github.com/coldbench/coldbench/drivers"
	"github.com/coldbench/coldbench/internal/cost"
	"github.com/coldbench/coldbench/internal/study"
	"github.com/coldbench/coldbench/results"
)

// newRecord starts the tuning record of a sweep.
func newRecord(cfg Config, p *Sweep, orig results.TuneOriginal) *results.Tune {
	s := cfg.Scenario
	rec := &results.Tune{
		Header:   study.Header(results.TuneSchema, s, cfg.Version, time.Now()),
		Host:     results.LocalHost(),
		Strategy: p.Strategy,
		Weight:   p.Weight,
		Traffic: results.TuneTraffic{
			Description:      p.TrafficDesc,
			RequestsPerMonth: p.Traffic.RequestsPerMonth(),
			MeanPerS:         p.Traffic.RequestsPerMonth() / cost.Month.Seconds(),
			PeakPerS:         p.Traffic.Peak(),
			Hourly:           p.Traffic.Hourly[:],
		},
		Pricing:   cost.PricingRecord(p.Table),
		Mechanism: string(p.Mechanism),
		KeepAlive: results.TuneKeepAlive{S: p.KeepAlive.Seconds(), Source: p.KeepAliveSource},
		Samples:   results.TuneSamples{Cold: p.ColdSamples, Warm: p.WarmSamples},
		Phases:    p.Phases && len(s.Phases) > 0,
		Original:  orig,
	}
	if p.Mechanism == cost.KeepWarm {
		rec.KeepWarmS = p.KeepWarmEvery.Seconds()
	}
	if p.Strategy == "slo" {
		rec.SLO = &results.TuneSLO{
			WarmP50Ms: ms(time.Duration(p.SLO.WarmP50)),
			WarmP99Ms: ms(time.Duration(p.SLO.WarmP99)),
			ColdP99Ms: ms(time.Duration(p.SLO.ColdP99)),
		}
		if r := p.SLO.ColdRate; r != nil {
			rec.SLO.ColdRate = new(float64(*r))
		}
	}
	return rec
}

// summarize fills in a setting's latencies from its samples, falling back
// on the phases' for a temperature that has no samples, and the phases'
// summary.
func summarize(ts *results.TuneSetting, samples *results.PhaseTally, run *results.Run) {
	ts.Cold = results.PercentilesOf(samples.Hist(results.HistKey{Temp: drivers.Cold, Outcome: drivers.OK, Kind: results.Latency}))
	ts.Warm = results.PercentilesOf(samples.Hist(results.HistKey{Temp: drivers.Warm, Outcome: drivers.OK, Kind: results.Latency}))
	ts.SampleErrors = samples.Sent - samples.Outcomes[drivers.OK]
	var from []string
	if ts.Cold.Count+ts.Warm.Count > 0 {
		from = append(from, "samples")
	}
	if run != nil {
		tot := &run.Totals
		ts.Phases = &results.TunePhases{
			Requests:  tot.Requests,
			Errors:    tot.ErrorCount(),
			ColdRate:  tot.ColdRate,
			WarmP99Ms: tot.Warm.P99Ms,
			ColdP99Ms: tot.Cold.P99Ms,
		}
		used := false
		if ts.Cold.Count == 0 && tot.Cold.Count > 0 {
			ts.Cold, used = tot.Cold, true
		}
		if ts.Warm.Count == 0 && tot.Warm.Count > 0 {
			ts.Warm, used = tot.Warm, true
		}
		if used {
			from = append(from, "phases")
		}
	}
	ts.LatencyFrom = strings.Join(from, "+")
}

// typical is the time a request can expect to spend in the function at
// the projected traffic, warm and cold times weighted by the projected
// cold-start rate (see results.TuneSetting.TypicalMs), and what the times
// are. The platform's own durations are preferred: measured latency adds
// the network and the load on this host, which no setting changes and
// which on a busy machine can move two equally fast settings apart by
// more than the settings differ. Without them, the latency medians (not
// tail percentiles, so that a handful of samples ranks steadily).
func typical(ts *results.TuneSetting, b cost.Billing) (float64, string) {
	r := ts.Cost.ColdRate
	if b.FnOK {
		return (1-r)*ms(b.FnWarm) + r*ms(b.FnCold), "platform"
	}
	warm, cold := ts.Warm.P50Ms, ts.Cold.P50Ms
	switch {
	case ts.Warm.Count == 0:
		return cold, "measured"
	case ts.Cold.Count == 0:
		return warm, "measured"
	}
	return (1-r)*warm + r*cold, "measured"
}

// progressLine is a finished setting in one line.
func progressLine(ts *results.TuneSetting) string {
	var b strings.Builder
	if ts.Cold.Count > 0 {
		fmt.Fprintf(&b, "cold p50 %s (%d)  ", msText(ts.Cold.P50Ms), ts.Cold.Count)
	}
	if ts.Warm.Count > 0 {
		fmt.Fprintf(&b, "warm p50 %s (%d)  ", msText(ts.Warm.P50Ms), ts.Warm.Count)
	}
	if ph := ts.Phases; ph != nil {
		fmt.Fprintf(&b, "phases %d requests, %.1f%% cold  ", ph.Requests, 100*ph.ColdRate)
	}
	fmt.Fprintf(&b, "billed %s (%s)  projected %s cold, %s a month  [%.1fs]",
		msText(ts.Billed.WarmMeanMs), ts.Billed.Source, pct(ts.Cost.ColdRate), dollars(ts.Cost.Monthly), ts.ElapsedS)
	return b.String()
}

// settingText is a setting as people read it.
func settingText(memoryMB, prewarm int) string {
	return fmt.Sprintf("%d MB, prewarm %d", memoryMB, prewarm)
}

func msText(v float64) string {
	if v >= 100 {
		return fmt.Sprintf("%.0f ms", v)
	}
	return fmt.Sprintf("%.1f ms", v)
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
