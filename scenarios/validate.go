package scenarios

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/coldbench/coldbench/drivers"
)

// Defaults applied by Parse after validation, and by SetDefaults.
const (
	DefaultMaxInFlight = 1000
	DefaultSeed        = 1
)

// maxTotalDuration bounds a whole scenario.
const maxTotalDuration = 366 * 24 * time.Hour

// Upper bounds on a scenario's counts and sizes, checked by Validate (the
// README's "Limits" lists them with the rate and duration bounds). Each is
// far above any real use and low enough that a typo (1e12 for 1e3) fails at
// validation instead of running away.
const (
	// MaxBurstRequests bounds one burst phase.
	MaxBurstRequests = 10_000_000
	// MaxBurstAtOnce bounds a burst with no window (within: 0), all due at
	// the phase start; a larger one needs a window the engine can pace.
	MaxBurstAtOnce = 100_000
	// MaxInFlightLimit bounds max_in_flight: each request in flight is a
	// goroutine and a connection.
	MaxInFlightLimit = 1_000_000
	// MaxPhases bounds the phases of a scenario, MaxSteps a steps phase.
	MaxPhases = 10_000
	MaxSteps  = 10_000
	// MaxScenarioBytes bounds a scenario file.
	MaxScenarioBytes = 4 << 20
)

// Validate checks a scenario built in Go. The errors carry field paths but
// no positions; Parse runs the same checks and adds them. It returns nil or
// an Errors.
func (s *Scenario) Validate() error {
	v := &validator{file: s.File}
	v.scenario(s)
	return v.errs.err()
}

// SetDefaults fills in what a scenario may leave out: MaxInFlight (1000),
// Seed (1) and, for a registered driver, the driver's default
// configuration when Target.Config is nil.
func (s *Scenario) SetDefaults() {
	if s.MaxInFlight == 0 {
		s.MaxInFlight = DefaultMaxInFlight
	}
	if s.Seed == 0 {
		s.Seed = DefaultSeed
	}
	if s.Target.Config == nil && s.Target.Driver != "" {
		if f, err := drivers.Lookup(s.Target.Driver); err == nil {
			s.Target.Config = f.Config()
		}
	}
	s.resolveReplayFiles()
}

// SetTarget points s at url, for `--target URL`: when the driver's
// configuration takes a URL (drivers.URLSetter) it is set there; otherwise
// the target becomes the "http" driver with its default configuration and
// that URL. It records url in s.TargetURL, for agents in other processes,
// which apply it to s.Source with SetTarget too.
func SetTarget(s *Scenario, url string) error {
	if err := setTarget(s, url); err != nil {
		return err
	}
	s.TargetURL = url
	return nil
}

func setTarget(s *Scenario, url string) error {
	if s.Target.Config == nil && s.Target.Driver != "" {
		if f, err := drivers.Lookup(s.Target.Driver); err == nil {
			s.Target.Config = f.Config()
		}
	}
	if u, ok := s.Target.Config.(drivers.URLSetter); ok {
		if err := u.SetURL(url); err != nil {
			return fmt.Errorf("set target %q for driver %s: %w", url, s.Target.Driver, err)
		}
		return nil
	}
	f, err := drivers.Lookup("http")
	if err != nil {
		return fmt.Errorf("set target %q: %w", url, err)
	}
	cfg := f.Config()
	u, ok := cfg.(drivers.URLSetter)
	if !ok {
		return fmt.Errorf("set target %q: the http driver's config %T takes no URL", url, cfg)
	}
	if err := u.SetURL(url); err != nil {
		return fmt.Errorf("set target %q: %w", url, err)
	}
	s.Target = Target{Driver: "http", Config: cfg}
	return nil
}

// validator collects the semantic errors of a decoded scenario. From Parse
// it knows which fields were written (present) and which failed to decode
// (bad, whose follow-on errors it drops); from Validate it knows neither.
type validator struct {
	file    string
	errs    Errors
	present map[string]bool // nil: treat every field as written
	bad     map[string]bool
}

