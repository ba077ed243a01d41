package lambda_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/coldbench/coldbench/drivers"
	"github.com/coldbench/coldbench/drivers/lambda/lambdafake"
)

// TestTraceClientContext checks that Invoke carries the W3C trace context in
// the client context's custom map, as the fake Lambda (which applies the
// real size limit) hands it to the function.
func TestTraceClientContext(t *testing.T) {
	s, cfg := fake(t, lambdafake.FunctionOptions{Handler: time.Millisecond})
	d := open(t, cfg)
	tc := drivers.TraceContext{
		TraceID: [16]byte{0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36},
		SpanID:  [8]byte{0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7},
		Flags:   drivers.FlagSampled,
	}
	const parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	withState := func(st string) drivers.TraceContext { c := tc; c.State = st; return c }
	for _, tt := range []struct {
		name          string
		tc            drivers.TraceContext
		parent, state string
	}{
		// traceparent alone.
		{"parent", tc, parent, ""},
		// tracestate beside it.
		{"state", withState("congo=t61rcWkgMzE"), parent, "congo=t61rcWkgMzE"},
		// A tracestate that would break Lambda's 3,583-byte limit is left
		// out; the request still goes, with its traceparent.
		{"state too long", withState("k=" + strings.Repeat("v", 4000)), parent, ""},
		// Trace context off: no client context at all.
		{"off", drivers.TraceContext{}, "", ""},
	} {
		c := &drivers.Call{ID: "id", Phase: "p", Trace: tt.tc}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := d.Invoke(ctx, c)
		cancel()
		if o := drivers.Classify(c, err); o != drivers.OK {
			t.Fatalf("%s: outcome %s (status %d, err %v)", tt.name, o, c.Status, err)
		}
		truth := s.Truth()
		got := truth[len(truth)-1].ClientCustom
		if tt.parent == "" {
			if got != nil {
				t.Errorf("%s: client context custom %v, want none", tt.name, got)
			}
			continue
		}
		if got["traceparent"] != tt.parent || got["tracestate"] != tt.state {
			t.Errorf("%s: client context custom %v, want traceparent %q tracestate %q", tt.name, got, tt.parent, tt.state)
		}
	}
}
