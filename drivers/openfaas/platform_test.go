package openfaas_test

import (
	"context"
	"testing"

	"github.com/coldbench/coldbench/drivers"
	"github.com/coldbench/coldbench/drivers/drivertest"
	"github.com/coldbench/coldbench/drivers/openfaas"
	"github.com/coldbench/coldbench/drivers/openfaas/openfaasfake"
)

func TestPlatform(t *testing.T) {
	drivertest.RunPlatformTests(t, func(t *testing.T) drivertest.Platform {
		g := newGateway(t, openfaasfake.Options{}, 0) // at zero: the first request is cold
		d, err := openfaas.Open(context.Background(), config(g))
		if err != nil {
			t.Fatal(err)
		}
		return drivertest.Platform{Driver: d, Truth: func(c *drivers.Call) (bool, bool) {
			tr, ok := g.TruthByID(c.ID)
			return tr.Cold, ok
		}}
	})
}
