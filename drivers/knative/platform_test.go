package knative_test

import (
	"context"
	"testing"
	"time"

	"github.com/coldbench/coldbench/drivers"
	"github.com/coldbench/coldbench/drivers/drivertest"
	"github.com/coldbench/coldbench/drivers/knative"
	"github.com/coldbench/coldbench/drivers/knative/knativefake"
)

func TestPlatform(t *testing.T) {
	drivertest.RunPlatformTests(t, func(t *testing.T) drivertest.Platform {
		c := newCluster(t, knativefake.Options{IdleAfter: time.Second})
		d, err := knative.Open(context.Background(), config(c))
		if err != nil {
			t.Fatal(err)
		}
		return drivertest.Platform{Driver: d, Truth: func(call *drivers.Call) (bool, bool) {
			tr, ok := c.Truth(call.ID)
			return tr.Cold, ok
		}}
	})
}
