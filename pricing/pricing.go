// Package pricing holds the FaaS platforms' price lists: built-in tables
// that a scenario names, and the overrides a scenario or a flag applies to
// them rate by rate. It is plain data and imports nothing of coldbench, so
// that scenarios can validate a pricing block; internal/cost turns a table
// into the monthly cost of a setting.
//
// Prices are public list prices in US dollars, without free tiers, volume
// tiers, savings plans or taxes: good for comparing settings with each
// other, not for predicting an invoice to the cent.
package pricing

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Table is a platform's price list, in US dollars. One shape fits Lambda
// and Cloud Run alike: a rate that does not apply is 0.
//
// A request is billed for its duration rounded up to Granularity (at least
// one unit), times the memory and vCPU it was given. Prewarmed instances
// (provisioned concurrency, min instances) cost capacity all the time they
// are configured and, on some platforms, an idle rate while they serve
// nothing.
type Table struct {
	Name        string // the name a scenario uses: "aws-lambda-x86_64"
	Description string // for people: "AWS Lambda, x86_64, us-east-1"
	Source      string // where the numbers come from, and as of when

	Granularity time.Duration // billed durations round up to a multiple of this

	PerMillionRequests float64 // per 1,000,000 requests
	GBSecond           float64 // per GB-second of memory while a request runs (on demand)
	VCPUSecond         float64 // per vCPU-second while a request runs

	// ProvisionedGBSecond is charged per GB-second of prewarmed capacity for
	// as long as it is configured, busy or not (Lambda's provisioned
	// concurrency).
	ProvisionedGBSecond float64
	// ProvisionedDurationGBSecond replaces GBSecond for requests served by
	// a prewarmed instance (Lambda bills those at a lower duration rate).
	ProvisionedDurationGBSecond float64
	// IdleGBSecond and IdleVCPUSecond are charged for a prewarmed instance
	// while it is idle (Cloud Run's idle min instances).
	IdleGBSecond   float64
	IdleVCPUSecond float64

	// MBPerVCPU sizes the CPU from the memory: an instance has
	// memory/MBPerVCPU vCPUs. It only matters where VCPUSecond or
	// IdleVCPUSecond is set.
	MBPerVCPU float64
}

// Built-in tables. The numbers are public list prices as published on the
// vendors' pricing pages; the dates are when we read them. Free tiers and
// volume discounts are left out (Lambda's duration rate drops after 6
// billion GB-seconds a month).
var builtin = []Table{
	{
		Name:        "aws-lambda-x86_64",
		Description: "AWS Lambda, x86_64, us-east-1",
		// https://aws.amazon.com/lambda/pricing/, us-east-1, as published
		// on 2025-01-15 (unchanged since 1 ms billing began on 2020-12-01):
		// duration $0.0000166667 per GB-second (first 6 billion GB-s a
		// month), requests $0.20 per million, provisioned concurrency
		// $0.0000041667 per GB-second configured and $0.0000097222 per
		// GB-second of duration on it; billed per 1 ms.
		Source:                      "aws.amazon.com/lambda/pricing, us-east-1, as published on 2025-01-15",
		Granularity:                 time.Millisecond,
		PerMillionRequests:          0.20,
		GBSecond:                    0.0000166667,
		ProvisionedGBSecond:         0.0000041667,
		ProvisionedDurationGBSecond: 0.0000097222,
		MBPerVCPU:                   1769, // Lambda gives one full vCPU at 1,769 MB
	},
	{
		Name:        "aws-lambda-arm64",
		Description: "AWS Lambda, arm64 (Graviton2), us-east-1",
		// https://aws.amazon.com/lambda/pricing/, us-east-1, as published
		// on 2025-01-15 (unchanged since arm64 launched on 2021-09-29):
		// duration $0.0000133334 per GB-second, requests $0.20 per
		// million, provisioned concurrency $0.0000033334 per GB-second
		// configured and $0.0000077778 per GB-second of duration on it;
		// billed per 1 ms.
		Source:                      "aws.amazon.com/lambda/pricing, us-east-1, as published on 2025-01-15",
		Granularity:                 time.Millisecond,
		PerMillionRequests:          0.20,
		GBSecond:                    0.0000133334,
		ProvisionedGBSecond:         0.0000033334,
		ProvisionedDurationGBSecond: 0.0000077778,
		MBPerVCPU:                   1769,
	},
	{
		Name:        "cloud-run",
		Description: "Google Cloud Run, request-based billing, Tier 1 region",
		// https://cloud.google.com/run/pricing, Tier 1 (us-central1), CPU
		// allocated only during requests, as published on 2025-01-15:
		// CPU $0.00002400 per vCPU-second, memory $0.00000250 per
		// GiB-second, requests $0.40 per million; idle min instances CPU
		// $0.00000250 per vCPU-second and memory $0.00000250 per
		// GiB-second; billed per 100 ms.
		Source:                      "cloud.google.com/run/pricing, Tier 1, request-based billing, as published on 2025-01-15",
		Granularity:                 100 * time.Millisecond,
		PerMillionRequests:          0.40,
		GBSecond:                    0.0000025,
		VCPUSecond:                  0.000024,
		ProvisionedDurationGBSecond: 0.0000025, // a busy min instance is billed like any other
		IdleGBSecond:                0.0000025,
		IdleVCPUSecond:              0.0000025,
		// Cloud Run sets CPU apart from memory, and a tuning sweep turns
		// memory only; the CPU is taken to grow with memory at Lambda's
		// ratio, the model the built-in emulator follows. Override
		// mb_per_vcpu to match a service's real shape.
		MBPerVCPU: 1769,
	},
}

