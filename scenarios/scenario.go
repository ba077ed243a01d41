// Package scenarios holds the scenario schema: loading YAML strictly, with
// errors that name file:line:column and the field; compiling phases into
// arrival schedules; and the built-in scenarios embedded in the binary.
package scenarios

import (
	"time"

	"github.com/coldbench/coldbench/drivers"
)

// Scenario is one traffic scenario, as written in YAML. It is plain data:
// Load decodes and validates it.
type Scenario struct {
	Name        string  `yaml:"name"`
	Description string  `yaml:"description"`
	Target      Target  `yaml:"target"`
	Cold        Cold    `yaml:"cold"`
	MaxInFlight int     `yaml:"max_in_flight"` // default 1000
	Seed        int64   `yaml:"seed"`          // seeds random arrivals and request ids; 0 means 1
	Phases      []Phase `yaml:"phases"`
	// Tune is what `coldbench tune` sweeps; `coldbench run` ignores it.
	Tune *Tune `yaml:"tune"`
	// Capacity is what `coldbench plan` ramps; `coldbench run` ignores it.
	Capacity *Capacity `yaml:"capacity"`
	// OnAgentLoss says what a distributed run does when an agent is lost:
	// abort, continue (the default) or rebalance.
	OnAgentLoss AgentLoss `yaml:"on_agent_loss"`
	// Trace is the W3C trace context sent with every request (trace.go).
	Trace Trace `yaml:"trace"`
	// Telemetry exports the run's metrics while it goes (OTLP,
	// Prometheus); nil for none.
	Telemetry *Telemetry `yaml:"telemetry"`
	// Thresholds are pass/fail conditions on the merged results; a failed
	// one makes `coldbench run` exit 1 (thresholds.go).
	Thresholds Thresholds `yaml:"thresholds"`
	// AbortOnFail checks the thresholds during the run too, and stops it
	// when one has clearly failed.
	AbortOnFail *Abort `yaml:"abort_on_fail"`

	// File is where the scenario came from: a path, or "builtin:NAME".
	File string `yaml:"-"`
	// Source is the YAML text it was parsed from, kept beside each run so
	// the run can be reproduced.
	Source []byte `yaml:"-"`
	// TargetURL is the URL SetTarget pointed s at (`--target URL`), empty
	// when none: an override that Source does not say. A controller sends
	// agents Source and TargetURL, and each applies it with SetTarget.
	// Other changes made in Go after Parse reach no agent in another
	// process.
	TargetURL string `yaml:"-"`
}

// Target names the driver and carries its settings. In YAML the settings sit
// beside `driver:`; they are decoded strictly into the struct the driver's
// Factory.Config returns.
type Target struct {
	Driver string `yaml:"driver"`
	Config any    `yaml:"-"` // the driver's decoded configuration
}

// Cold says how to tell cold requests from warm ones when the driver's
// platform signal is absent.
type Cold struct {
	// Headers whose value "true", "1", "yes" or "cold" marks a cold start.
	Headers []string `yaml:"headers"`
	// InstanceHeader names a header carrying an instance id; the first
	// request seen for an id is cold.
	InstanceHeader string `yaml:"instance_header"`
	// Body names JSON fields of the response body (the Lambda Invoke
	// payload included) that carry the cold flag and the instance id; read
	// only when the platform and the headers said nothing.
	Body *ColdBody `yaml:"body"`
	// Infer enables the latency-gap classifier as a last resort. Default on.
	Infer *bool `yaml:"infer"`
	// IgnorePlatform drops the driver's own signal (for testing inference).
	IgnorePlatform bool `yaml:"ignore_platform"`
}

// ColdBody names the body's marker fields, each a dotted path ("meta.cold")
// or a JSON pointer ("/meta/cold"). At least one is required.
type ColdBody struct {
	Cold     string `yaml:"cold"`     // true, a non-zero number or "true"/"1"/"yes"/"cold" marks a cold start
	Instance string `yaml:"instance"` // an instance id: the first request seen for it is cold
}

