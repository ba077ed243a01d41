package drivertest

import (
	"context"
	"testing"
	"time"

	"github.com/coldbench/coldbench/drivers"
)

// Platform is a driver under test opened against a fresh stand-in for its
// platform that knows each request's ground truth.
type Platform struct {
	Driver drivers.Driver
	// Truth says whether the platform started an instance for c, a request
	// just sent; ok is false when the platform has no record of it.
	Truth func(c *drivers.Call) (cold, ok bool)
}

// PlatformHarness opens a Platform for one test. Like a Harness's, the
// target answers every invocation successfully and starts with no
// instance up.
type PlatformHarness func(t *testing.T) Platform

// RunPlatformTests runs what a tuning sweep relies on, each part against
// the platform's ground truth where one applies: every temperature the
// driver reports is the truth, around a ForceCold too, and Restore puts
// back the setting Configure changed. A driver without a capability skips
// its part.
func RunPlatformTests(t *testing.T, h PlatformHarness) {
	t.Run("Classification", func(t *testing.T) { testClassification(t, h) })
	t.Run("ConfigureRestore", func(t *testing.T) { testConfigureRestore(t, h) })
}

func openPlatform(t *testing.T, h PlatformHarness) Platform {
	t.Helper()
	p := h(t)
	t.Cleanup(func() {
		if err := p.Driver.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return p
}

// testClassification sends requests one after another, on a fresh target
// and after a ForceCold, and holds each temperature to the truth.
func testClassification(t *testing.T, h PlatformHarness) {
	p := openPlatform(t, h)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var known, cold, warm int
	check := func(name string, seq uint64, want drivers.Temperature) *drivers.Call {
		t.Helper()
		c := invoke(t, p.Driver, seq)
		truth, ok := p.Truth(c)
		if !ok {
			t.Fatalf("%s: the platform has no record of request %s", name, c.ID)
		}
		if truth != (want == drivers.Cold) {
			t.Fatalf("%s: the platform says cold=%v; the stand-in does not behave as the test needs", name, truth)
		}
		if c.Temp == drivers.Unknown {
			return c
		}
		known++
		if (c.Temp == drivers.Cold) != truth {
			t.Errorf("%s: the driver says %s (from %s), the platform cold=%v", name, c.Temp, c.Source, truth)
		}
		if c.Temp == drivers.Cold {
			cold++
		} else {
			warm++
		}
		return c
	}
	check("first request", 0, drivers.Cold)
	before := check("second request", 1, drivers.Warm)
	if f, ok := p.Driver.(drivers.ColdForcer); ok {
		if err := f.ForceCold(ctx); err != nil {
			t.Fatalf("ForceCold: %v", err)
		}
		after := check("first request after ForceCold", 2, drivers.Cold)
		again := check("second request after ForceCold", 3, drivers.Warm)
		// Where the driver names instances: a new one, then that one again.
		if after.InstanceID != "" && (after.InstanceID == before.InstanceID || again.InstanceID != after.InstanceID) {
			t.Errorf("instances %q before ForceCold, %q and %q after: want a new one, reused", before.InstanceID, after.InstanceID, again.InstanceID)
		}
	}
	if known > 0 && (cold == 0 || warm == 0) {
		t.Errorf("%d cold and %d warm reported: want both", cold, warm)
	}
}

// testConfigureRestore changes memory and prewarm, then restores: the
// driver describes the setting it found again, and a second Restore
// changes nothing.
func testConfigureRestore(t *testing.T, h PlatformHarness) {
	p := openPlatform(t, h)
	conf, ok1 := p.Driver.(drivers.Configurer)
	desc, ok2 := p.Driver.(drivers.Describer)
	rest, ok3 := p.Driver.(drivers.Restorer)
	if !ok1 || !ok2 || !ok3 {
		t.Skip("driver cannot configure, describe and restore")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	before, err := desc.Describe(ctx)
	if err != nil {
		t.Fatalf("Describe: %v", err)
	}
	want := drivers.Settings{MemoryMB: 2 * max(before.MemoryMB, 256), Prewarm: before.Prewarm + 1}
	if err := conf.Configure(ctx, want); err != nil {
		t.Fatalf("Configure(%+v): %v", want, err)
	}
	if got, err := desc.Describe(ctx); err != nil || got.Settings != want {
		t.Fatalf("Describe after Configure = %+v, %v; want %+v", got.Settings, err, want)
	}
	if f, ok := p.Driver.(drivers.ColdForcer); ok {
		if err := f.ForceCold(ctx); err != nil {
			t.Fatalf("ForceCold: %v", err)
		}
	}
	for i := range 2 {
		if err := rest.Restore(ctx); err != nil {
			t.Fatalf("Restore %d: %v", i+1, err)
		}
		if got, err := desc.Describe(ctx); err != nil || got.Settings != before.Settings {
			t.Errorf("Describe after Restore %d = %+v, %v; want %+v", i+1, got.Settings, err, before.Settings)
		}
	}
}
