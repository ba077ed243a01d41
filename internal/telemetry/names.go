package telemetry

import (
	"maps"
	"slices"

	"github.com/coldbench/coldbench/drivers"
)

// Metric names as exported over OTLP. The Prometheus endpoint uses the
// names OpenTelemetry's Prometheus conventions give them: units and
// _total spelled out.
const (
	NameInvocations  = "coldbench.invocations"
	NameSuccesses    = "coldbench.successes"
	NameErrors       = "coldbench.errors"
	NameDropped      = "coldbench.dropped"
	NameColdStarts   = "coldbench.cold_starts"
	NameColdRate     = "coldbench.cold_start.ratio"
	NameLatency      = "coldbench.latency"
	NameInFlight     = "coldbench.in_flight"
	NameTargetRate   = "coldbench.rate.target"
	NameAchievedRate = "coldbench.rate.achieved"
	NameMemoryUsed   = "coldbench.memory.used.max"
	NameTuneMemory   = "coldbench.tune.memory"
	NameTunePrewarm  = "coldbench.tune.prewarm"
	NameTuneCost     = "coldbench.tune.cost_per_million"
)

// Prometheus names of the same metrics.
const (
	PromInvocations  = "coldbench_invocations_total"
	PromSuccesses    = "coldbench_successes_total"
	PromErrors       = "coldbench_errors_total"
	PromDropped      = "coldbench_dropped_total"
	PromColdStarts   = "coldbench_cold_starts_total"
	PromColdRate     = "coldbench_cold_start_ratio"
	PromLatency      = "coldbench_latency_seconds"
	PromInFlight     = "coldbench_in_flight_requests"
	PromTargetRate   = "coldbench_rate_target_requests_per_second"
	PromAchievedRate = "coldbench_rate_achieved_requests_per_second"
	PromMemoryUsed   = "coldbench_memory_used_max_bytes"
	PromTuneMemory   = "coldbench_tune_memory_bytes"
	PromTunePrewarm  = "coldbench_tune_prewarm_instances"
	PromTuneCost     = "coldbench_tune_cost_per_million_usd"
	PromRunInfo      = "coldbench_run_info"
)

// bytesPerMB converts the memory sizes platforms give in "MB" to the
// bytes metrics are exported in: Lambda's and the emulator's MB are
// mebibytes (128 MB is 128 × 2^20 bytes).
const bytesPerMB = 1 << 20

func sortedKeys(m map[string]int64) []string { return slices.Sorted(maps.Keys(m)) }

// errorClasses are the classes coldbench_errors_total is exported for
// from the start, at 0 until a request fails so: every drivers.Outcome
// but ok. A rate() over a series that appears only with the first error
// misses that error.
func errorClasses() []string {
	var out []string
	for o := range drivers.Outcome(drivers.NumOutcomes) {
		if o != drivers.OK {
			out = append(out, o.String())
		}
	}
	return out
}
