package fleet

import (
	"context"
	"math"
	"testing"
	"time"
)

// TestClockOffset: an agent whose clock is 2 s ahead. The controller's
// probe measures the offset, the agent still starts with the other (its
// start time is sent on its clock), and what it reports lands on the
// controller's clock: the phases begin at the run's start, not 2 s later.
func TestClockOffset(t *testing.T) {
	t.Parallel()
	const off = 2 * time.Second
	eps, ds := localFleet(t, 1)
	skewed, sds := localFleet(t, 1, WithClockOffset(off))
	eps, ds = append(eps, skewed...), append(ds, sds...)
	s := mustParse(t, "name: c\ntarget: {driver: sim}\nphases:\n  - {name: a, duration: 1s, rate: 200/s}\n")
	ctl, err := New(Config{Scenario: s, Agents: eps, StartDelay: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := ctl.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	tally, err := ctl.Wait(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	f := ctl.Fleet()
	for i, want := range []time.Duration{0, off} {
		a := f.Agents[i]
		if got := time.Duration(a.ClockOffsetMs * float64(time.Millisecond)); (got - want).Abs() > 50*time.Millisecond {
			t.Errorf("agent %d: clock offset measured %v, want %v ± 50 ms", i, got, want)
		}
		// A loaded machine starts both late alike; an agent that took
		// its wrong clock at its word would start 2 s off.
		if a.StartSkewMs == nil || math.Abs(*a.StartSkewMs) > 500 || a.Requests != 100 {
			t.Errorf("agent %d: start skew %v ms, %d requests; want within 500 ms, 100", i, a.StartSkewMs, a.Requests)
		}
	}
	first := [2]time.Time{ds[0].calls()[0], ds[1].calls()[0]}
	if d := first[1].Sub(first[0]).Abs(); d > 100*time.Millisecond {
		t.Errorf("first requests %v apart, want within 100 ms", d)
	}
	if d := tally.Phases[0].Start.Sub(ctl.StartTime()).Abs(); d > 500*time.Millisecond {
		t.Errorf("merged phase starts %v from the run's start: the agent's times were not moved to the controller's clock", d)
	}
	t.Logf("offsets %.1f / %.1f ms, skews %.2f / %.2f ms, first requests %v apart",
		f.Agents[0].ClockOffsetMs, f.Agents[1].ClockOffsetMs, *f.Agents[0].StartSkewMs, *f.Agents[1].StartSkewMs, first[1].Sub(first[0]))
}
