package http

import (
	"net/http"
	"unsafe"

	"github.com/coldbench/coldbench/drivers"
)

// traceHeaders holds the trace context header values of one request and the
// slices the header map points at, so that both headers cost one
// allocation per request (this is the load generator's hot path).
type traceHeaders struct {
	parent [1]string
	state  [1]string
	buf    [drivers.TraceparentLen]byte
}

// setTraceHeaders sets traceparent (and tracestate when there is one) on h
// from tc; nothing when tc is zero (trace context off). The keys are in
// canonical form, so they replace any set by the target's static headers.
func setTraceHeaders(h http.Header, tc *drivers.TraceContext) {
	if !tc.Valid() {
		return
	}
	th := new(traceHeaders)
	b := tc.AppendTraceparent(th.buf[:0])
	// th.buf is written once, above, and never again: the string over it
	// is as immutable as any other, without a second allocation to copy it.
	th.parent[0] = unsafe.String(&b[0], len(b))
	h["Traceparent"] = th.parent[:]
	if tc.State != "" {
		th.state[0] = tc.State
		h["Tracestate"] = th.state[:]
	}
}
