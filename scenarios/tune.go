package scenarios

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/coldbench/coldbench/pricing"
)

// Tune is a scenario's tune: block, what `coldbench tune` sweeps and how it
// chooses. Every field is optional; internal/tune fills in the defaults and
// `coldbench tune` flags override fields one by one.
//
//	tune:
//	  memory: [512, 1024, 1769, 3008]     # MB
//	  prewarm: [0, 2, 5]                  # provisioned concurrency / min instances
//	  samples: {cold: 10, warm: 50}       # per setting
//	  strategy: slo                       # cost | speed | balanced | slo
//	  slo: {warm_p99: 250ms, cold_p99: 1.5s, cold_rate: 5%}
//	  traffic: {rate: 20/s, daily: [0.2, 0.2, ..., 1.5, 1.2]}   # or requests_per_month: 10000000
//	  pricing: {table: aws-lambda-arm64, per_million_requests: 0.2}
//	  current: {memory: 1024, prewarm: 0}
type Tune struct {
	Memory  []int `yaml:"memory"`  // memory sizes, MB
	Prewarm []int `yaml:"prewarm"` // prewarm levels: instances kept initialized
	// KeepWarm makes prewarm levels ping schedules instead of the
	// platform's prewarm, for platforms that have none.
	KeepWarm *KeepWarm `yaml:"keep_warm"`
	Samples  Samples   `yaml:"samples"`
	Strategy string    `yaml:"strategy"`
	// Weight is balanced's weight on cost against latency, 0 to 1.
	Weight  *float64     `yaml:"weight"`
	SLO     SLO          `yaml:"slo"`
	Traffic Traffic      `yaml:"traffic"`
	Pricing Pricing      `yaml:"pricing"`
	Current *TuneSetting `yaml:"current"`
	// KeepAlive is how long the platform keeps an idle instance, for the
	// cold-start model; by default the emulator's setting or 5 minutes.
	KeepAlive Duration `yaml:"keep_alive"`
	// Phases runs the scenario's phases at every setting (default true).
	Phases *bool `yaml:"phases"`
}

// Strategies a tune: block may name.
const (
	StrategyCost     = "cost"     // the cheapest setting
	StrategySpeed    = "speed"    // the fastest; the cheapest of equally fast ones
	StrategyBalanced = "balanced" // the best weighted sum of normalised cost and latency
	StrategySLO      = "slo"      // the cheapest that meets every latency target
)

// Strategies lists the strategy names.
var Strategies = []string{StrategyCost, StrategySpeed, StrategyBalanced, StrategySLO}

// KeepWarm is a keep-warm ping schedule: every Every, as many concurrent
// pings as the prewarm level. Concurrent, when set, stands for the prewarm
// levels [0, Concurrent], so it cannot be given with prewarm:.
type KeepWarm struct {
	Every      Duration `yaml:"every"`
	Concurrent int      `yaml:"concurrent"`
}

// Samples is how many requests to measure on purpose at each setting.
type Samples struct {
	Cold *int `yaml:"cold"` // each on a new instance
	Warm *int `yaml:"warm"` // one after another, on a warm instance
}

// SLO is the latency targets of strategy slo; zero fields are not targets.
type SLO struct {
	WarmP50  Duration `yaml:"warm_p50"`
	WarmP99  Duration `yaml:"warm_p99"`
	ColdP99  Duration `yaml:"cold_p99"`
	ColdRate *Percent `yaml:"cold_rate"` // projected at the traffic
}

// Empty reports whether s sets no target.
func (s SLO) Empty() bool {
	return s.WarmP50 == 0 && s.WarmP99 == 0 && s.ColdP99 == 0 && s.ColdRate == nil
}

// Traffic is the load costs are projected for: requests a month, or a rate
// with an optional daily pattern of 24 hourly multipliers.
type Traffic struct {
	RequestsPerMonth float64   `yaml:"requests_per_month"`
	Rate             *Rate     `yaml:"rate"`
	Daily            []float64 `yaml:"daily"`
}

// Pricing names a built-in pricing table and overrides any of its rates.
type Pricing struct {
	Table             string `yaml:"table"`
	pricing.Overrides `yaml:",inline"`
}

