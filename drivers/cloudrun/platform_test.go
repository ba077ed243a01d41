package cloudrun_test

import (
	"context"
	"testing"

	"github.com/coldbench/coldbench/drivers"
	"github.com/coldbench/coldbench/drivers/cloudrun"
	"github.com/coldbench/coldbench/drivers/cloudrun/cloudrunfake"
	"github.com/coldbench/coldbench/drivers/drivertest"
)

// TestPlatform: Cloud Run has no cold-start signal of its own, so the
// function's header is the driver's, as a scenario's cold: block names it.
func TestPlatform(t *testing.T) {
	drivertest.RunPlatformTests(t, func(t *testing.T) drivertest.Platform {
		f, creds := newFake(t, cloudrunfake.Options{}, 0)
		cfg := config(f, creds)
		cfg.SetColdHeaders([]string{"X-Cold-Start"}, "X-Fake-Instance")
		d, err := cloudrun.Open(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		return drivertest.Platform{Driver: d, Truth: func(c *drivers.Call) (bool, bool) {
			tr, ok := f.Truth(c.ID)
			return tr.Cold, ok
		}}
	})
}
