package drivers_test

import (
	"testing"

	"github.com/coldbench/coldbench/drivers"
)

func TestClassifyStatus(t *testing.T) {
	t.Parallel()
	tests := []struct {
		status int
		want   drivers.Outcome
	}{
		{200, drivers.OK},
		{204, drivers.OK},
		{301, drivers.Redirect}, // not followed: the function did not run
		{302, drivers.Redirect},
		{307, drivers.Redirect},
		{404, drivers.ClientError},
		{429, drivers.Throttled},
		{503, drivers.ServerError},
		{0, drivers.OK}, // a protocol with no status
	}
	for _, tt := range tests {
		if got := drivers.Classify(&drivers.Call{Status: tt.status}, nil); got != tt.want {
			t.Errorf("status %d: %v, want %v", tt.status, got, tt.want)
		}
	}
	// Every class has a name that parses back to it.
	for o := range drivers.Outcome(drivers.NumOutcomes) {
		if back, ok := drivers.ParseOutcome(o.String()); !ok || back != o {
			t.Errorf("outcome %d: %q parses to %v, %v", o, o.String(), back, ok)
		}
	}
}