// DefaultTable is the table used when a scenario names none.
const DefaultTable = "aws-lambda-x86_64"

// Names lists the built-in tables, sorted.
func Names() []string {
	out := make([]string, len(builtin))
	for i, t := range builtin {
		out[i] = t.Name
	}
	sort.Strings(out)
	return out
}

// Lookup returns the built-in table of that name; the error lists the
// known ones.
func Lookup(name string) (Table, error) {
	for _, t := range builtin {
		if t.Name == name {
			return t, nil
		}
	}
	return Table{}, fmt.Errorf("unknown pricing table %q (known: %s)", name, strings.Join(Names(), ", "))
}

// VCPUs is the vCPU count of an instance with memoryMB under t.
func (t Table) VCPUs(memoryMB int) float64 {
	if t.MBPerVCPU <= 0 {
		return 0
	}
	return float64(memoryMB) / t.MBPerVCPU
}

// Billed rounds a request's duration up to the table's granularity, with
// a minimum of one unit.
func (t Table) Billed(d time.Duration) time.Duration {
	g := t.Granularity
	if g <= 0 {
		return max(d, 0)
	}
	if d <= 0 {
		return g
	}
	return (d + g - 1) / g * g
}

// ActiveRate is the cost of one second of a request running on an instance
// with memoryMB: on a prewarmed instance when prewarmed is set.
func (t Table) ActiveRate(memoryMB int, prewarmed bool) float64 {
	gb := GB(memoryMB)
	mem := t.GBSecond
	if prewarmed {
		mem = t.ProvisionedDurationGBSecond
	}
	return gb*mem + t.VCPUs(memoryMB)*t.VCPUSecond
}

// GB is memory in the unit platforms bill: Lambda's "GB" and Cloud Run's
// GiB are both the memory size in MB divided by 1,024.
func GB(memoryMB int) float64 { return float64(memoryMB) / 1024 }

// Overrides change some rates of a table; nil fields keep the table's. The
// yaml keys are what a scenario's tune.pricing block and `coldbench tune
// --price KEY=VALUE` accept.
type Overrides struct {
	PerMillionRequests          *float64       `yaml:"per_million_requests"`
	GBSecond                    *float64       `yaml:"gb_second"`
	VCPUSecond                  *float64       `yaml:"vcpu_second"`
	ProvisionedGBSecond         *float64       `yaml:"provisioned_gb_second"`
	ProvisionedDurationGBSecond *float64       `yaml:"provisioned_duration_gb_second"`
	IdleGBSecond                *float64       `yaml:"idle_gb_second"`
	IdleVCPUSecond              *float64       `yaml:"idle_vcpu_second"`
	MBPerVCPU                   *float64       `yaml:"mb_per_vcpu"`
	Granularity                 *time.Duration `yaml:"granularity"`
}

