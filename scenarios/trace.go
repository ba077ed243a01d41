package scenarios

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Trace is a scenario's `trace:` block: the W3C trace context every request
// carries, so that the function's spans can be found by the trace ids
// coldbench keeps as exemplars. Trace context is on by default, every
// request sampled.
type Trace struct {
	// Enabled turns trace context on or off (default on).
	Enabled *bool `yaml:"enabled"`
	// Sampled is the share of requests sent with the sampled flag: true
	// (all, the default), false (none) or a fraction such as 0.1.
	Sampled *SampleRatio `yaml:"sampled"`
	// TraceState is sent as the tracestate header on every request.
	TraceState string `yaml:"tracestate"`
}

// On reports whether trace context is sent (the default).
func (t Trace) On() bool { return t.Enabled == nil || *t.Enabled }

// Ratio is the share of requests sampled: 1 unless set.
func (t Trace) Ratio() float64 {
	if t.Sampled == nil {
		return 1
	}
	return float64(*t.Sampled)
}

// SampleRatio is a share of requests in [0, 1]. In YAML it is true (1),
// false (0) or a number from 0 to 1.
type SampleRatio float64

// UnmarshalYAML decodes true, false or a fraction.
func (r *SampleRatio) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("expected true, false or a fraction such as 0.1, got %s", describe(n))
	}
	switch strings.ToLower(n.Value) {
	case "true":
		*r = 1
		return nil
	case "false":
		*r = 0
		return nil
	}
	f, err := strconv.ParseFloat(n.Value, 64)
	if err != nil || math.IsNaN(f) || f < 0 || f > 1 {
		return fmt.Errorf("invalid sampled %q: want true, false or a fraction from 0 to 1", n.Value)
	}
	*r = SampleRatio(f)
	return nil
}

// maxTraceState is the length the W3C spec asks every vendor to propagate;
// longer values may be cut by any hop, and Lambda's client context is
// small, so coldbench refuses them.
const maxTraceState = 512

// tracestate list-members, from the W3C spec: key "=" value, where a key
// is a simple key or tenant@system.
var traceStateMember = regexp.MustCompile(`^([a-z0-9][_0-9a-z\-*/]{0,255}|[a-z0-9][_0-9a-z\-*/]{0,240}@[a-z][_0-9a-z\-*/]{0,13})=[\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,255}[\x21-\x2b\x2d-\x3c\x3e-\x7e]$`)

// trace checks a trace: block.
func (v *validator) trace(t *Trace) {
	if t.Sampled != nil && (*t.Sampled < 0 || *t.Sampled > 1) {
		v.add("trace.sampled", "must be from 0 to 1, got %v", float64(*t.Sampled))
	}
	if err := checkTraceState(t.TraceState); err != nil {
		v.add("trace.tracestate", "%v", err)
	}
}

// checkTraceState checks a tracestate value against the W3C spec.
func checkTraceState(s string) error {
	if s == "" {
		return nil
	}
	if len(s) > maxTraceState {
		return fmt.Errorf("is %d characters, more than %d", len(s), maxTraceState)
	}
	members := strings.Split(s, ",")
	if len(members) > 32 {
		return fmt.Errorf("has %d list members, more than 32", len(members))
	}
	for _, m := range members {
		m = strings.Trim(m, " \t")
		if !traceStateMember.MatchString(m) {
			return fmt.Errorf("member %q is not key=value as W3C trace context allows (lower-case key, printable value without ',' or '=')", m)
		}
	}
	return nil
}
