package fleet

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coldbench/coldbench/scenarios"
)

// arrivals lists every arrival offset (from the run's start) of plan.
func arrivals(plan *scenarios.Plan) []time.Duration {
	var out []time.Duration
	for _, p := range plan.Phases {
		for n := uint64(0); ; n++ {
			at, ok := p.Schedule.At(n)
			if !ok || at >= p.Duration {
				break
			}
			out = append(out, p.Start+at)
		}
	}
	return out
}

// TestRebalanceCoversTheSchedule: N agents cut at a resume offset plus M
// survivors re-split from it send every arrival of the whole schedule
// exactly once, for every arrival shape.
func TestRebalanceCoversTheSchedule(t *testing.T) {
	t.Parallel()
	s, err := scenarios.Parse("shapes.yaml", []byte(`
name: shapes
target: {driver: sim}
phases:
  - {name: burst, duration: 1s, burst: {requests: 31, within: 500ms}}
  - {name: rate, duration: 2s, rate: 97/s}
  - {name: ramp, duration: 2s, ramp: {from: 10, to: 90}}
  - {name: steps, steps: [{rate: 13, duration: 1s}, {rate: 41, duration: 1s}]}
  - {name: rest, duration: 1s, idle: true}
`))
	if err != nil {
		t.Fatal(err)
	}
	whole, err := scenarios.Compile(s)
	if err != nil {
		t.Fatal(err)
	}
	want := arrivals(whole)
	tests := []struct {
		name   string
		n, m   int
		resume time.Duration
	}{
		{"mid-phase", 3, 2, 2500 * time.Millisecond},                      // inside the rate phase
		{"phase boundary", 4, 3, 3 * time.Second},                         // exactly at a phase start
		{"during the first burst", 2, 1, 200 * time.Millisecond},          // the burst is being sent
		{"before the start", 3, 2, 0},                                     // an agent lost before the start
		{"after the end", 3, 2, 20 * time.Second},                         // nothing left to hand over
		{"in the idle phase", 5, 4, 7*time.Second + 500*time.Millisecond}, // nothing left either
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []time.Duration
			for i := range tt.n {
				plan, err := scenarios.CompileShare(s, i, tt.n)
				if err != nil {
					t.Fatal(err)
				}
				w := newWindow(0)
				wp := windowPlan(plan, w)
				w.cutAt(tt.resume)
				got = append(got, arrivals(wp)...)
			}
			for j := range tt.m {
				plan, err := scenarios.CompileShare(s, j, tt.m)
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, arrivals(windowPlan(plan, newWindow(tt.resume)))...)
			}
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Errorf("%d arrivals, want the whole schedule's %d exactly", len(got), len(want))
			}
		})
	}
}

// TestWindowPoisson: a random schedule seen through a window keeps only the
// arrivals in it, in order.
func TestWindowPoisson(t *testing.T) {
	t.Parallel()
	s, err := scenarios.Parse("p.yaml", []byte("name: p\ntarget: {driver: sim}\nphases:\n  - {name: a, duration: 4s, poisson: 200/s}\n"))
	if err != nil {
		t.Fatal(err)
	}
	plan, err := scenarios.Compile(s)
	if err != nil {
		t.Fatal(err)
	}
	all := arrivals(plan)
	plan, _ = scenarios.Compile(s)
	w := newWindow(time.Second)
	got := arrivals(windowPlan(plan, w))
	var want []time.Duration
	for _, at := range all {
		if at >= time.Second {
			want = append(want, at)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("%d arrivals through the window, want %d", len(got), len(want))
	}
	plan, _ = scenarios.Compile(s)
	w = newWindow(time.Second)
	wp := windowPlan(plan, w)
	w.cutAt(2 * time.Second)
	w.cutAt(3 * time.Second) // a later cut does not move it back
	for _, at := range arrivals(wp) {
		if at < time.Second || at >= 2*time.Second {
			t.Fatalf("arrival at %v outside [1s, 2s)", at)
		}
	}
}

// TestCatchUpWindow: a catch-up covers a share from just after a reported
// position (arrival next of phase) to the cut, and never before the
// segment's own start: with the lost agent's sent arrivals, the catch-up
// and the survivors' re-split from the cut, every arrival of the share is
// sent exactly once.
func TestCatchUpWindow(t *testing.T) {
	t.Parallel()
	s, err := scenarios.Parse("c.yaml", []byte(`
name: c
target: {driver: sim}
phases:
  - {name: a, duration: 1s, rate: 40/s}
  - {name: b, duration: 1s, burst: {requests: 12, within: 300ms}}
  - {name: c, duration: 1s, rate: 30/s}
`))
	if err != nil {
		t.Fatal(err)
	}
	share := func() *scenarios.Plan {
		p, err := scenarios.CompileShare(s, 1, 3)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	all := arrivals(share())
	tests := []struct {
		name        string
		from, cut   time.Duration // the segment's window and the resume point
		phase, next int           // the reported position
	}{
		{"mid-phase", 0, 2500 * time.Millisecond, 0, 7},
		{"in the burst", 0, 2900 * time.Millisecond, 1, 2},
		{"at a phase's end", 0, 2500 * time.Millisecond, 0, 14}, // every arrival of phase a sent
		{"a segment that began late", 1500 * time.Millisecond, 2500 * time.Millisecond, 0, 0},
		{"nothing left", 0, time.Second, 0, 14},
	}
	for _, tt := range tests {
		w := newWindow(tt.from)
		w.cutAt(tt.cut)
		wp, _ := windowPlanAfter(share(), w, tt.phase, uint64(tt.next))
		got := arrivals(wp)
		// The share's arrivals after the position, in [from, cut).
		var want []time.Duration
		k := 0
		for i, p := range share().Phases {
			for n := uint64(0); ; n++ {
				at, ok := p.Schedule.At(n)
				if !ok || at >= p.Duration {
					break
				}
				after := i > tt.phase || i == tt.phase && n >= uint64(tt.next)
				if off := p.Start + at; after && off >= tt.from && off < tt.cut {
					want = append(want, off)
				}
				k++
			}
		}
		if k != len(all) {
			t.Fatalf("share counted twice differently: %d, %d", k, len(all))
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: catch-up %v, want %v", tt.name, got, want)
		}
	}
}

func TestCheckProtocol(t *testing.T) {
	t.Parallel()
	if err := checkProtocol(ProtocolVersion, ProtocolVersion); err != nil {
		t.Errorf("same version: %v", err)
	}
	for _, tt := range []struct {
		agent, controller uint32
		upgrade           string
	}{{1, 0, "upgrade the controller"}, {1, 2, "upgrade the agent"}} {
		err := checkProtocol(tt.agent, tt.controller)
		if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("protocol %d, this agent protocol %d", tt.controller, tt.agent)) || !strings.Contains(err.Error(), tt.upgrade) {
			t.Errorf("agent %d, controller %d: %v", tt.agent, tt.controller, err)
		}
	}
}
