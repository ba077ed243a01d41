package engine

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/coldbench/coldbench/drivers"
)

// traceRecorder is a driver that answers at once and keeps the trace
// context of every call.
type traceRecorder struct {
	mu   sync.Mutex
	seen []drivers.TraceContext
}

func (r *traceRecorder) Invoke(_ context.Context, c *drivers.Call) error {
	r.mu.Lock()
	r.seen = append(r.seen, c.Trace)
	r.mu.Unlock()
	c.Status = 200
	return nil
}

func (r *traceRecorder) Close() error { return nil }

// TestTraceIDs checks the ids the engine gives requests: valid and unique,
// the sampled flag on the configured share (by OpenTelemetry's trace-id
// ratio rule, so a tolerance of 5 points, 3.6 standard errors, over 1000
// requests), the
// tracestate as configured, none at all when off; and that exemplars are
// kept with the same ids.
func TestTraceIDs(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name  string
		trace Trace
		share float64 // expected sampled share
	}{
		// The default: every request sampled.
		{"all", Trace{Sampled: 1, Seed: 7}, 1},
		// A quarter, with a tracestate.
		{"quarter", Trace{Sampled: 0.25, State: "k=v", Seed: 7}, 0.25},
		// None sampled, ids still sent.
		{"none", Trace{Sampled: 0, Seed: 7}, 0},
		// Off: zero trace context, which drivers send as nothing.
		{"off", Trace{Off: true, Sampled: 1}, -1},
		// Seeded from crypto/rand, as runs are.
		{"crypto seeded", Trace{Sampled: 1}, 1},
	} {
		t.Run(tt.name, func(t *testing.T) { // one at a time: other tests here measure timing
			d := &traceRecorder{}
			e, err := New(d, plan(constant("p", 500, 2*time.Second)), WithTrace(tt.trace), WithDetection(Detection{}))
			if err != nil {
				t.Fatal(err)
			}
			tally, err := e.Run(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if len(d.seen) != 1000 {
				t.Fatalf("%d calls, want 1000", len(d.seen))
			}
			ids := map[[16]byte]bool{}
			sampled := 0
			for i, tc := range d.seen {
				if tt.share < 0 {
					if tc != (drivers.TraceContext{}) {
						t.Fatalf("call %d: trace context %+v with trace off", i, tc)
					}
					continue
				}
				if !tc.Valid() || ids[tc.TraceID] || tc.State != tt.trace.State {
					t.Fatalf("call %d: %+v: invalid, repeated or wrong tracestate", i, tc)
				}
				if _, err := drivers.ParseTraceparent(tc.Traceparent()); err != nil {
					t.Fatalf("call %d: %v", i, err)
				}
				ids[tc.TraceID] = true
				if tc.Sampled() {
					sampled++
				}
			}
			if tt.share >= 0 {
				if got := float64(sampled) / 1000; got < tt.share-0.05 || got > tt.share+0.05 {
					t.Errorf("sampled share %.3f, want %.2f ± 0.05", got, tt.share)
				}
			}
			x := tally.Phases[0].Exemplars[drivers.Unknown]
			if len(x.Slowest) != 5 || len(x.Random) != 5 {
				t.Fatalf("%d slowest and %d random exemplars, want 5 and 5", len(x.Slowest), len(x.Random))
			}
			for _, ex := range append(x.Slowest, x.Random...) {
				if tt.share >= 0 && !ids[ex.TraceID] || tt.share < 0 && ex.TraceID != [16]byte{} {
					t.Errorf("exemplar %s (trace %x) is not one of the calls' trace ids", ex.RequestID, ex.TraceID)
				}
				if ex.Offset < 0 || ex.Offset >= 2*time.Second {
					t.Errorf("exemplar %s: offset %v outside the phase", ex.RequestID, ex.Offset)
				}
			}
		})
	}
}

// TestTraceparentZeroAlloc: formatting a traceparent into a buffer with
// room allocates nothing (the http driver does it per request).
func TestTraceparentZeroAlloc(t *testing.T) {
	tr := newTracer(Trace{Sampled: 1, Seed: 1})
	var tc drivers.TraceContext
	buf := make([]byte, 0, drivers.TraceparentLen)
	if n := testing.AllocsPerRun(100, func() {
		tr.next(&tc)
		buf = tc.AppendTraceparent(buf[:0])
	}); n != 0 {
		t.Errorf("%v allocations per request, want 0", n)
	}
}
