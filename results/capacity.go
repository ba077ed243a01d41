package results

// CapacitySchema is the version tag of plan.json.
const CapacitySchema = "coldbench.plan/v1"

// Files of a capacity-planning run directory, beside report.md and
// report.html.
const (
	CapacityFile = "plan.json" // the Capacity record
	StepsDir     = "steps"     // one run directory per step, steps/NAME/run.json
)

// Capacity is the record of a capacity-planning run: the stepped ramp, every
// step's measurements, the maximum sustainable rate and the knee, and the
// projection for a target traffic. It is the content of plan.json; the
// JSON field names are a contract.
type Capacity struct {
	Header
	Interrupted string `json:"interrupted,omitempty"`
	Error       string `json:"error,omitempty"` // the failure that ended the ramp
	Host        Host   `json:"host"`

	Ramp     CapacityRamp   `json:"ramp"`
	Stop     CapacityStop   `json:"stop"`
	KneeRise float64        `json:"knee_rise"` // the latency rise over the baseline that marks the knee, 0.5 = 50%
	Steps    []CapacityStep `json:"steps"`

	Result     CapacityResult      `json:"result"`
	Projection *CapacityProjection `json:"projection,omitempty"`
}

// CapacityRamp is the ramp asked for.
type CapacityRamp struct {
	Rates    []float64 `json:"rates"` // every step's target rate, requests/second
	Step     float64   `json:"step,omitempty"`
	Factor   float64   `json:"factor,omitempty"`
	SettleS  float64   `json:"settle_s"`
	MeasureS float64   `json:"measure_s"`
	Confirm  bool      `json:"confirm"` // a failing step is run once more before the ramp stops
}

// CapacityStop is what fails a step. P99Ms 0 is no latency target.
type CapacityStop struct {
	P99Ms        float64 `json:"p99_ms,omitempty"`
	ErrorRate    float64 `json:"error_rate"`
	ThrottleRate float64 `json:"throttle_rate"`
	// MinAchieved is the least share of the target rate a step must
	// send; below it the load generator, not the target, is the limit.
	MinAchieved float64 `json:"min_achieved"`
}

// CapacityStep is one step's measured part.
type CapacityStep struct {
	Name   string  `json:"name"`    // "07-180rps", also its run directory's name
	RunDir string  `json:"run_dir"` // relative to the plan's directory
	Target float64 `json:"target_rps"`
	// Complete is false for a step cut short (interrupted); such a step
	// takes no part in the result.
	Complete bool    `json:"complete"`
	ElapsedS float64 `json:"elapsed_s"`

	Requests int64 `json:"requests"` // arrivals in the measured part: sent + dropped
	Sent     int64 `json:"sent"`
	OK       int64 `json:"ok"`
	Dropped  int64 `json:"dropped"`
	// Errors is failed requests other than throttled ones; Throttled is
	// 429s and the platform's throttling errors.
	Errors    int64 `json:"errors"`
	Throttled int64 `json:"throttled"`
	Cold      int64 `json:"cold"` // successful cold requests

	AchievedRPS float64 `json:"achieved_rps"` // sent per second of the measured part
	GoodputRPS  float64 `json:"goodput_rps"`  // successful per second
	// ErrorRate is (errors + dropped) / requests; ThrottleRate is
	// throttled / sent.
	ErrorRate    float64 `json:"error_rate"`
	ThrottleRate float64 `json:"throttle_rate"`

	// Latency is of successful requests, every temperature merged (HDR
	// histograms, from the intended send time).
	Latency Percentiles `json:"latency"`
	// ServiceMeanMs is the mean service time of successful requests, the
	// time each held the function.
	ServiceMeanMs float64 `json:"service_mean_ms"`
	// Concurrency is Little's law: goodput × mean service time, the
	// instances kept busy on average.
	Concurrency float64 `json:"concurrency"`
	// Instances is what the platform reported (drivers.Describer) during
	// the measured part; nil when the driver cannot tell.
	Instances *CapacityInstances `json:"instances,omitempty"`
	// Billed is the step's billed durations, for the projection.
	Billed TuneBilled `json:"billed"`

	Pass     bool     `json:"pass"`
	Failures []string `json:"failures,omitempty"` // why the step failed, one reason each
	// Attempts is 2 when the step ran again to confirm a failure; then
	// Overruled lists the first attempt's failures when the second passed.
	Attempts  int      `json:"attempts"`
	Overruled []string `json:"overruled,omitempty"`
}

