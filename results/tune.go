package results

import (
	"fmt"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// TuneSchema is the version tag of tune.json.
const TuneSchema = "coldbench.tune/v1"

// Files of a tuning run directory, beside report.md and report.html.
const (
	TuneFile    = "tune.json" // the Tune record
	SettingsDir = "settings"  // one run directory per setting, settings/NAME/run.json
)

// Tune is the record of a tuning run: what was swept against what, each
// setting's measurements and projected cost, and the recommendation. It is
// the content of tune.json; the JSON field names are a contract.
type Tune struct {
	Header
	Interrupted string `json:"interrupted,omitempty"`
	Error       string `json:"error,omitempty"` // the failure that ended the sweep
	Host        Host   `json:"host"`

	Strategy  string        `json:"strategy"`
	Weight    float64       `json:"weight"` // balanced: the weight on cost
	SLO       *TuneSLO      `json:"slo,omitempty"`
	Traffic   TuneTraffic   `json:"traffic"`
	Pricing   TunePricing   `json:"pricing"`
	Mechanism string        `json:"mechanism"` // "provisioned" or "keep-warm"
	KeepWarmS float64       `json:"keep_warm_every_s,omitempty"`
	KeepAlive TuneKeepAlive `json:"keep_alive"`
	Samples   TuneSamples   `json:"samples"`
	Phases    bool          `json:"phases"` // the scenario's phases ran at each setting

	// Original is the function's setting before the sweep, which is put
	// back at the end; Restored says whether that worked.
	Original     TuneOriginal `json:"original"`
	Restored     bool         `json:"restored"`
	RestoreError string       `json:"restore_error,omitempty"`

	Settings       []TuneSetting   `json:"settings"`
	Recommendation *Recommendation `json:"recommendation,omitempty"`
}

// TuneSLO is the latency targets of strategy slo, in milliseconds and as a
// share; zero means no target.
type TuneSLO struct {
	WarmP50Ms float64  `json:"warm_p50_ms,omitempty"`
	WarmP99Ms float64  `json:"warm_p99_ms,omitempty"`
	ColdP99Ms float64  `json:"cold_p99_ms,omitempty"`
	ColdRate  *float64 `json:"cold_rate,omitempty"`
}

// TuneTraffic is the traffic costs are projected for.
type TuneTraffic struct {
	Description      string    `json:"description"`
	RequestsPerMonth float64   `json:"requests_per_month"`
	MeanPerS         float64   `json:"mean_per_s"`
	PeakPerS         float64   `json:"peak_per_s"`
	Hourly           []float64 `json:"hourly"` // requests per second, hour by hour
}

// TunePricing is the pricing table used, overrides applied.
type TunePricing struct {
	Table         string             `json:"table"`
	Description   string             `json:"description"`
	Source        string             `json:"source"`
	GranularityMs float64            `json:"granularity_ms"`
	Rates         map[string]float64 `json:"rates"` // US dollars, by the keys overrides use
}

// TuneKeepAlive is the platform keep-alive the cold-start model assumes,
// and where it came from ("scenario", "emulator", "default").
type TuneKeepAlive struct {
	S      float64 `json:"s"`
	Source string  `json:"source"`
}

// TuneSamples is how many samples each setting was asked for.
type TuneSamples struct {
	Cold int `json:"cold"`
	Warm int `json:"warm"`
}

// TuneOriginal is a setting and where it was learned ("describe": the
// driver reported it; "scenario": tune.current).
type TuneOriginal struct {
	MemoryMB int    `json:"memory_mb"`
	Prewarm  int    `json:"prewarm"`
	Source   string `json:"source"`
}

// TuneSetting is one setting's measurements and projection.
type TuneSetting struct {
	Name     string `json:"name"` // "1024mb-p2", also its run directory's name
	MemoryMB int    `json:"memory_mb"`
	Prewarm  int    `json:"prewarm"`
	Current  bool   `json:"current"` // the function's setting before the sweep
	// RunDir is the setting's run directory, relative to the tuning run's;
	// empty when the phases did not run.
	RunDir   string  `json:"run_dir,omitempty"`
	Complete bool    `json:"complete"`
	Error    string  `json:"error,omitempty"`
	ElapsedS float64 `json:"elapsed_s"`

	// Cold and Warm are the latency of the requests sampled on purpose:
	// each cold one on a new instance, the warm ones one after another.
	// Without samples they come from the phases.
	Cold        Percentiles `json:"cold"`
	Warm        Percentiles `json:"warm"`
	LatencyFrom string      `json:"latency_from"` // "samples" or "phases"
	// SampleErrors counts failed sample requests.
	SampleErrors int64 `json:"sample_errors"`
	// Phases summarises the scenario's phases at this setting; the full
	// record is RunDir/run.json.
	Phases *TunePhases `json:"phases,omitempty"`

	Billed          TuneBilled `json:"billed"`
	MaxMemoryUsedMB int        `json:"max_memory_used_mb,omitempty"`
	// MemoryUsed is the distribution of the memory used the platform
	// reported over the setting's successful requests; nil when it
	// reported none. Headroom is 1 − max used / memory size.
	MemoryUsed     *MemoryUsed `json:"memory_used,omitempty"`
	MemoryHeadroom float64     `json:"memory_headroom,omitempty"`

	Cost TuneCost `json:"cost"`
	// TypicalMs is the time a request can expect to spend in the function
	// at the projected traffic: its warm and cold times weighted by the
	// projected cold-start rate. TypicalFrom says which times: "platform",
	// the platform's own duration (plus init for a cold start), which is
	// what a setting changes, free of the network and of the load on
	// coldbench's host; or "measured", the sampled latency medians, where
	// the platform reports no duration.
	TypicalMs   float64 `json:"typical_ms"`
	TypicalFrom string  `json:"typical_from"`
	// SLOMisses lists the targets this setting misses (strategy slo).
	SLOMisses []string `json:"slo_misses,omitempty"`
	// Intervals are the setting's bootstrap intervals; nil when it was
	// not ranked.
	Intervals *TuneIntervals `json:"intervals,omitempty"`
	Rank      int            `json:"rank"`  // 1 for the winner; 0 when not ranked
	Score     float64        `json:"score"` // the strategy's score, lower is better
}

// TunePhases is what the scenario's phases measured at a setting.
type TunePhases struct {
	Requests  int64   `json:"requests"`
	Errors    int64   `json:"errors"`
	ColdRate  float64 `json:"cold_rate"`
	WarmP99Ms float64 `json:"warm_p99_ms"`
	ColdP99Ms float64 `json:"cold_p99_ms"`
}

// TuneBilled is the billed duration the cost rests on. Source is
// "platform" when the platform reported it, "measured" when it is the
// service time coldbench measured, rounded as the pricing table rounds.
type TuneBilled struct {
	Source     string  `json:"source"`
	WarmMeanMs float64 `json:"warm_mean_ms"`
	ColdMeanMs float64 `json:"cold_mean_ms"`
	BusyMs     float64 `json:"busy_ms"` // how long a request holds an instance
	Count      int64   `json:"count"`
	// WarmDist and ColdDist are the billed durations themselves (rounded
	// as the table bills; the histogram in µs), for the intervals of
	// TuneIntervals; nil in records from before they were kept.
	WarmDist *Percentiles `json:"warm_dist,omitempty"`
	ColdDist *Percentiles `json:"cold_dist,omitempty"`
}

// TuneIntervals are a setting's bootstrap intervals at Confidence: of the
// sampled warm and cold medians, and of the monthly cost, which carries
// the interval of the billed duration (its warm and cold means mixed at
// the projected cold-start rate, resampled) into the duration part of the
// cost. Lo = Hi when there is nothing to resample.
type TuneIntervals struct {
	Confidence  float64 `json:"confidence"`
	WarmP50LoMs float64 `json:"warm_p50_lo_ms"`
	WarmP50HiMs float64 `json:"warm_p50_hi_ms"`
	ColdP50LoMs float64 `json:"cold_p50_lo_ms"`
	ColdP50HiMs float64 `json:"cold_p50_hi_ms"`
	BilledLoMs  float64 `json:"billed_lo_ms"`
	BilledHiMs  float64 `json:"billed_hi_ms"`
	MonthlyLo   float64 `json:"monthly_lo"`
	MonthlyHi   float64 `json:"monthly_hi"`
}

// TuneCost is a setting's projected cost at the traffic, in US dollars a
// month, and the cold-start rate it projects.
type TuneCost struct {
	RequestsPerMonth  float64 `json:"requests_per_month"`
	Concurrency       float64 `json:"concurrency"`
	PeakConcurrency   float64 `json:"peak_concurrency"`
	ColdRate          float64 `json:"cold_rate"`
	PrewarmedShare    float64 `json:"prewarmed_share"`
	KeepWarmEffective bool    `json:"keep_warm_effective,omitempty"`
	Requests          float64 `json:"requests"`
	Duration          float64 `json:"duration"`
	Capacity          float64 `json:"capacity"`
	Idle              float64 `json:"idle"`
	Pings             float64 `json:"pings"`
	Monthly           float64 `json:"monthly"`
	PerMillion        float64 `json:"per_million"`
}

// Recommendation is the setting the strategy chose, why, and what changes
// from the current setting.
type Recommendation struct {
	Strategy string `json:"strategy"`
	Winner   string `json:"winner"`              // a setting's Name
	RunnerUp string `json:"runner_up,omitempty"` // the next best
	Reason   string `json:"reason"`              // one sentence
	// Memory says how much memory the winner used, and which smaller
	// sizes would not fit; empty when the platform reported none.
	Memory string `json:"memory,omitempty"`
	// Partial is set when the sweep stopped early: the choice is among
	// the settings measured.
	Partial bool `json:"partial,omitempty"`
	// Tied lists the settings (the winner first) whose intervals on the
	// deciding measure overlap the best one's: the measurements cannot
	// tell them apart, and TieRule picked among them. SeparateSamples is
	// about how many samples per setting would separate the winner from
	// the others (0: no number would, they measure the same).
	Tied            []string `json:"tied,omitempty"`
	TieRule         string   `json:"tie_rule,omitempty"`
	SeparateSamples int64    `json:"separate_samples,omitempty"`
	// Before and After compare the current setting with the winner; Before
	// is nil when the current setting is unknown or was not measured.
	Before *TuneSnapshot `json:"before,omitempty"`
	After  TuneSnapshot  `json:"after"`
}

// TuneSnapshot is the headline numbers of one setting.
type TuneSnapshot struct {
	Setting   string  `json:"setting"`
	ColdP99Ms float64 `json:"cold_p99_ms"`
	WarmP99Ms float64 `json:"warm_p99_ms"`
	ColdRate  float64 `json:"cold_rate"`
	Monthly   float64 `json:"monthly"`
}

// Setting returns the setting named name, or nil.
func (t *Tune) Setting(name string) *TuneSetting {
	for i := range t.Settings {
		if t.Settings[i].Name == name {
			return &t.Settings[i]
		}
	}
	return nil
}

// SettingName is the name of a setting and of its run directory:
// "1024mb-p2".
func SettingName(memoryMB, prewarm int) string {
	return fmt.Sprintf("%dmb-p%d", memoryMB, prewarm)
}

// PercentilesOf summarises h (microseconds) the way run.json does,
// histogram included.
func PercentilesOf(h *hdrhistogram.Histogram) Percentiles {
	if h == nil {
		return Percentiles{}
	}
	return summarizeHist(h)
}

// WriteTune stores t as dir/tune.json, atomically.
func WriteTune(dir string, t *Tune) error {
	return writeRecord(dir, TuneFile, "tuning record", t)
}

// LoadTune reads a tuning record from path, a tuning run directory or the
// tune.json in one, checking its schema.
func LoadTune(path string) (*Tune, error) {
	var t Tune
	if err := loadRecord(path, TuneFile, "tuning run", "tuning record", &t, &t.Schema, TuneSchema); err != nil {
		return nil, err
	}
	return &t, nil
}
