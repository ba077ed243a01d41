package drivers_test

import (
	"context"
	"errors"
	"testing"

	"github.com/coldbench/coldbench/drivers"
)

// answer is a driver that answers every request with status, or fails.
type answer struct {
	status int
	err    error
}

func (a answer) Invoke(_ context.Context, c *drivers.Call) error {
	if a.err != nil {
		return a.err
	}
	c.Status = a.status
	return nil
}

func (answer) Close() error { return nil }

// TestReplicaGateInvoke: the gate decides a request's temperature when it
// starts, and only a replica's answer tells it the function is up.
func TestReplicaGateInvoke(t *testing.T) {
	t.Parallel()
	refused := answer{err: errors.New("connection refused")}
	tests := []struct {
		name  string
		setup func(g *drivers.ReplicaGate)
		inner answer
		want  drivers.Temperature
		src   drivers.ColdSource
		then  drivers.Temperature // the next request's temperature
	}{
		// No count read: the engine infers; the gate stays ignorant.
		{"unknown", func(*drivers.ReplicaGate) {}, answer{status: 200}, drivers.Unknown, drivers.SourceNone, drivers.Unknown},
		// At zero: cold, and the answer means a replica is up now.
		{"from zero", func(g *drivers.ReplicaGate) { g.Arm(0) }, answer{status: 200}, drivers.Cold, drivers.SourcePlatform, drivers.Warm},
		// A replica up: warm.
		{"up", func(g *drivers.ReplicaGate) { g.Arm(2) }, answer{status: 200}, drivers.Warm, drivers.SourcePlatform, drivers.Warm},
		// The function's own 4xx is still a replica's answer.
		{"client error", func(g *drivers.ReplicaGate) { g.Arm(0) }, answer{status: 400}, drivers.Cold, drivers.SourcePlatform, drivers.Warm},
		// The gateway's 404 or 503: no temperature, and still at zero.
		{"gateway 404", func(g *drivers.ReplicaGate) { g.Arm(0) }, answer{status: 404}, drivers.Unknown, drivers.SourceNone, drivers.Cold},
		{"gateway 503", func(g *drivers.ReplicaGate) { g.Arm(0) }, answer{status: 503}, drivers.Unknown, drivers.SourceNone, drivers.Cold},
		// No answer at all: the same.
		{"refused", func(g *drivers.ReplicaGate) { g.Arm(0) }, refused, drivers.Unknown, drivers.SourceNone, drivers.Cold},
	}
	for _, tt := range tests {
		var g drivers.ReplicaGate
		tt.setup(&g)
		c := &drivers.Call{}
		err := g.Invoke(context.Background(), tt.inner, c)
		if (err != nil) != (tt.inner.err != nil) {
			t.Errorf("%s: err %v", tt.name, err)
		}
		if c.Temp != tt.want || c.Source != tt.src {
			t.Errorf("%s: temperature %v from %v, want %v from %v", tt.name, c.Temp, c.Source, tt.want, tt.src)
		}
		if next, _ := g.Temperature(); next != tt.then {
			t.Errorf("%s: next request %v, want %v", tt.name, next, tt.then)
		}
	}
}
