package http

import (
	"net/http"
	"testing"

	"github.com/coldbench/coldbench/drivers"
)

// TestTraceHeadersOneAlloc: both trace context headers cost the client one
// allocation per request (the header values and their slices together).
func TestTraceHeadersOneAlloc(t *testing.T) {
	tc := drivers.TraceContext{TraceID: [16]byte{1}, SpanID: [8]byte{2}, Flags: 1, State: "k=v"}
	h := http.Header{"X-Request-Id": {"x"}}
	n := testing.AllocsPerRun(1000, func() {
		delete(h, "Traceparent")
		delete(h, "Tracestate")
		setTraceHeaders(h, &tc)
	})
	if n > 1 {
		t.Errorf("%v allocations per request, want 1", n)
	}
	if got := h.Get("Traceparent"); got != "00-01000000000000000000000000000000-0200000000000000-01" {
		t.Errorf("traceparent %q", got)
	}
}
