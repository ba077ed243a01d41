// Package results holds the versioned run record and its on-disk layout: a
// run directory with run.json (the Run, schema "coldbench.run/v1") and
// histograms.hlog, written atomically as the run goes (Journal), loaded back
// (Load) and turned back into a mergeable Tally without loss (Run.Tally).
//
// Percentiles in a Run are for people and reports; the HDR histograms stored
// beside them are the data. Anything that combines runs or phases merges the
// histograms, never the percentiles.
package results

import (
	"fmt"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Schema is the version tag of run.json. A change that old readers would
// misread gets a new version.
const Schema = "coldbench.run/v1"

// File names inside a run directory.
const (
	RunFile          = "run.json"        // the Run, as JSON
	HistogramLogFile = "histograms.hlog" // HdrHistogram interval log, one entry per phase × temperature
	ScenarioFile     = "scenario.yaml"   // the scenario as it was run, to reproduce the run
)

// Run is the record of one run: what ran against what, when, whether it
// finished, and the stats of each phase and of the whole run. It is the
// content of run.json; the JSON field names are a contract.
type Run struct {
	Header
	Interrupted   string        `json:"interrupted"` // why the run stopped early ("signal: interrupt"), or empty
	Host          Host          `json:"host"`
	ColdDetection ColdDetection `json:"cold_detection"` // what decided each sent request's temperature, whole run
	// Inference is the evidence behind inferred temperatures, whole run;
	// absent when inference held no candidate.
	Inference *InferenceStats `json:"inference,omitempty"`
	Totals    Stats           `json:"totals"`
	Phases    []PhaseStats    `json:"phases"`
	// Fleet is the per-agent breakdown and whether the run was degraded.
	Fleet
	// Timeline is latency over the run's time, for charts.
	Timeline *Timeline `json:"timeline,omitempty"`
	// Thresholds is the verdict of each of the scenario's thresholds;
	// absent when it has none (thresholds.go).
	Thresholds []ThresholdVerdict `json:"thresholds,omitempty"`
}

// Elapsed is the wall-clock length of the run as recorded.
func (r *Run) Elapsed() time.Duration {
	if r.StartedAt.IsZero() || r.FinishedAt.Before(r.StartedAt) {
		return 0
	}
	return r.FinishedAt.Sub(r.StartedAt)
}

// Host is the machine that wrote the record (the controller, for a
// distributed run).
type Host struct {
	Hostname string `json:"hostname"`
	Cores    int    `json:"cores"`
	// Runtime is what the run cost the process that wrote the record,
	// read when the run ended; nil in records that were not written by a
	// run (runtime.go).
	Runtime *Runtime `json:"runtime,omitempty"`
}

// Stats is the measurement of a phase or of the whole run. Counts are of
// requests; latencies are of successful requests only, so errors never
// pollute them.
type Stats struct {
	// Requests is every arrival the schedule fired: Sent + Dropped.
	Requests int64 `json:"requests"`
	// Sent is the requests actually sent.
	Sent int64 `json:"sent"`
	// OK is the sent requests with a successful outcome.
	OK int64 `json:"ok"`
	// Dropped is the arrivals not sent because the in-flight bound was hit.
	Dropped int64 `json:"dropped"`
	// Errors counts failed requests by class (drivers.Outcome names other
	// than "ok"); only classes that occurred are present.
	Errors map[string]int64 `json:"errors"`
	// ErrorCodes counts failed requests by class and the platform's own
	// code (results.CodeKey): {"5xx": {"UNAVAILABLE": 12, "502": 3}}.
	// Absent when no failure carried a code.
	ErrorCodes map[string]map[string]int64 `json:"error_codes,omitempty"`
	// ErrorRate is failed / sent (dropped arrivals are counted apart, in
	// Dropped), 0 when nothing was sent.
	ErrorRate float64 `json:"error_rate"`
	// RateTarget is the rate the schedule asked for, in requests per second;
	// 0 when the schedule has no fixed count.
	RateTarget float64 `json:"rate_target"`
	// RateAchieved is Requests over the actual elapsed time, per second.
	RateAchieved float64 `json:"rate_achieved"`
	// DurationS is the actual elapsed time in seconds.
	DurationS float64 `json:"duration_s"`
	// ColdRate is cold / (cold + warm) among successful requests whose
	// temperature is known.
	ColdRate float64 `json:"cold_rate"`
	// Cold and Warm are the latency (from the intended send time) of
	// successful cold and warm requests.
	Cold Percentiles `json:"cold"`
	Warm Percentiles `json:"warm"`
	// Unknown is the latency of successful requests whose temperature could
	// not be decided; nil when there were none.
	Unknown *Percentiles `json:"unknown,omitempty"`
	// Service is the service time (from the actual send time) of all
	// successful requests.
	Service Percentiles `json:"service"`
	// Lag is the generator's lag: when each request was begun minus when
	// the schedule had it due, all requests. A large lag means the
	// generator, not the target, fell behind. Nil in records without it.
	Lag *Percentiles `json:"generator_lag,omitempty"`

	// Network is the network phases of the requests sent.
	Network NetStats `json:"network"`

	// MemoryUsed is the memory used the platform reported, over the
	// requests it reported it for; nil when it reported none.
	MemoryUsed *MemoryUsed `json:"memory_used,omitempty"`
}

// MemoryUsed summarises the memory used that a platform reported per
// request (Lambda's Max Memory Used, the emulator's header), in MB. The
// histogram it comes from is stored in the phase's Histograms (kind
// "memory"), so phases and agents merge exactly.
type MemoryUsed struct {
	Count int64 `json:"count"`
	P50MB int64 `json:"p50_mb"`
	P99MB int64 `json:"p99_mb"`
	MaxMB int64 `json:"max_mb"`
}

// MemoryUsedOf summarises a histogram of memory used in MB; nil when it
// holds nothing.
func MemoryUsedOf(h *hdrhistogram.Histogram) *MemoryUsed {
	if h == nil || h.TotalCount() == 0 {
		return nil
	}
	return &MemoryUsed{Count: h.TotalCount(), P50MB: h.ValueAtQuantile(50), P99MB: h.ValueAtQuantile(99), MaxMB: h.Max()}
}

// ErrorCount is the number of failed requests, all classes together.
func (s *Stats) ErrorCount() int64 {
	var n int64
	for _, c := range s.Errors {
		n += c
	}
	return n
}

// PhaseStats is the Stats of one phase plus what the schedule planned for
// it and what is needed to rebuild its Tally exactly.
type PhaseStats struct {
	Name string `json:"name"`
	Stats
	StartedAt        time.Time `json:"started_at"` // UTC; zero when the phase never began
	EndedAt          time.Time `json:"ended_at"`   // UTC; zero while the phase runs or if it never began
	Planned          int64     `json:"planned"`    // arrivals the schedule held; -1 when unbounded
	PlannedDurationS float64   `json:"planned_duration_s"`
	// ColdDetection and SentByTemp count sent requests of any outcome.
	ColdDetection ColdDetection `json:"cold_detection"`
	SentByTemp    TempCounts    `json:"sent_by_temp"`
	// Inference is the evidence behind the phase's inferred temperatures
	// (inference.go); absent when inference held no candidate.
	Inference *InferenceStats `json:"inference,omitempty"`
	// Histograms holds every histogram of the phase that Cold, Warm and
	// Unknown do not: failed requests' latencies and service times by
	// temperature. With them Run.Tally loses nothing.
	Histograms []HistEntry `json:"histograms,omitempty"`
	// Exemplars are requests kept as examples, with their trace ids, by
	// temperature: the slowest successful ones and a random sample.
	Exemplars *PhaseExemplars `json:"exemplars,omitempty"`
}

// Percentiles summarises one HDR histogram of durations in milliseconds, and
// carries the histogram itself so that it can be merged or re-rendered.
type Percentiles struct {
	Count  int64   `json:"count"`
	MinMs  float64 `json:"min_ms"`
	MeanMs float64 `json:"mean_ms"`
	P50Ms  float64 `json:"p50_ms"`
	P90Ms  float64 `json:"p90_ms"`
	P95Ms  float64 `json:"p95_ms"`
	P99Ms  float64 `json:"p99_ms"`
	P999Ms float64 `json:"p999_ms"`
	MaxMs  float64 `json:"max_ms"`
	// Histogram is the histogram (microseconds) in HdrHistogram's V2
	// compressed base64 encoding; empty when Count is 0.
	Histogram string `json:"histogram"`
}

// Decode returns l's histogram, in microseconds; an empty one when l holds
// no samples.
func (l *Percentiles) Decode() (*hdrhistogram.Histogram, error) {
	return decodeHist(l.Histogram)
}

// HistEntry is one stored histogram of a phase with its key.
type HistEntry struct {
	Temp      string `json:"temp"`    // cold, warm, unknown
	Outcome   string `json:"outcome"` // a drivers.Outcome name
	Kind      string `json:"kind"`    // latency, service or lag
	Histogram string `json:"histogram"`
}

// ColdDetection counts requests by what decided their temperature
// (drivers.ColdSource).
type ColdDetection struct {
	Platform int64 `json:"platform"`
	Header   int64 `json:"header"`
	Instance int64 `json:"instance"`
	Body     int64 `json:"body"`
	Inferred int64 `json:"inferred"`
	None     int64 `json:"none"`
}

// TempCounts counts requests by temperature.
type TempCounts struct {
	Cold    int64 `json:"cold"`
	Warm    int64 `json:"warm"`
	Unknown int64 `json:"unknown"`
}

// decodeHist decodes a histogram stored by encodeHist into a histogram with
// the shared geometry, so that it merges with any other without loss.
func decodeHist(s string) (*hdrhistogram.Histogram, error) {
	return decodeHistOf(Latency, s)
}

// decodeHistOf is decodeHist into kind k's geometry.
func decodeHistOf(k Kind, s string) (*hdrhistogram.Histogram, error) {
	h := NewHistogramOf(k)
	if s == "" {
		return h, nil
	}
	d, err := hdrhistogram.Decode([]byte(s))
	if err != nil {
		return nil, fmt.Errorf("decode histogram: %w", err)
	}
	if dropped := h.Merge(d); dropped != 0 {
		return nil, fmt.Errorf("decode histogram: %d values outside the range of coldbench histograms", dropped)
	}
	return h, nil
}

// encodeHist encodes h for storage; the empty string for an empty or nil
// histogram.
func encodeHist(h *hdrhistogram.Histogram) (string, error) {
	if h == nil || h.TotalCount() == 0 {
		return "", nil
	}
	b, err := EncodeHistogram(h)
	if err != nil {
		return "", fmt.Errorf("encode histogram: %w", err)
	}
	return string(b), nil
}
