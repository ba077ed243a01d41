package sim_test

import (
	"context"
	"testing"
	"time"

	"github.com/coldbench/coldbench/drivers"
	"github.com/coldbench/coldbench/drivers/drivertest"
	"github.com/coldbench/coldbench/drivers/sim"
)

func TestPlatform(t *testing.T) {
	drivertest.RunPlatformTests(t, func(t *testing.T) drivertest.Platform {
		cfg := sim.DefaultConfig()
		cfg.Handler = time.Millisecond
		cfg.Init.Mean, cfg.Init.Stddev = 20*time.Millisecond, 0
		d, err := sim.Open(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		return drivertest.Platform{Driver: d, Truth: func(c *drivers.Call) (bool, bool) {
			tr, ok := d.Emulator().TruthByID(c.ID)
			return tr.Cold, ok
		}}
	})
}
