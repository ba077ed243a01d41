package pricing

import (
	"math"
	"strings"
	"testing"
	"time"
)

func mustTable(t *testing.T, name string) Table {
	t.Helper()
	tab, err := Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	return tab
}

// TestBuiltinRates pins the published numbers, so that a change to a table
// is a deliberate one.
func TestBuiltinRates(t *testing.T) {
	t.Parallel()
	x86, arm, run := mustTable(t, "aws-lambda-x86_64"), mustTable(t, "aws-lambda-arm64"), mustTable(t, "cloud-run")
	checks := []struct {
		name      string
		got, want float64
	}{
		{"x86 GB-s", x86.GBSecond, 0.0000166667},
		{"x86 requests", x86.PerMillionRequests, 0.20},
		{"x86 PC capacity", x86.ProvisionedGBSecond, 0.0000041667},
		{"x86 PC duration", x86.ProvisionedDurationGBSecond, 0.0000097222},
		{"arm GB-s", arm.GBSecond, 0.0000133334},
		{"arm PC capacity", arm.ProvisionedGBSecond, 0.0000033334},
		{"arm PC duration", arm.ProvisionedDurationGBSecond, 0.0000077778},
		{"run vCPU-s", run.VCPUSecond, 0.000024},
		{"run GiB-s", run.GBSecond, 0.0000025},
		{"run requests", run.PerMillionRequests, 0.40},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if x86.Granularity != time.Millisecond || run.Granularity != 100*time.Millisecond {
		t.Errorf("granularity %v / %v", x86.Granularity, run.Granularity)
	}
	for _, tab := range []Table{x86, arm, run} {
		if !strings.Contains(tab.Source, "as published on") {
			t.Errorf("%s: source %q does not say when", tab.Name, tab.Source)
		}
	}
	if _, err := Lookup("azure"); err == nil || !strings.Contains(err.Error(), "aws-lambda-arm64") {
		t.Errorf("unknown table: %v", err)
	}
}

func TestBilled(t *testing.T) {
	t.Parallel()
	lambda, run := mustTable(t, "aws-lambda-x86_64"), mustTable(t, "cloud-run")
	tests := []struct {
		tab  Table
		in   time.Duration
		want time.Duration
	}{
		{lambda, 1200 * time.Microsecond, 2 * time.Millisecond}, // rounds up
		{lambda, 3 * time.Millisecond, 3 * time.Millisecond},    // exact stays
		{lambda, 0, time.Millisecond},                           // minimum one unit
		{run, 120 * time.Millisecond, 200 * time.Millisecond},   // 100 ms steps
		{run, 100 * time.Millisecond, 100 * time.Millisecond},
		{Table{}, 1234 * time.Microsecond, 1234 * time.Microsecond}, // no granularity: as measured
	}
	for _, tt := range tests {
		if got := tt.tab.Billed(tt.in); got != tt.want {
			t.Errorf("%s Billed(%v) = %v, want %v", tt.tab.Name, tt.in, got, tt.want)
		}
	}
}

func TestOverrides(t *testing.T) {
	t.Parallel()
	var o Overrides
	if err := o.Set("per_million_requests", "0.5"); err != nil {
		t.Fatal(err)
	}
	if err := o.Set("granularity", "10ms"); err != nil {
		t.Fatal(err)
	}
	if err := o.Set("gb_seconds", "1"); err == nil || !strings.Contains(err.Error(), "gb_second") {
		t.Errorf("unknown key: %v", err)
	}
	if err := o.Set("gb_second", "cheap"); err == nil {
		t.Error("a non-number was accepted")
	}
	tab := mustTable(t, "aws-lambda-x86_64").Apply(o)
	if tab.PerMillionRequests != 0.5 || tab.Granularity != 10*time.Millisecond || tab.GBSecond != 0.0000166667 {
		t.Errorf("applied: %+v", tab)
	}
	if !strings.Contains(tab.Source, "overridden: per_million_requests, granularity") {
		t.Errorf("source %q does not say what was overridden", tab.Source)
	}
	neg := -1.0
	bad := Overrides{GBSecond: &neg, IdleGBSecond: new(math.Inf(1))}
	if errs := bad.Check(); len(errs) != 2 || errs[0].Key != "gb_second" || errs[1].Key != "idle_gb_second" {
		t.Errorf("Check = %v", errs)
	}
	merged := Overrides{GBSecond: &neg}.Merge(o)
	if merged.GBSecond == nil || *merged.PerMillionRequests != 0.5 {
		t.Errorf("merge lost a rate: %+v", merged)
	}
}