// TuneSetting is one memory size and prewarm level.
type TuneSetting struct {
	Memory  int `yaml:"memory"`
	Prewarm int `yaml:"prewarm"`
}

// Percent is a share written as "5%" or as a fraction, 0.05.
type Percent float64

// ParsePercent parses "5%", "0.5 %" or a fraction from 0 to 1.
func ParsePercent(s string) (Percent, error) {
	t := strings.TrimSpace(s)
	div := 1.0
	if num, ok := strings.CutSuffix(t, "%"); ok {
		t, div = strings.TrimSpace(num), 100
	}
	f, err := strconv.ParseFloat(t, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, fmt.Errorf("invalid share %q: want a percentage such as \"5%%\" or a fraction such as 0.05", s)
	}
	if div == 1 && f > 1 {
		return 0, fmt.Errorf("share %v is more than 1: write %q for a percentage", f, t+"%")
	}
	return Percent(f / div), nil
}

// UnmarshalYAML decodes a percentage string or a fraction.
func (p *Percent) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("expected a share such as \"5%%\" or 0.05, got %s", describe(n))
	}
	v, err := ParsePercent(n.Value)
	if err != nil {
		return err
	}
	*p = v
	return nil
}

// String formats p as a percentage.
func (p Percent) String() string { return strconv.FormatFloat(float64(p)*100, 'g', -1, 64) + "%" }

// Tuning limits. Memory spans every platform coldbench prices (Lambda
// allows 128 to 10,240 MB, Cloud Run up to 32 GiB); a driver rejects what
// its platform does not.
const (
	MinTuneMemoryMB = 128
	MaxTuneMemoryMB = 32768
	MaxTunePrewarm  = 10000
	MaxTuneSamples  = 10000
	maxSettings     = 400
)

// tune checks a tune: block.
func (v *validator) tune(t *Tune) {
	const p = "tune"
	v.intList(p+".memory", t.Memory, MinTuneMemoryMB, MaxTuneMemoryMB, "MB")
	v.intList(p+".prewarm", t.Prewarm, 0, MaxTunePrewarm, "")
	if n := max(len(t.Memory), 1) * max(len(t.Prewarm), 1); n > maxSettings {
		v.add(p+".memory", "%d settings to sweep (memory × prewarm), more than the maximum %d", n, maxSettings)
	}
	if kw := t.KeepWarm; kw != nil {
		v.duration(p+".keep_warm.every", kw.Every)
		switch {
		case kw.Concurrent < 0 || kw.Concurrent > MaxTunePrewarm:
			v.add(p+".keep_warm.concurrent", "%d: want 0 to %d", kw.Concurrent, MaxTunePrewarm)
		case kw.Concurrent > 0 && len(t.Prewarm) > 0:
			v.add(p+".keep_warm.concurrent", "with keep_warm each prewarm level is a number of concurrent pings; give prewarm: or keep_warm.concurrent, not both")
		}
	}
	for _, s := range []struct {
		name string
		n    *int
	}{{"cold", t.Samples.Cold}, {"warm", t.Samples.Warm}} {
		if s.n != nil && (*s.n < 0 || *s.n > MaxTuneSamples) {
			v.add(p+".samples."+s.name, "%d: want 0 to %d", *s.n, MaxTuneSamples)
		}
	}
	v.strategy(t)
	v.traffic(p+".traffic", &t.Traffic)
	v.pricing(p+".pricing", &t.Pricing)
	if c := t.Current; c != nil {
		if c.Memory < MinTuneMemoryMB || c.Memory > MaxTuneMemoryMB {
			v.add(p+".current.memory", "%d MB: want %d to %d", c.Memory, MinTuneMemoryMB, MaxTuneMemoryMB)
		}
		if c.Prewarm < 0 || c.Prewarm > MaxTunePrewarm {
			v.add(p+".current.prewarm", "%d: want 0 to %d", c.Prewarm, MaxTunePrewarm)
		}
	}
	if t.KeepAlive < 0 || (t.KeepAlive == 0 && v.present != nil && v.written(p+".keep_alive")) {
		v.add(p+".keep_alive", "must be positive, got %s", t.KeepAlive)
	}
}

