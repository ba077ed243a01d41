package scenarios

import (
	"fmt"
	"math"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// Thresholds are a scenario's thresholds: block, pass/fail conditions on
// the merged results of a run, checked at its end (and during it with
// abort_on_fail). Each entry is an expression, or a mapping from a phase
// name to one expression or a list of them, which scopes them to that
// phase:
//
//	thresholds:
//	  - warm.p99 < 250ms                 # the whole run
//	  - cold.rate < 5%
//	  - steady: errors.rate < 0.5%       # only the phase named steady
//	  - steady: [warm.p95 < 200ms, rate >= 95%]
type Thresholds []Threshold

// Threshold is one condition: Metric Op Limit, over one phase or, when
// Phase is empty, the whole run.
type Threshold struct {
	Phase  string
	Metric Metric
	Op     Op
	// Limit is in milliseconds for a latency metric and a fraction (0.05
	// for 5%) for a rate.
	Limit float64
	// Field is where the threshold is in the scenario, such as
	// "thresholds[2].steady[1]", for errors.
	Field string
}

// String writes t the way a scenario does: "steady: warm.p99 < 250ms".
func (t Threshold) String() string {
	s := t.Metric.Name + " " + string(t.Op) + " " + t.Metric.FormatValue(t.Limit)
	if t.Phase != "" {
		return t.Phase + ": " + s
	}
	return s
}

// MarshalYAML writes t as the expression it was parsed from, so that
// thresholds written back with yaml.Marshal parse back the same.
func (t Threshold) MarshalYAML() (any, error) { return t.String(), nil }

// Pass reports whether value meets the threshold.
func (t Threshold) Pass(value float64) bool { return t.Op.Holds(value, t.Limit) }

// Op is a comparison: <, <=, > or >=.
type Op string

// Holds reports whether a Op b.
func (o Op) Holds(a, b float64) bool {
	switch o {
	case "<":
		return a < b
	case "<=":
		return a <= b
	case ">":
		return a > b
	case ">=":
		return a >= b
	}
	return false
}

// Upper reports whether the limit is an upper bound (< or <=): the metric
// fails by being too high.
func (o Op) Upper() bool { return o == "<" || o == "<=" }

// MetricKind says what a metric measures.
type MetricKind int

const (
	// Latency is a statistic of successful requests' latency (from the
	// intended send time) of one temperature, or all of them.
	Latency MetricKind = iota
	// ColdRate is cold / (cold + warm) among successful requests.
	ColdRate
	// ErrorRate is failed / sent.
	ErrorRate
	// DropRate is dropped / arrivals (the in-flight bound was hit).
	DropRate
	// Achieved is the achieved rate over the target rate.
	Achieved
)

// Metric is one measurable of a run: "warm.p99", "cold.mean",
// "all.max", "cold.rate", "errors.rate", "dropped.rate" or "rate".
type Metric struct {
	Name string // canonical: "warm.p99"
	Kind MetricKind
	// Temp is cold, warm or all, for Latency.
	Temp string
	// Stat is p (with Quantile), mean, min or max, for Latency.
	Stat     string
	Quantile float64 // percent, 0 < q ≤ 100
}

// IsRate reports whether the metric is a share (its values are fractions).
func (m Metric) IsRate() bool { return m.Kind != Latency }

// FormatValue writes v in the metric's unit: "250ms", "1.2s" or "5%".
func (m Metric) FormatValue(v float64) string {
	if m.IsRate() {
		return Percent(v).String()
	}
	return time.Duration(math.Round(v * float64(time.Millisecond))).String()
}

// metricForms lists the metric names for error messages.
const metricForms = "warm.pNN, cold.pNN or all.pNN (or .mean, .min, .max), cold.rate, errors.rate, dropped.rate or rate"

// Temperatures a latency metric may name; "all" merges every temperature.
var metricTemps = []string{"cold", "warm", "all"}

// ParseMetric parses a metric name such as "warm.p99" or "errors.rate".
func ParseMetric(s string) (Metric, error) {
	s = strings.TrimSpace(s)
	switch s {
	case "rate":
		return Metric{Name: s, Kind: Achieved}, nil
	case "cold.rate":
		return Metric{Name: s, Kind: ColdRate}, nil
	case "errors.rate", "error.rate":
		return Metric{Name: "errors.rate", Kind: ErrorRate}, nil
	case "dropped.rate":
		return Metric{Name: s, Kind: DropRate}, nil
	}
	temp, stat, ok := strings.Cut(s, ".")
	if !ok || !slices.Contains(metricTemps, temp) {
		return Metric{}, fmt.Errorf("unknown metric %q: want %s", s, metricForms)
	}
	m := Metric{Name: s, Kind: Latency, Temp: temp, Stat: stat}
	switch {
	case stat == "mean" || stat == "min" || stat == "max":
	case strings.HasPrefix(stat, "p"):
		q, err := strconv.ParseFloat(stat[1:], 64)
		if err != nil || !(q > 0 && q <= 100) || strings.ContainsAny(stat[1:], "eE+-") {
			return Metric{}, fmt.Errorf("percentile %q: want p followed by a number above 0 and at most 100, such as p99 or p99.9", stat)
		}
		m.Stat, m.Quantile = "p", q
		m.Name = temp + "." + stat
	default:
		return Metric{}, fmt.Errorf("unknown statistic %q of %s latency: want pNN (p50, p99, p99.9), mean, min or max", stat, temp)
	}
	return m, nil
}

// thresholdExpr splits "[PHASE:] METRIC OP VALUE".
var thresholdExpr = regexp.MustCompile(`^(.*?)(<=|>=|<|>|==|=|!=)(.*)$`)

// exprError is a problem at a byte offset inside an expression.
type exprError struct {
	off int
	msg string
}

func (e *exprError) Error() string { return e.msg }

// ParseThreshold parses one expression, "warm.p99 < 250ms", optionally
// prefixed with a phase, "steady: warm.p99 < 250ms". The phase is not
// checked against any scenario.
func ParseThreshold(expr string) (Threshold, error) {
	t, err := parseThreshold(expr)
	if err != nil {
		return Threshold{}, err
	}
	return t, nil
}

func parseThreshold(expr string) (Threshold, *exprError) {
	m := thresholdExpr.FindStringSubmatchIndex(expr)
	if m == nil {
		return Threshold{}, &exprError{0, fmt.Sprintf("%q is not a threshold: want METRIC OP VALUE, such as \"warm.p99 < 250ms\" or \"errors.rate < 1%%\"", expr)}
	}
	lhs, op, rhs := expr[m[2]:m[3]], expr[m[4]:m[5]], expr[m[6]:m[7]]
	var t Threshold
	metricOff := m[2]
	if i := strings.LastIndex(lhs, ":"); i >= 0 {
		t.Phase = strings.TrimSpace(lhs[:i])
		if t.Phase == "" {
			return Threshold{}, &exprError{0, "empty phase name before ':'"}
		}
		lhs, metricOff = lhs[i+1:], metricOff+i+1
	}
	metricOff += len(lhs) - len(strings.TrimLeft(lhs, " \t"))
	switch op {
	case "=", "==", "!=":
		return Threshold{}, &exprError{m[4], fmt.Sprintf("operator %s: want <, <=, > or >= (measurements are never exactly equal)", op)}
	}
	t.Op = Op(op)
	name := strings.TrimSpace(lhs)
	if name == "" {
		return Threshold{}, &exprError{metricOff, fmt.Sprintf("no metric before %s: want %s", op, metricForms)}
	}
	metric, err := ParseMetric(name)
	if err != nil {
		return Threshold{}, &exprError{metricOff, err.Error()}
	}
	t.Metric = metric
	valOff := m[6] + len(rhs) - len(strings.TrimLeft(rhs, " \t"))
	val := strings.TrimSpace(rhs)
	if val == "" {
		return Threshold{}, &exprError{valOff, "no value after " + op}
	}
	limit, msg := thresholdValue(metric, val)
	if msg != "" {
		return Threshold{}, &exprError{valOff, msg}
	}
	t.Limit = limit
	return t, nil
}

// thresholdValue parses a limit in the metric's unit: a duration for a
// latency, a share for a rate.
func thresholdValue(m Metric, val string) (float64, string) {
	if !m.IsRate() {
		d, err := time.ParseDuration(val)
		if err != nil {
			if _, nerr := strconv.ParseFloat(val, 64); nerr == nil {
				return 0, fmt.Sprintf("%s is a latency: write the unit, such as %q", m.Name, val+"ms")
			}
			return 0, fmt.Sprintf("%s is a latency: %q is not a duration such as 250ms or 1.2s", m.Name, val)
		}
		if d <= 0 {
			return 0, fmt.Sprintf("%s: the limit must be positive, got %s", m.Name, val)
		}
		return float64(d) / float64(time.Millisecond), ""
	}
	p, err := ParsePercent(val)
	if err != nil {
		if _, derr := time.ParseDuration(val); derr == nil {
			return 0, fmt.Sprintf("%s is a share, not a duration: write a percentage such as \"5%%\"", m.Name)
		}
		return 0, fmt.Sprintf("%s: %v", m.Name, err)
	}
	switch {
	case p < 0:
		return 0, fmt.Sprintf("%s: %s is negative", m.Name, val)
	case p > 1 && m.Kind != Achieved:
		return 0, fmt.Sprintf("%s: %s is more than 100%%", m.Name, val)
	case p > 10:
		return 0, fmt.Sprintf("%s: %s is more than ten times the target", m.Name, val)
	}
	return float64(p), ""
}

var thresholdsType = reflect.TypeFor[Thresholds]()

// thresholds decodes a thresholds: list. Each problem is reported at the
// token it is about: the column of the metric or value inside the string.
func (w *walker) thresholds(at, n *yaml.Node, out *Thresholds, path string) {
	if n.Kind != yaml.SequenceNode {
		w.errorf(at, path, "expected a list of expressions such as \"warm.p99 < 250ms\", got %s", describe(n))
		return
	}
	ts := Thresholds{}
	for i, item := range n.Content {
		sub := fmt.Sprintf("%s[%d]", path, i)
		w.nodes[sub] = item
		r := resolve(item)
		switch {
		case r == nil || isNull(r):
			w.errorf(item, sub, "empty list entry")
		case r.Kind == yaml.ScalarNode:
			if t, ok := w.threshold(r, sub, ""); ok {
				ts = append(ts, t)
			}
		case r.Kind == yaml.MappingNode:
			for _, kv := range w.pairs(r, sub) {
				ts = append(ts, w.phaseThresholds(kv, join(sub, kv.key.Value))...)
			}
		default:
			w.errorf(item, sub, "expected an expression such as \"warm.p99 < 250ms\" or a mapping PHASE: expression, got %s", describe(r))
		}
	}
	*out = ts
}

// phaseThresholds decodes PHASE: expression or PHASE: [expression, ...].
func (w *walker) phaseThresholds(kv pair, path string) []Threshold {
	w.nodes[path] = kv.key
	var out []Threshold
	one := func(n *yaml.Node, p string) {
		r := resolve(n)
		if r == nil || r.Kind != yaml.ScalarNode || isNull(r) {
			w.errorf(n, p, "expected an expression such as \"warm.p99 < 250ms\", got %s", describe(n))
			return
		}
		if t, ok := w.threshold(r, p, kv.key.Value); ok {
			out = append(out, t)
		}
	}
	switch v := resolve(kv.value); {
	case v != nil && v.Kind == yaml.SequenceNode:
		for i, item := range v.Content {
			p := fmt.Sprintf("%s[%d]", path, i)
			w.nodes[p] = item
			one(item, p)
		}
	default:
		one(kv.value, path)
	}
	return out
}

// threshold parses one expression node; phase, when set, is the mapping
// key it sits under (the expression then may not name another).
func (w *walker) threshold(n *yaml.Node, path, phase string) (Threshold, bool) {
	if n.ShortTag() != "!!str" {
		w.errorf(n, path, "expected an expression such as \"warm.p99 < 250ms\", got %s", describe(n))
		return Threshold{}, false
	}
	t, perr := parseThreshold(n.Value)
	if perr != nil {
		w.errorAt(n, perr.off, path, perr.msg)
		return Threshold{}, false
	}
	if phase != "" {
		if t.Phase != "" {
			w.errorAt(n, 0, path, fmt.Sprintf("the expression names phase %q under phase %q: give the phase once", t.Phase, phase))
			return Threshold{}, false
		}
		t.Phase = phase
	}
	t.Field = path
	return t, true
}

// errorAt records an error at byte offset off inside scalar n's value,
// when the value sits on one line as written (plain or quoted).
func (w *walker) errorAt(n *yaml.Node, off int, path, msg string) {
	at := *n
	if !strings.Contains(n.Value, "\n") && off > 0 && off <= len(n.Value) {
		col := utf8.RuneCountInString(n.Value[:off])
		switch n.Style {
		case 0:
			at.Column += col
		case yaml.SingleQuotedStyle, yaml.DoubleQuotedStyle:
			if !strings.ContainsAny(n.Value, `'"\`) {
				at.Column += col + 1
			}
		}
	}
	w.errorf(&at, path, "%s", msg)
}

// thresholds checks that every phase a threshold names exists, and the
// abort_on_fail settings.
func (v *validator) thresholds(s *Scenario) {
	var names []string
	for _, p := range s.Phases {
		names = append(names, p.Name)
	}
	for i, t := range s.Thresholds {
		if t.Phase == "" || slices.Contains(names, t.Phase) {
			continue
		}
		path := t.Field
		if path == "" {
			path = fmt.Sprintf("thresholds[%d]", i)
		}
		msg := fmt.Sprintf("no phase named %q (phases: %s)", t.Phase, strings.Join(names, ", "))
		if c := closest(t.Phase, names); c != "" {
			msg += fmt.Sprintf("; did you mean %q?", c)
		}
		v.add(path, "%s", msg)
	}
	if a := s.AbortOnFail; a != nil && a.Enabled {
		if len(s.Thresholds) == 0 {
			v.add("abort_on_fail", "there are no thresholds to abort on")
		}
		if a.After < 0 {
			v.add("abort_on_fail.after", "must not be negative, got %s", a.After)
		}
		if a.MinSamples < 0 {
			v.add("abort_on_fail.min_samples", "must not be negative, got %d", a.MinSamples)
		}
	}
}

// Defaults of abort_on_fail's guard against judging too early.
const (
	DefaultAbortAfter      = 5 * time.Second
	DefaultAbortMinSamples = 100
)

// Abort is abort_on_fail: stop the run once a threshold has clearly
// failed, judged on the live merged results every second. `true` takes the
// defaults; a mapping sets the guard against judging on too little data:
//
//	abort_on_fail: {after: 10s, min_samples: 200}
//
// No threshold is judged before After has passed since the start, nor on
// fewer than MinSamples samples; and a percentile or rate must be over its
// limit by more than chance allows (see internal/threshold).
type Abort struct {
	Enabled    bool
	After      Duration // default DefaultAbortAfter
	MinSamples int      // default DefaultAbortMinSamples
}

// MarshalYAML writes a the way UnmarshalYAML reads it.
func (a Abort) MarshalYAML() (any, error) {
	if !a.Enabled {
		return false, nil
	}
	return map[string]any{"after": a.After.String(), "min_samples": a.MinSamples}, nil
}

// UnmarshalYAML decodes true, false or a mapping with after and
// min_samples (which enables it).
func (a *Abort) UnmarshalYAML(n *yaml.Node) error {
	*a = Abort{After: Duration(DefaultAbortAfter), MinSamples: DefaultAbortMinSamples}
	switch {
	case n.Kind == yaml.ScalarNode && n.ShortTag() == "!!bool":
		return n.Decode(&a.Enabled)
	case n.Kind == yaml.MappingNode:
		a.Enabled = true
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, val := n.Content[i], resolve(n.Content[i+1])
			switch k.Value {
			case "after":
				d, err := durationFromNode(val)
				if err != nil {
					return fmt.Errorf("after: %v", err)
				}
				a.After = Duration(d)
			case "min_samples":
				if val.ShortTag() != "!!int" || val.Decode(&a.MinSamples) != nil {
					return fmt.Errorf("min_samples: expected an integer, got %s", describe(val))
				}
			default:
				return fmt.Errorf("%s", unknownField(k.Value, []string{"after", "min_samples"}))
			}
		}
		return nil
	}
	return fmt.Errorf("expected true, false or a mapping {after: 5s, min_samples: 100}, got %s", describe(n))
}