// Markers converts b for drivers.ColdBodySetter; nil gives none.
func (b *ColdBody) Markers() drivers.BodyMarkers {
	if b == nil {
		return drivers.BodyMarkers{}
	}
	return drivers.BodyMarkers{Cold: b.Cold, Instance: b.Instance}
}

// InferEnabled reports whether inference is on (the default).
func (c Cold) InferEnabled() bool { return c.Infer == nil || *c.Infer }

// Phase is one stretch of the scenario with exactly one arrival shape.
// Duration is required, except for a steps phase, whose duration is the sum
// of its steps (when given, it must equal that sum), and for the replay
// shapes, which last as long as their trace or log (when given, it must be
// at least that).
type Phase struct {
	Name     string   `yaml:"name"`
	Duration Duration `yaml:"duration"`

	Rate    *Rate  `yaml:"rate"`    // constant
	Ramp    *Ramp  `yaml:"ramp"`    // linear from → to over the duration
	Steps   []Step `yaml:"steps"`   // constant rates, one after the other
	Burst   *Burst `yaml:"burst"`   // N requests evenly spread within a window at the phase start
	Idle    bool   `yaml:"idle"`    // no traffic
	Poisson *Rate  `yaml:"poisson"` // random arrivals at this mean rate, seeded

	AzureTrace *AzureTrace `yaml:"azure_trace"` // replay an Azure Functions invocation-count trace (replay.go)
	RequestLog *RequestLog `yaml:"request_log"` // replay a log of requests, each with its own method, path, headers and body

	// Targets takes the phase's requests from a vegeta targets file (targets.go).
	Targets *VegetaTargets `yaml:"targets"`
}

// Ramp is a linear change of rate.
type Ramp struct {
	From Rate `yaml:"from"`
	To   Rate `yaml:"to"`
}

// Step is one constant-rate stretch of a steps phase.
type Step struct {
	Rate     Rate     `yaml:"rate"`
	Duration Duration `yaml:"duration"`
}

// Burst is a fixed number of requests spread evenly within a window at the
// phase start. A zero (or omitted) Within sends them all at once.
type Burst struct {
	Requests int      `yaml:"requests"`
	Within   Duration `yaml:"within"`
}

// Rate is a request rate in requests per second. In YAML it is a number
// (per second) or a string: a number with an optional unit, "100/s",
// "6000/m" or "360000/h" (per second, minute or hour), or a bare "100" (per
// second). Anything else is an error that says so.
type Rate float64

// Duration is a time.Duration written as a Go duration string ("30s",
// "250ms", "1m30s"). A bare number is rejected: YAML cannot say whether 30
// means seconds or nanoseconds, so the message suggests "30s".
type Duration time.Duration

// Schedule is a phase's arrival process: when each arrival is due, so
// that latency can be taken from the intended send time. It is all the
// engine needs; Pacer makes one a vegeta Pacer, whose Pace waits
// At(hits)−elapsed (0 when that arrival is already due) and says stop when
// At(hits) is false or elapsed has reached the phase duration. A stop ends
// the arrivals, not the phase: the engine still waits out its Duration.
type Schedule interface {
	// At returns the offset from the phase start at which arrival n (from 0)
	// is due, and false when the phase holds no arrival n.
	At(n uint64) (time.Duration, bool)
}

// Plan is a compiled scenario, or one agent's share of it.
type Plan struct {
	Scenario *Scenario
	Phases   []PlannedPhase
	// Part and Parts say which share this is: part Part of Parts, from 0.
	// A whole plan is part 0 of 1.
	Part, Parts int
}

// PlannedPhase is one phase ready to run. The phase lasts Duration whatever
// its Schedule does: a burst or idle schedule stops early (Pace says stop,
// At says false), and the next phase still starts at its own Start.
type PlannedPhase struct {
	Name     string
	Start    time.Duration // offset of the phase from the start of the run
	Duration time.Duration
	Schedule Schedule
	Planned  int64   // number of arrivals At yields over Duration; -1 if random (poisson)
	Rate     float64 // mean target rate over the phase, requests/second
}
