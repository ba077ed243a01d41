package results

// ThresholdVerdict is the outcome of one of the scenario's thresholds, as
// run.json records it (Run.Thresholds).
type ThresholdVerdict struct {
	// Threshold is the expression as the scenario gives it, normalised:
	// "steady: warm.p99 < 250ms".
	Threshold string `json:"threshold"`
	Phase     string `json:"phase,omitempty"` // empty: the whole run
	Metric    string `json:"metric"`          // warm.p99, cold.rate, ...
	Op        string `json:"op"`
	// Limit and Value are in Unit: "ms" for latencies, "share" (a
	// fraction: 0.05 is 5%) for rates.
	Limit float64 `json:"limit"`
	Value float64 `json:"value"`
	Unit  string  `json:"unit"`
	// Samples is how many measurements the value rests on: requests of
	// that temperature for a latency, the denominator of a rate.
	Samples int64 `json:"samples"`
	// Status is pass, fail or no-data (nothing measured: not a failure).
	Status string `json:"status"`
	// Note says more: why there is no data, or when a failure stopped the
	// run early.
	Note string `json:"note,omitempty"`
}

// Threshold statuses.
const (
	ThresholdPass   = "pass"
	ThresholdFail   = "fail"
	ThresholdNoData = "no-data"
)

// ThresholdsFailed reports whether any verdict failed.
func ThresholdsFailed(vs []ThresholdVerdict) bool {
	for _, v := range vs {
		if v.Status == ThresholdFail {
			return true
		}
	}
	return false
}
