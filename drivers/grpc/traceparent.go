package grpcdriver

import "github.com/coldbench/coldbench/drivers"

// traceMetadata is the W3C trace context as gRPC request metadata, the keys
// OpenTelemetry's gRPC instrumentation reads: traceparent, and tracestate
// when set. It is nil when trace context is off.
func traceMetadata(tc *drivers.TraceContext) []string {
	if !tc.Valid() {
		return nil
	}
	if tc.State == "" {
		return []string{"traceparent", tc.Traceparent()}
	}
	return []string{"traceparent", tc.Traceparent(), "tracestate", tc.State}
}
