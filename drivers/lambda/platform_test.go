package lambda_test

import (
	"context"
	"testing"

	"github.com/coldbench/coldbench/drivers"
	"github.com/coldbench/coldbench/drivers/drivertest"
	"github.com/coldbench/coldbench/drivers/lambda"
	"github.com/coldbench/coldbench/drivers/lambda/lambdafake"
)

// TestPlatform: the fake records invocations by its own request ids, and
// the tests send one request at a time, so a call's truth is the latest.
func TestPlatform(t *testing.T) {
	drivertest.RunPlatformTests(t, func(t *testing.T) drivertest.Platform {
		s, cfg := fake(t, lambdafake.FunctionOptions{})
		d, err := lambda.Open(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		return drivertest.Platform{Driver: d, Truth: func(*drivers.Call) (bool, bool) {
			all := s.Truth()
			if len(all) == 0 {
				return false, false
			}
			return all[len(all)-1].Cold, true
		}}
	})
}
