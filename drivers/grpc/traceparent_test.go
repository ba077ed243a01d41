package grpcdriver_test

import (
	"slices"
	"testing"

	"github.com/coldbench/coldbench/drivers"
)

// TestTraceMetadata checks that the W3C trace context arrives at the server
// as traceparent and tracestate metadata, and that nothing is sent when
// trace context is off.
func TestTraceMetadata(t *testing.T) {
	t.Parallel()
	e := startEcho(t, reflectBoth)
	d := open(t, config(e.addr))
	tc := drivers.TraceContext{
		TraceID: [16]byte{0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36},
		SpanID:  [8]byte{0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7},
		Flags:   drivers.FlagSampled,
		State:   "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE",
	}
	for _, tt := range []struct {
		name          string
		tc            drivers.TraceContext
		parent, state string // "" means the key is absent
	}{
		// The spec's example, with a two-member tracestate.
		{"on", tc, "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", tc.State},
		// Trace context off.
		{"off", drivers.TraceContext{}, "", ""},
	} {
		c := &drivers.Call{ID: "req", Phase: "p", Trace: tt.tc}
		if err := invoke(d, c); err != nil || c.Status != 200 {
			t.Fatalf("%s: status %d err %v", tt.name, c.Status, err)
		}
		e.mu.Lock()
		parent, state := e.lastMD.Get("traceparent"), e.lastMD.Get("tracestate")
		e.mu.Unlock()
		if want := nonEmpty(tt.parent); !slices.Equal(parent, want) {
			t.Errorf("%s: traceparent %q, want %q", tt.name, parent, want)
		}
		if want := nonEmpty(tt.state); !slices.Equal(state, want) {
			t.Errorf("%s: tracestate %q, want %q", tt.name, state, want)
		}
	}
}

func nonEmpty(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}