// intList checks a list of distinct integers in [lo, hi].
func (v *validator) intList(path string, xs []int, lo, hi int, unit string) {
	if xs != nil && len(xs) == 0 {
		v.add(path, "empty list: leave it out for the default")
	}
	if unit != "" {
		unit = " " + unit
	}
	seen := map[int]int{}
	for i, x := range xs {
		at := fmt.Sprintf("%s[%d]", path, i)
		if first, dup := seen[x]; dup {
			v.add(at, "%d is listed twice (also [%d])", x, first)
			continue
		}
		seen[x] = i
		if x < lo || x > hi {
			v.add(at, "%d%s: want %d to %d", x, unit, lo, hi)
		}
	}
}

func (v *validator) strategy(t *Tune) {
	const p = "tune"
	if t.Strategy != "" && !slices.Contains(Strategies, t.Strategy) {
		msg := fmt.Sprintf("unknown strategy %q (known: %s)", t.Strategy, strings.Join(Strategies, ", "))
		if s := closest(t.Strategy, Strategies); s != "" {
			msg += fmt.Sprintf("; did you mean %q?", s)
		}
		v.add(p+".strategy", "%s", msg)
	}
	if w := t.Weight; w != nil {
		switch {
		case math.IsNaN(*w) || *w < 0 || *w > 1:
			v.add(p+".weight", "%v: want 0 (all latency) to 1 (all cost)", *w)
		case t.Strategy != StrategyBalanced && t.Strategy != "":
			v.add(p+".weight", "only strategy balanced takes a weight (strategy is %s)", t.Strategy)
		}
	}
	slo := t.SLO
	for _, d := range []struct {
		name string
		d    Duration
	}{{"warm_p50", slo.WarmP50}, {"warm_p99", slo.WarmP99}, {"cold_p99", slo.ColdP99}} {
		if d.d < 0 {
			v.add(p+".slo."+d.name, "must be positive, got %s", d.d)
		}
	}
	if r := slo.ColdRate; r != nil && (*r < 0 || *r > 1) {
		v.add(p+".slo.cold_rate", "%s: want 0%% to 100%%", *r)
	}
	if t.Strategy == StrategySLO && slo.Empty() && !v.bad[p+".slo"] {
		v.add(p+".slo", "strategy slo needs at least one target: warm_p50, warm_p99, cold_p99 or cold_rate")
	}
}

func (v *validator) traffic(p string, t *Traffic) {
	// requests_per_month: 0 says nothing, so it may stand beside a rate
	// (as written by a tool that writes every field).
	switch {
	case t.RequestsPerMonth != 0 && t.Rate != nil:
		v.add(p+".rate", "give requests_per_month or rate, not both")
	case math.IsNaN(t.RequestsPerMonth) || math.IsInf(t.RequestsPerMonth, 0) || t.RequestsPerMonth < 0:
		v.add(p+".requests_per_month", "must be a finite number, 0 or more, got %v", t.RequestsPerMonth)
	}
	if t.Rate != nil {
		v.rate(p+".rate", *t.Rate, true)
	}
	if t.Daily == nil {
		return
	}
	if t.Rate == nil {
		v.add(p+".daily", "a daily pattern multiplies a rate: set rate too")
	}
	if len(t.Daily) != 24 {
		v.add(p+".daily", "%d values: want 24, one multiplier per hour from 00:00", len(t.Daily))
	}
	for i, m := range t.Daily {
		if math.IsNaN(m) || math.IsInf(m, 0) || m < 0 {
			v.add(fmt.Sprintf("%s.daily[%d]", p, i), "must be a finite number, 0 or more, got %v", m)
		}
	}
}

func (v *validator) pricing(p string, pr *Pricing) {
	if pr.Table != "" {
		if _, err := pricing.Lookup(pr.Table); err != nil {
			msg := err.Error()
			if s := closest(pr.Table, pricing.Names()); s != "" {
				msg += fmt.Sprintf("; did you mean %q?", s)
			}
			v.add(p+".table", "%s", msg)
		}
	}
	for _, e := range pr.Check() {
		v.add(p+"."+e.Key, "%s", e.Msg)
	}
}