// CapacityInstances is the platform's instance count over a step's measured
// part, from polling.
type CapacityInstances struct {
	Max     int     `json:"max"`
	Mean    float64 `json:"mean"`
	Samples int     `json:"samples"`
}

// CapacityResult is what the ramp found. Indexes are into Capacity.Steps, -1 for
// none.
type CapacityResult struct {
	// MaxSustainable is the last passing step before the first failing
	// one: the highest rate the target sustained.
	MaxSustainable    int     `json:"max_sustainable_step"`
	MaxSustainableRPS float64 `json:"max_sustainable_rps"`
	// Break is the first failing step; BreakRPS its target rate.
	Break    int     `json:"break_step"`
	BreakRPS float64 `json:"break_rps"`
	// Knee is the first step whose p50 or p99 rose more than the knee
	// rise over the baseline step's (the first with successful requests).
	Knee         int     `json:"knee_step"`
	KneeRPS      float64 `json:"knee_rps"`
	Baseline     int     `json:"baseline_step"`
	BaselineP50  float64 `json:"baseline_p50_ms"`
	BaselineP99  float64 `json:"baseline_p99_ms"`
	KneeReason   string  `json:"knee_reason,omitempty"`
	Summary      string  `json:"summary"` // one sentence
	ReachedMax   bool    `json:"reached_max"`
	StepsRun     int     `json:"steps_run"`
	StepsPlanned int     `json:"steps_planned"`
}

// CapacityProjection is the target traffic projected on what the ramp
// measured.
type CapacityProjection struct {
	Traffic TuneTraffic `json:"traffic"`
	// TrafficFrom is "scenario" or "max-sustainable" (no traffic given:
	// the highest rate the ramp sustained).
	TrafficFrom  string        `json:"traffic_from"`
	Headroom     float64       `json:"headroom"`
	MemoryMB     int           `json:"memory_mb"`
	MemoryFrom   string        `json:"memory_from"` // "scenario", "describe" or "default"
	Prewarm      int           `json:"prewarm"`
	KeepAlive    TuneKeepAlive `json:"keep_alive"`
	Pricing      TunePricing   `json:"pricing"`
	DurationFrom string        `json:"duration_from"` // the step whose durations are used
	Billed       TuneBilled    `json:"billed"`

	// PeakConcurrency is peak rate × busy time (Little's law);
	// Instances is that with the headroom, rounded up.
	PeakConcurrency float64 `json:"peak_concurrency"`
	Instances       int     `json:"instances"`
	// AboveMax is set when the peak is above the maximum sustainable rate.
	AboveMax bool `json:"above_max"`

	// ColdStartsPerHour is the expected cold starts in each hour of the
	// day (cost.ColdRate × rate × 3600), from 00:00.
	ColdStartsPerHour []float64 `json:"cold_starts_per_hour"`
	ColdStartsPerDay  float64   `json:"cold_starts_per_day"`
	PeakColdPerHour   float64   `json:"peak_hour_cold_starts"`
	Cost              TuneCost  `json:"cost"`
}

// WriteCapacity stores p as dir/plan.json, atomically.
func WriteCapacity(dir string, p *Capacity) error {
	return writeRecord(dir, CapacityFile, "capacity plan", p)
}

// LoadCapacity reads a capacity plan from path, a plan directory or the
// plan.json in one, checking its schema.
func LoadCapacity(path string) (*Capacity, error) {
	var p Capacity
	if err := loadRecord(path, CapacityFile, "capacity plan", "plan record", &p, &p.Schema, CapacitySchema); err != nil {
		return nil, err
	}
	return &p, nil
}