// add records an error at path, unless path (or a field above it) already
// failed to decode.
func (v *validator) add(path, format string, args ...any) {
	for p := path; ; p = parent(p) {
		if v.bad[p] {
			return
		}
		if p == "" {
			break
		}
	}
	v.errs = append(v.errs, &Error{File: v.file, Field: path, Msg: fmt.Sprintf(format, args...)})
}

// written reports whether the field at path was given in the file.
func (v *validator) written(path string) bool { return v.present == nil || v.present[path] }

// duration checks a duration that must be set and positive.
func (v *validator) duration(path string, d Duration) {
	switch {
	case d == 0 && !v.written(path):
		v.add(path, "is required, such as \"30s\"")
	case d <= 0:
		v.add(path, "must be positive, got %s", d)
	case time.Duration(d) > MaxPhaseDuration:
		v.add(path, "%s is longer than the maximum %s", d, MaxPhaseDuration)
	}
}

// rate checks a rate; zeroOK allows exactly 0 (a ramp's end).
func (v *validator) rate(path string, r Rate, zeroOK bool) {
	if r == 0 && !v.written(path) {
		v.add(path, "is required, such as 100 or \"100/s\"")
		return
	}
	if msg := r.check(zeroOK); msg != "" {
		v.add(path, "%s", msg)
	}
}

func (v *validator) scenario(s *Scenario) {
	if strings.TrimSpace(s.Name) == "" {
		v.add("name", "is required")
	}
	v.target(&s.Target)
	v.agentLoss(s.OnAgentLoss)
	v.trace(&s.Trace) // trace.go
	switch {
	case s.MaxInFlight < 0:
		v.add("max_in_flight", "must not be negative, got %d", s.MaxInFlight)
	case s.MaxInFlight > MaxInFlightLimit:
		v.add("max_in_flight", "%d is above the maximum %d", s.MaxInFlight, MaxInFlightLimit)
	}
	for i, h := range s.Cold.Headers {
		if strings.TrimSpace(h) == "" {
			v.add(fmt.Sprintf("cold.headers[%d]", i), "empty header name")
		}
	}
	v.coldBody(s)
	switch {
	case len(s.Phases) == 0:
		v.add("phases", "at least one phase is required")
	case len(s.Phases) > MaxPhases:
		v.add("phases", "%d phases, more than the maximum %d", len(s.Phases), MaxPhases)
	}
	names := map[string]int{}
	var total time.Duration
	for i := range s.Phases {
		path := fmt.Sprintf("phases[%d]", i)
		p := &s.Phases[i]
		switch first, dup := names[p.Name]; {
		case strings.TrimSpace(p.Name) == "":
			v.add(path+".name", "is required")
		case dup:
			v.add(path+".name", "duplicate phase name %q (also phases[%d])", p.Name, first)
		default:
			names[p.Name] = i
		}
		v.phase(path, p)
		total += min(max(p.span(v.file), 0), MaxPhaseDuration)
	}
	if total > maxTotalDuration {
		v.add("phases", "the phases last %s, more than the maximum %s", total, maxTotalDuration)
	}
	if s.Tune != nil {
		v.tune(s.Tune) // tune.go
	}
	if s.Capacity != nil {
		v.capacity(s.Capacity) // capacity.go
	}
	if s.Telemetry != nil {
		v.telemetry(s.Telemetry) // telemetry.go
	}
	v.thresholds(s) // thresholds.go
}

