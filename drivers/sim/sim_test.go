package sim_test

import (
	"context"
	"testing"
	"time"

	"github.com/coldbench/coldbench/drivers"
	"github.com/coldbench/coldbench/drivers/drivertest"
	"github.com/coldbench/coldbench/drivers/sim"
)

func TestConformance(t *testing.T) {
	drivertest.RunConformanceTests(t, drivertest.HarnessFunc(func(t *testing.T) drivers.Driver {
		cfg := sim.DefaultConfig()
		cfg.Handler = time.Millisecond
		cfg.Init.Mean, cfg.Init.Stddev = 20*time.Millisecond, 0
		d, err := sim.Open(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}))
}

// TestPlatformSignal checks that the driver reports what the emulator's
// ground truth says, with the platform as the source.
func TestPlatformSignal(t *testing.T) {
	cfg := sim.DefaultConfig()
	cfg.Handler = 2 * time.Millisecond
	cfg.Init.Mean, cfg.Init.Stddev = 30*time.Millisecond, 0
	d, err := sim.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	for i, want := range []drivers.Temperature{drivers.Cold, drivers.Warm} {
		c := &drivers.Call{Seq: uint64(i), ID: "req-" + string(rune('a'+i))}
		if err := d.Invoke(context.Background(), c); err != nil {
			t.Fatal(err)
		}
		truth, ok := d.Emulator().TruthByID(c.ID)
		if !ok {
			t.Fatalf("%s not in the emulator's record", c.ID)
		}
		if c.Temp != want || c.Source != drivers.SourcePlatform || truth.Cold != (want == drivers.Cold) {
			t.Errorf("call %d: %s from %s (truth cold=%v), want %s from platform", i, c.Temp, c.Source, truth.Cold, want)
		}
		if c.InstanceID != truth.InstanceID || c.MemoryMB != cfg.MemoryMB || c.Billed < truth.Handler {
			t.Errorf("call %d: instance %q memory %d billed %v; truth %q %d MB handler %v", i, c.InstanceID, c.MemoryMB, c.Billed, truth.InstanceID, cfg.MemoryMB, truth.Handler)
		}
		if want == drivers.Cold && (c.Init != truth.Init.Round(time.Microsecond) && c.Init < 29*time.Millisecond) {
			t.Errorf("init %v, truth %v", c.Init, truth.Init)
		}
	}
}
