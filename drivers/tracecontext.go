package drivers

import (
	"encoding/hex"
	"errors"
)

// TraceContext is the W3C trace context (https://www.w3.org/TR/trace-context/)
// the engine gives a request, so that the function's own spans join a trace
// the user can find by the id coldbench records. A zero TraceID means trace
// context is off: drivers send nothing.
type TraceContext struct {
	TraceID [16]byte
	SpanID  [8]byte // the parent id the request carries: coldbench's client span
	Flags   byte    // trace-flags; bit 0 is "sampled"
	State   string  // the tracestate header value, sent as is when not empty
}

// FlagSampled is the trace-flags bit that asks downstream to record the trace.
const FlagSampled = 0x01

// TraceparentLen is the length of a version-00 traceparent value.
const TraceparentLen = 55

// Valid reports whether tc may be sent: the spec forbids all-zero ids.
func (tc *TraceContext) Valid() bool {
	return tc.TraceID != [16]byte{} && tc.SpanID != [8]byte{}
}

// Sampled reports whether the sampled flag is set.
func (tc *TraceContext) Sampled() bool { return tc.Flags&FlagSampled != 0 }

const hexDigits = "0123456789abcdef"

// AppendTraceparent appends the version-00 traceparent value
// "00-{trace-id}-{parent-id}-{flags}" in lower-case hex, as the spec
// requires, without allocating when dst has room.
func (tc *TraceContext) AppendTraceparent(dst []byte) []byte {
	dst = append(dst, '0', '0', '-')
	dst = appendHex(dst, tc.TraceID[:])
	dst = append(dst, '-')
	dst = appendHex(dst, tc.SpanID[:])
	return append(dst, '-', hexDigits[tc.Flags>>4], hexDigits[tc.Flags&0x0f])
}

func appendHex(dst, b []byte) []byte {
	for _, c := range b {
		dst = append(dst, hexDigits[c>>4], hexDigits[c&0x0f])
	}
	return dst
}

// Traceparent returns the traceparent value (allocating; drivers off the hot
// path and tests use it).
func (tc *TraceContext) Traceparent() string {
	var b [TraceparentLen]byte
	return string(tc.AppendTraceparent(b[:0]))
}

// ParseTraceparent reads a version-00 traceparent value strictly: lower-case
// hex, the exact length, non-zero ids. It is the receiving side of
// AppendTraceparent, for fakes and tests.
func ParseTraceparent(v string) (TraceContext, error) {
	var tc TraceContext
	if len(v) != TraceparentLen || v[2] != '-' || v[35] != '-' || v[52] != '-' {
		return tc, errors.New("traceparent: not version-00 shape 00-<32 hex>-<16 hex>-<2 hex>")
	}
	if v[:2] != "00" {
		return tc, errors.New("traceparent: version is not 00")
	}
	for _, c := range []byte(v) {
		if c >= 'A' && c <= 'F' {
			return tc, errors.New("traceparent: upper-case hex")
		}
	}
	var flags [1]byte
	if _, err := hex.Decode(tc.TraceID[:], []byte(v[3:35])); err != nil {
		return tc, errors.New("traceparent: trace-id is not hex")
	}
	if _, err := hex.Decode(tc.SpanID[:], []byte(v[36:52])); err != nil {
		return tc, errors.New("traceparent: parent-id is not hex")
	}
	if _, err := hex.Decode(flags[:], []byte(v[53:])); err != nil {
		return tc, errors.New("traceparent: trace-flags is not hex")
	}
	tc.Flags = flags[0]
	if !tc.Valid() {
		return tc, errors.New("traceparent: all-zero trace-id or parent-id")
	}
	return tc, nil
}