func (v *validator) target(t *Target) {
	if t.Driver == "" {
		v.add("target.driver", "is required (known drivers: %s)", strings.Join(drivers.Names(), ", "))
		return
	}
	f, err := drivers.Lookup(t.Driver)
	if err != nil {
		v.add("target.driver", "%s", err.Error())
		return
	}
	if t.Config == nil {
		return // SetDefaults fills in the driver's defaults
	}
	if want := reflect.TypeOf(f.Config()); reflect.TypeOf(t.Config) != want {
		v.add("target", "config is %T, but driver %s wants %s", t.Config, t.Driver, want)
		return
	}
	if c, ok := t.Config.(interface{ Validate() error }); ok {
		v.driverErrors(c.Validate())
	}
}

// driverErrors records the errors of a driver configuration's Validate,
// each *drivers.FieldError at its field below target.
func (v *validator) driverErrors(err error) {
	if err == nil {
		return
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			v.driverErrors(e)
		}
		return
	}
	var fe *drivers.FieldError
	if errors.As(err, &fe) {
		path := "target"
		if fe.Field != "" {
			path = "target." + strings.TrimPrefix(fe.Field, ".")
		}
		v.add(path, "%s", fe.Msg)
		return
	}
	v.add("target", "%s", err.Error())
}

// span is how long the phase lasts: its duration, or for a steps phase
// that leaves it out, the sum of the steps', and for a replay phase the
// replay's (its file found from the scenario file's).
func (p *Phase) span(file string) time.Duration {
	if (p.AzureTrace != nil || p.RequestLog != nil) && p.Duration == 0 {
		return p.replaySpan(file)
	}
	if p.Steps == nil || p.Duration != 0 {
		return time.Duration(p.Duration)
	}
	var sum time.Duration
	for _, st := range p.Steps {
		sum += time.Duration(st.Duration)
	}
	return sum
}

// shapeNames are a phase's arrival shapes, in the order they are checked.
var shapeNames = []string{"rate", "ramp", "steps", "burst", "poisson", "idle", "azure_trace", "request_log"}

// shapes lists the arrival shapes a phase sets.
func (p *Phase) shapes() []string {
	set := []bool{p.Rate != nil, p.Ramp != nil, p.Steps != nil, p.Burst != nil, p.Poisson != nil, p.Idle, p.AzureTrace != nil, p.RequestLog != nil}
	var out []string
	for i, ok := range set {
		if ok {
			out = append(out, shapeNames[i])
		}
	}
	return out
}

func (v *validator) phase(path string, p *Phase) {
	shapes := p.shapes()
	if len(shapes) == 0 {
		// A shape that was written but failed to decode (idle: "yes") is
		// already reported; do not add "no arrival shape" to it.
		for _, name := range shapeNames {
			if v.bad[path+"."+name] {
				return
			}
		}
	}
	switch len(shapes) {
	case 0:
		v.add(path, "no arrival shape: set one of rate, ramp, steps, burst, poisson, azure_trace, request_log or idle: true")
	case 1:
	default:
		v.add(path+"."+shapes[1], "the phase already has %s; a phase has exactly one arrival shape", shapes[0])
	}
	switch {
	case p.Steps != nil:
		v.steps(path, p)
	case p.AzureTrace != nil || p.RequestLog != nil:
		v.replayPhase(path, p) // replay.go
	default:
		v.duration(path+".duration", p.Duration)
	}
	if p.Targets != nil {
		v.targetsPhase(path, p) // targets.go
	}
	if p.Rate != nil {
		v.rate(path+".rate", *p.Rate, false)
	}
	if p.Poisson != nil {
		v.rate(path+".poisson", *p.Poisson, false)
	}
	if r := p.Ramp; r != nil {
		v.rate(path+".ramp.from", r.From, true)
		v.rate(path+".ramp.to", r.To, true)
		from, to := path+".ramp.from", path+".ramp.to"
		if r.From == 0 && r.To == 0 && v.written(from) && v.written(to) && !v.bad[from] && !v.bad[to] {
			v.add(path+".ramp", "from 0 to 0 sends nothing; use idle: true for a pause")
		}
	}
	if b := p.Burst; b != nil {
		switch {
		case b.Requests == 0 && !v.written(path+".burst.requests"):
			v.add(path+".burst.requests", "is required")
		case b.Requests <= 0:
			v.add(path+".burst.requests", "must be positive, got %d", b.Requests)
		case b.Requests > MaxBurstRequests:
			v.add(path+".burst.requests", "%d is above the maximum %d requests in a burst", b.Requests, MaxBurstRequests)
		case b.Within == 0 && b.Requests > MaxBurstAtOnce:
			v.add(path+".burst.requests", "%d all at once is above the maximum %d; give the burst a window (within) the engine can pace at %v or less", b.Requests, MaxBurstAtOnce, MaxRate)
		case b.Within > 0 && Rate(float64(b.Requests)/time.Duration(b.Within).Seconds()) > MaxRate:
			v.add(path+".burst", "%d requests within %s is %v, faster than the engine can pace (maximum %v)",
				b.Requests, b.Within, Rate(float64(b.Requests)/time.Duration(b.Within).Seconds()), MaxRate)
		}
		switch {
		case b.Within < 0:
			v.add(path+".burst.within", "must not be negative, got %s", b.Within)
		case p.Duration > 0 && b.Within > p.Duration:
			v.add(path+".burst.within", "%s is longer than the phase (%s)", b.Within, p.Duration)
		}
	}
}