// rates pairs each rate's key with its field in o and in a table.
func (o *Overrides) rates(t *Table) []struct {
	key string
	v   **float64
	dst *float64
} {
	return []struct {
		key string
		v   **float64
		dst *float64
	}{
		{"per_million_requests", &o.PerMillionRequests, &t.PerMillionRequests},
		{"gb_second", &o.GBSecond, &t.GBSecond},
		{"vcpu_second", &o.VCPUSecond, &t.VCPUSecond},
		{"provisioned_gb_second", &o.ProvisionedGBSecond, &t.ProvisionedGBSecond},
		{"provisioned_duration_gb_second", &o.ProvisionedDurationGBSecond, &t.ProvisionedDurationGBSecond},
		{"idle_gb_second", &o.IdleGBSecond, &t.IdleGBSecond},
		{"idle_vcpu_second", &o.IdleVCPUSecond, &t.IdleVCPUSecond},
		{"mb_per_vcpu", &o.MBPerVCPU, &t.MBPerVCPU},
	}
}

// Keys lists the override keys, granularity last.
func Keys() []string {
	var o Overrides
	var keys []string
	for _, r := range o.rates(&Table{}) {
		keys = append(keys, r.key)
	}
	return append(keys, "granularity")
}

// FieldError is an invalid override: Key is its yaml key.
type FieldError struct {
	Key string
	Msg string
}

func (e *FieldError) Error() string { return e.Key + ": " + e.Msg }

// Check reports every invalid override (negative, infinite or not a
// number) as a *FieldError.
func (o *Overrides) Check() []*FieldError {
	var errs []*FieldError
	for _, r := range o.rates(&Table{}) {
		if *r.v == nil {
			continue
		}
		if f := **r.v; math.IsNaN(f) || math.IsInf(f, 0) || f < 0 {
			errs = append(errs, &FieldError{r.key, fmt.Sprintf("must be a finite number, 0 or more, got %v", f)})
		}
	}
	if o.Granularity != nil && *o.Granularity < 0 {
		errs = append(errs, &FieldError{"granularity", fmt.Sprintf("must not be negative, got %v", *o.Granularity)})
	}
	return errs
}

// Set sets one override from its key and text, for command-line flags.
func (o *Overrides) Set(key, value string) error {
	if key == "granularity" {
		d, err := time.ParseDuration(value)
		if err != nil {
			return fmt.Errorf("price %s: %w", key, err)
		}
		o.Granularity = &d
		return nil
	}
	for _, r := range o.rates(&Table{}) {
		if r.key != key {
			continue
		}
		f, err := strconv.ParseFloat(value, 64)
		if err != nil {
			return fmt.Errorf("price %s: %q is not a number", key, value)
		}
		*r.v = &f
		return nil
	}
	return fmt.Errorf("unknown price %q (known: %s)", key, strings.Join(Keys(), ", "))
}

// Merge returns o with the overrides of p on top.
func (o Overrides) Merge(p Overrides) Overrides {
	for i, r := range p.rates(&Table{}) {
		if *r.v != nil {
			*o.rates(&Table{})[i].v = *r.v
		}
	}
	if p.Granularity != nil {
		o.Granularity = p.Granularity
	}
	return o
}

// Apply returns t with o's rates set, and the override keys it set
// recorded in its Source.
func (t Table) Apply(o Overrides) Table {
	var set []string
	for _, r := range o.rates(&t) {
		if *r.v != nil {
			*r.dst = **r.v
			set = append(set, r.key)
		}
	}
	if o.Granularity != nil {
		t.Granularity = *o.Granularity
		set = append(set, "granularity")
	}
	if len(set) > 0 {
		t.Source += "; overridden: " + strings.Join(set, ", ")
	}
	return t
}
