package procs

import (
	"context"
	"runtime"
	"runtime/metrics"
	"testing"
	"time"
)

// TestGovernor: an idle process stays on one processor; a busy one gets
// all of them back within a few intervals. Not parallel: it sets the
// test process's GOMAXPROCS.
func TestGovernor(t *testing.T) {
	all := runtime.GOMAXPROCS(0)
	t.Cleanup(func() { runtime.GOMAXPROCS(all) })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	g := Start(ctx)
	if g == nil {
		t.Skipf("GOMAXPROCS %d (env %q): nothing to govern", all, "GOMAXPROCS")
	}
	if n := runtime.GOMAXPROCS(0); n != 1 {
		t.Fatalf("GOMAXPROCS %d after Start, want 1", n)
	}
	time.Sleep(3 * interval)
	// On a busy machine (CI runs packages in parallel) even an idle
	// process may wait to be scheduled, which raises it rightly; being
	// busy itself it is not.
	if at, why := g.Raised(); !at.IsZero() && why == "busy" {
		t.Fatalf("idle process raised as busy")
	}
	// Busy: spin until raised, at most 5 s.
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if at, _ := g.Raised(); !at.IsZero() {
			break
		}
	}
	at, why := g.Raised()
	if at.IsZero() {
		t.Fatal("a process spinning for 5 s was not raised")
	}
	if n := runtime.GOMAXPROCS(0); n != all {
		t.Errorf("GOMAXPROCS %d after raise (%s), want %d", n, why, all)
	}
}

func TestStartLeavesUsersChoice(t *testing.T) {
	t.Setenv("GOMAXPROCS", "2")
	if g := Start(context.Background()); g != nil {
		t.Fatal("Start overrode GOMAXPROCS set by the user")
	}
}

func TestAbove(t *testing.T) {
	h := func(counts ...uint64) *metrics.Float64Histogram {
		return &metrics.Float64Histogram{Counts: counts, Buckets: []float64{0, 1e-4, 2e-4, 1e-3, 1}}
	}
	for _, tc := range []struct {
		prev, cur *metrics.Float64Histogram
		v         float64
		n, all    uint64
	}{
		{h(0, 0, 0, 0), h(5, 3, 2, 1), 2e-4, 3, 11},
		{h(5, 3, 2, 1), h(5, 3, 2, 1), 2e-4, 0, 0},
		{h(1, 1, 1, 1), h(10, 1, 1, 4), 1e-3, 3, 12},
		{h(), h(0, 0, 0, 7), 1e-4, 7, 7}, // prev shorter: runtime grew the buckets
	} {
		if n, all := above(tc.prev, tc.cur, tc.v); n != tc.n || all != tc.all {
			t.Errorf("above(%v, %v, %v) = %d of %d, want %d of %d", tc.prev.Counts, tc.cur.Counts, tc.v, n, all, tc.n, tc.all)
		}
	}
}
