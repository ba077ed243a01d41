package engine

import (
	crand "crypto/rand"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"sync/atomic"

	"github.com/coldbench/coldbench/drivers"
)

// Trace says what W3C trace context the engine gives each request.
type Trace struct {
	Off     bool    // send no trace context
	Sampled float64 // share of requests with the sampled flag, 0 to 1
	State   string  // tracestate sent with every request
	// Seed, when not 0, seeds the ids for reproducible tests. Runs leave it
	// 0: each worker seeds from crypto/rand, so that agents sharing a
	// scenario seed still send distinct trace ids.
	Seed uint64
}

// WithTrace sets the trace context (default: on, every request sampled).
func WithTrace(t Trace) Option {
	return func(o *options) error {
		if !(t.Sampled >= 0 && t.Sampled <= 1) {
			return errors.New("trace: sampled must be from 0 to 1")
		}
		o.trace = t
		return nil
	}
}

// tracer makes the ids of one worker's requests. Each worker has its own,
// so the hot path takes no lock and allocates nothing.
type tracer struct {
	rng       rand.PCG
	threshold uint64 // sampled when the trace id's last 63 bits are below it
	state     string
	off       bool
}

// tracers counts the tracers made, to seed them apart under a fixed seed.
var tracers atomic.Uint64

func newTracer(t Trace) tracer {
	tr := tracer{state: t.State, off: t.Off}
	// The same rule as OpenTelemetry's TraceIDRatioBased sampler, so a
	// collector sampling by trace id keeps the same requests.
	tr.threshold = uint64(t.Sampled * (1 << 63))
	if t.Seed != 0 {
		tr.rng.Seed(t.Seed, tracers.Add(1))
	} else {
		var b [16]byte
		_, _ = crand.Read(b[:]) // never fails (crypto/rand panics instead)
		tr.rng.Seed(binary.LittleEndian.Uint64(b[:8]), binary.LittleEndian.Uint64(b[8:]))
	}
	return tr
}

// next fills in tc with fresh ids (or leaves it zero when trace context is
// off) and returns a uniform random key for the exemplar reservoir.
func (tr *tracer) next(tc *drivers.TraceContext) (key uint64) {
	key = tr.rng.Uint64()
	if tr.off {
		return key
	}
	// All-zero ids are invalid (the spec's "no id"); redraw, however rare.
	hi, lo := tr.rng.Uint64(), tr.rng.Uint64()
	for hi == 0 && lo == 0 {
		hi, lo = tr.rng.Uint64(), tr.rng.Uint64()
	}
	span := tr.rng.Uint64()
	for span == 0 {
		span = tr.rng.Uint64()
	}
	binary.BigEndian.PutUint64(tc.TraceID[:8], hi)
	binary.BigEndian.PutUint64(tc.TraceID[8:], lo)
	binary.BigEndian.PutUint64(tc.SpanID[:], span)
	tc.Flags = 0
	if lo>>1 < tr.threshold {
		tc.Flags = drivers.FlagSampled
	}
	tc.State = tr.state
	return key
}
