package scenarios

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
	"gopkg.in/yaml.v3"
)

// Limits on rates. MaxRate is what one engine can pace: each arrival is
// handed to a worker through a channel, about a microsecond apiece, so a
// faster schedule would only fall behind and pile up overdue arrivals (it
// is also far above what any target behind one generator sustains; see
// BENCHMARKS.md). Below MinRate (about one a fortnight) a rate cannot be
// told from zero.
const (
	MaxRate Rate = 1e6
	MinRate Rate = 1e-6
)

// MaxPhaseDuration bounds one phase, so that offsets and counts never
// overflow; a soak test longer than a month is several phases.
const MaxPhaseDuration = 31 * 24 * time.Hour

var rateUnits = map[string]time.Duration{"s": time.Second, "m": time.Minute, "h": time.Hour}

const rateForms = `a number (per second) or a string such as "100/s", "6000/m" or "360000/h"`

// ParseRate parses a rate written as a number of requests per second
// ("100", "2.5") or a number per unit ("100/s", "6000/m", "360000/h").
func ParseRate(s string) (Rate, error) {
	num, unit, hasUnit := strings.Cut(strings.TrimSpace(s), "/")
	num = strings.TrimSpace(num)
	per := time.Second
	if hasUnit {
		u, ok := rateUnits[strings.TrimSpace(unit)]
		if !ok {
			return 0, fmt.Errorf("invalid rate %q: unit %q is not s, m or h; want %s", s, strings.TrimSpace(unit), rateForms)
		}
		per = u
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, fmt.Errorf("invalid rate %q: want %s", s, rateForms)
	}
	return Rate(f / per.Seconds()), nil
}

// String formats r as "N/s".
func (r Rate) String() string {
	return strconv.FormatFloat(float64(r), 'g', -1, 64) + "/s"
}

// UnmarshalYAML decodes a number or a rate string (see ParseRate).
func (r *Rate) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("expected a rate, %s, got %s", rateForms, describe(n))
	}
	switch n.ShortTag() {
	case "!!int", "!!float":
		var f float64
		if err := n.Decode(&f); err != nil {
			return fmt.Errorf("invalid rate %s: want %s", n.Value, rateForms)
		}
		*r = Rate(f)
		return nil
	case "!!str":
		v, err := ParseRate(n.Value)
		if err != nil {
			return err
		}
		*r = v
		return nil
	}
	return fmt.Errorf("expected a rate, %s, got %s", rateForms, describe(n))
}

// MarshalYAML writes r as a number per second.
func (r Rate) MarshalYAML() (any, error) { return float64(r), nil }

// check returns what is wrong with r as a rate that must be positive, or
// "" when nothing is. With zeroOK a rate of exactly 0 is allowed.
func (r Rate) check(zeroOK bool) string {
	f := float64(r)
	switch {
	case math.IsNaN(f) || math.IsInf(f, 0):
		return "must be a finite number"
	case f == 0 && zeroOK:
		return ""
	case f < 0 && zeroOK:
		return fmt.Sprintf("must not be negative, got %v", r)
	case f <= 0:
		return fmt.Sprintf("must be positive, got %v", r)
	case r > MaxRate:
		return fmt.Sprintf("%v is above the maximum %v", r, MaxRate)
	case r < MinRate:
		return fmt.Sprintf("%v is below the minimum %v", r, MinRate)
	}
	return ""
}

// pacer expresses r as a vegeta ConstantPacer: Freq hits per Per, exactly
// when r was written as N/s, N/m or N/h (or a decimal with up to six
// places), so that arrival offsets can be computed in integer arithmetic.
// r must have passed check.
func (r Rate) pacer() vegeta.ConstantPacer {
	f := float64(r)
	try := func(per time.Duration) (vegeta.ConstantPacer, bool) {
		freq := math.Round(f * per.Seconds())
		if freq < 1 || freq > math.MaxInt64/2 || freq/per.Seconds() != f {
			return vegeta.ConstantPacer{}, false
		}
		return vegeta.ConstantPacer{Freq: int(freq), Per: per}, true
	}
	for _, per := range []time.Duration{time.Second, time.Minute, time.Hour} {
		if p, ok := try(per); ok {
			return p
		}
	}
	per := time.Second
	for range 6 {
		per *= 10
		if p, ok := try(per); ok {
			return p
		}
	}
	// Not a short decimal (a share such as 100/3): approximate to a
	// millionth of a request per second.
	return vegeta.ConstantPacer{Freq: max(1, int(math.Round(f*per.Seconds()))), Per: per}
}

// ParseDuration parses a Go duration string such as "250ms" or "1m30s". A
// bare number is an error that suggests adding a unit.
func ParseDuration(s string) (Duration, error) {
	d, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil {
		if _, nerr := strconv.ParseFloat(strings.TrimSpace(s), 64); nerr == nil {
			return 0, fmt.Errorf("invalid duration %q: a number needs a unit, such as %q", s, strings.TrimSpace(s)+"s")
		}
		return 0, fmt.Errorf("invalid duration %q: want a Go duration such as \"250ms\", \"30s\" or \"1m30s\"", s)
	}
	return Duration(d), nil
}

// String formats d like time.Duration.
func (d Duration) String() string { return time.Duration(d).String() }

// UnmarshalYAML decodes a Go duration string (see ParseDuration).
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := durationFromNode(n)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML writes d as a Go duration string.
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

// durationFromNode decodes a duration string node. It serves Duration and
// time.Duration fields (in driver settings) alike, so that neither takes a
// bare number: YAML would read 30 as 30 nanoseconds.
func durationFromNode(n *yaml.Node) (time.Duration, error) {
	if n.Kind != yaml.ScalarNode {
		return 0, fmt.Errorf("expected a duration such as \"30s\", got %s", describe(n))
	}
	switch n.ShortTag() {
	case "!!int", "!!float":
		return 0, fmt.Errorf("invalid duration %s: a number needs a unit, such as %q", n.Value, n.Value+"s")
	case "!!str":
		d, err := ParseDuration(n.Value)
		return time.Duration(d), err
	}
	return 0, fmt.Errorf("expected a duration such as \"30s\", got %s", describe(n))
}

// describe names what a node holds, for "expected X, got Y" messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		if n.Alias != nil {
			return describe(n.Alias)
		}
		return "an alias"
	case yaml.DocumentNode:
		return "a document"
	}
	v := n.Value
	if len(v) > 40 {
		v = v[:37] + "..."
	}
	switch n.ShortTag() {
	case "!!str":
		return fmt.Sprintf("string %q", v)
	case "!!int", "!!float":
		return "number " + v
	case "!!bool":
		return "boolean " + v
	case "!!null":
		return "null"
	}
	return fmt.Sprintf("%s %q", n.ShortTag(), v)
}
