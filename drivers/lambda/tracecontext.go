package lambda

import (
	"encoding/base64"
	"encoding/json"

	"github.com/coldbench/coldbench/drivers"
)

// MaxClientContext is the largest ClientContext Lambda's Invoke accepts:
// 3,583 bytes of base64.
const MaxClientContext = 3583

// clientContext is the W3C trace context as Lambda's ClientContext: base64
// JSON whose "custom" map the runtimes hand to the handler
// (context.clientContext.custom in Node.js, context.client_context.custom
// in Python), where a handler or its OpenTelemetry set-up can extract it.
// nil when trace context is off.
//
// Why not X-Amzn-Trace-Id: that header is X-Ray's format, whose trace ids
// start with the request's epoch second; mapping coldbench's random W3C id
// into it would give X-Ray an id it may reject as out of range, or a
// different id from the one the exemplar records. Function URLs go
// through the http driver and get the traceparent header itself.
func clientContext(tc *drivers.TraceContext) *string {
	if !tc.Valid() {
		return nil
	}
	custom := map[string]string{"traceparent": tc.Traceparent()}
	if tc.State != "" {
		custom["tracestate"] = tc.State
	}
	s := encodeClientContext(custom)
	if len(s) > MaxClientContext {
		// A tracestate too long for Lambda: traceparent alone still joins
		// the trace (scenario validation keeps tracestate far below this).
		delete(custom, "tracestate")
		s = encodeClientContext(custom)
	}
	return &s
}

func encodeClientContext(custom map[string]string) string {
	b, _ := json.Marshal(struct { // a map of strings always marshals
		Custom map[string]string `json:"custom"`
	}{custom})
	return base64.StdEncoding.EncodeToString(b)
}
