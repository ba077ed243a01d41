package fleet

import (
	"context"
	"fmt"

	"github.com/coldbench/coldbench/drivers"
	"github.com/coldbench/coldbench/internal/engine"
	"github.com/coldbench/coldbench/scenarios"
)

// OpenTarget opens a scenario's target, with the scenario's cold: headers
// applied to drivers that read them.
func OpenTarget(ctx context.Context, s *scenarios.Scenario) (drivers.Driver, error) {
	if hs, ok := s.Target.Config.(drivers.ColdHeaderSetter); ok {
		hs.SetColdHeaders(s.Cold.Headers, s.Cold.InstanceHeader)
	}
	if bs, ok := s.Target.Config.(drivers.ColdBodySetter); ok {
		bs.SetColdBody(s.Cold.Body.Markers())
	}
	d, err := drivers.Open(ctx, s.Target.Driver, s.Target.Config)
	if err != nil {
		return nil, fmt.Errorf("target: %w", err)
	}
	return d, nil
}

// Detection maps a scenario's cold: block to the engine's signals.
func Detection(c scenarios.Cold) engine.Detection {
	return engine.Detection{
		Platform: !c.IgnorePlatform,
		Header:   true,
		Instance: !c.IgnorePlatform,
		Infer:    c.InferEnabled(),
	}
}

// Trace maps a scenario's trace: block to the engine's trace context.
func Trace(t scenarios.Trace) engine.Trace {
	return engine.Trace{Off: !t.On(), Sampled: t.Ratio(), State: t.TraceState}
}
