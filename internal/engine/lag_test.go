package engine

import (
	"context"
	"testing"
	"time"

	"github.com/coldbench/coldbench/results"
)

// TestLagRecorded checks that every sent request lands in the phase's
// generator lag histogram, and that lag is no more than latency (a
// request cannot finish before it began).
func TestLagRecorded(t *testing.T) {
	t.Parallel()
	e, err := New(okDriver{}, plan(constant("a", 200, 500*time.Millisecond)))
	if err != nil {
		t.Fatal(err)
	}
	tally, err := e.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	p := tally.Phases[0]
	lag := p.Hist(results.LagKey)
	if lag == nil || lag.TotalCount() != p.Sent || p.Sent != 100 {
		t.Fatalf("sent %d, lag histogram %v", p.Sent, lag)
	}
	var maxLatency int64
	for k, h := range p.Hists {
		if k.Kind == results.Latency {
			maxLatency = max(maxLatency, h.Max())
		}
	}
	// The lag histogram is coarser (2 digits) than the latency one: the
	// two maxima may differ within one of its buckets.
	if lag.Max() > maxLatency && !lag.ValuesAreEquivalent(lag.Max(), maxLatency) {
		t.Errorf("lag max %d µs above latency max %d µs", lag.Max(), maxLatency)
	}
}