// steps checks a steps phase; its duration, if written, must be the sum of
// the steps'.
func (v *validator) steps(path string, p *Phase) {
	switch {
	case len(p.Steps) == 0:
		v.add(path+".steps", "at least one step is required")
	case len(p.Steps) > MaxSteps:
		v.add(path+".steps", "%d steps, more than the maximum %d", len(p.Steps), MaxSteps)
		return
	}
	var sum Duration
	ok := true
	for i, st := range p.Steps {
		sp := fmt.Sprintf("%s.steps[%d]", path, i)
		v.rate(sp+".rate", st.Rate, false)
		v.duration(sp+".duration", st.Duration)
		if st.Duration <= 0 || time.Duration(st.Duration) > MaxPhaseDuration {
			ok = false
		}
		sum += st.Duration
	}
	if !ok || len(p.Steps) == 0 {
		return
	}
	switch {
	case time.Duration(sum) > MaxPhaseDuration:
		v.add(path+".steps", "the steps last %s, longer than the maximum %s", sum, MaxPhaseDuration)
	case p.Duration != 0 && p.Duration != sum:
		v.add(path+".duration", "%s differs from the steps' total %s; leave it out or make them agree", p.Duration, sum)
	case p.Duration == 0 && v.present != nil && v.written(path+".duration"):
		v.add(path+".duration", "must be positive, got 0s")
	}
}

// parent strips the last segment of a field path: "phases[2].ramp.from" →
// "phases[2].ramp" → "phases[2]" → "phases" → "".
func parent(path string) string {
	i := strings.LastIndexAny(path, ".[")
	if i < 0 {
		return ""
	}
	return path[:i]
}

// coldBody checks cold.body: at least one field, paths that parse, and a
// driver that reads response bodies.
func (v *validator) coldBody(s *Scenario) {
	b := s.Cold.Body
	if b == nil {
		return
	}
	if b.Cold == "" && b.Instance == "" {
		v.add("cold.body", "names no field: set cold, instance or both, such as {cold: cold, instance: instance}")
		return
	}
	for _, f := range []struct{ path, val string }{{"cold.body.cold", b.Cold}, {"cold.body.instance", b.Instance}} {
		if f.val == "" {
			continue
		}
		if _, err := drivers.ParseBodyPath(f.val); err != nil {
			v.add(f.path, "%s", err.Error())
		}
	}
	if s.Target.Config != nil {
		if _, ok := s.Target.Config.(drivers.ColdBodySetter); !ok {
			v.add("cold.body", "driver %s does not read response bodies; body markers work with http, sim, knative, openfaas, cloudrun and lambda", s.Target.Driver)
		}
	}
}
