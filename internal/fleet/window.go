package fleet

import (
	"math"
	"sort"
	"sync/atomic"
	"time"

	"github.com/coldbench/coldbench/scenarios"
)

// window is the stretch of a run's schedule that one engine on an agent
// covers: the arrivals due at or after from and before cut, as offsets from
// the run's start. A first assignment covers everything (from 0, no cut). A
// rebalance cuts every running engine of the agent at the resume offset
// and starts a new engine for the re-split share from there, so that every
// arrival of the schedule from the resume offset on is sent exactly once
// by the survivors.
//
// The cut is moved while the engine runs. Subtleness ahead: the engine
// asks At for an arrival and then sleeps until it is due, so an arrival
// fetched before the cut moved is still sent even if it falls after the
// cut. The controller therefore resumes far enough ahead (see
// Controller.rebalance) that at any per-agent rate above a few requests per
// second the fetched arrival is due before the cut; at slower rates one
// arrival per survivor may be sent twice at the seam.
type window struct {
	from time.Duration
	cut  atomic.Int64 // time.Duration; math.MaxInt64 for none
}

func newWindow(from time.Duration) *window {
	w := &window{from: from}
	w.cut.Store(math.MaxInt64)
	return w
}

// cutAt ends the window at offset at, unless it already ends earlier.
func (w *window) cutAt(at time.Duration) {
	for {
		cur := w.cut.Load()
		if int64(at) >= cur || w.cut.CompareAndSwap(cur, int64(at)) {
			return
		}
	}
}

// windowPlan wraps every phase of plan in w.
func windowPlan(plan *scenarios.Plan, w *window) *scenarios.Plan {
	p, _ := windowPlanAfter(plan, w, -1, 0)
	return p
}

// windowPlanAfter is windowPlan that also returns the windowed schedules
// (for positions: the engine numbers a phase's arrivals from the window's
// first, the share from its own), and that starts at arrival next of
// phase (and not before w's start) when phase ≥ 0, for a catch-up: the
// arrivals of earlier phases are left out.
func windowPlanAfter(plan *scenarios.Plan, w *window, phase int, next uint64) (*scenarios.Plan, []*windowed) {
	out := *plan
	out.Phases = make([]scenarios.PlannedPhase, len(plan.Phases))
	wss := make([]*windowed, len(plan.Phases))
	for i, p := range plan.Phases {
		ws := newWindowed(p, w)
		switch {
		case phase < 0 || i > phase:
		case i < phase:
			ws.empty = true
		default:
			ws.skip = max(ws.skip, next)
			ws.empty = ws.empty || p.Planned >= 0 && ws.skip >= uint64(p.Planned)
		}
		wss[i] = ws
		p.Schedule = windowSchedule(ws) // windowreq.go
		if p.Planned >= 0 {
			p.Planned -= int64(ws.skip)
			if ws.empty {
				p.Planned = 0
			}
		}
		out.Phases[i] = p
	}
	return &out, wss
}

// windowed is one phase's schedule seen through a window.
type windowed struct {
	inner scenarios.Schedule
	base  time.Duration // the phase's offset from the run's start
	dur   time.Duration
	win   *window
	skip  uint64 // arrivals of inner before the window's start
	empty bool   // the window starts after the phase
}

var _ scenarios.Schedule = (*windowed)(nil)

func newWindowed(p scenarios.PlannedPhase, w *window) *windowed {
	ws := &windowed{inner: p.Schedule, base: p.Start, dur: p.Duration, win: w}
	switch {
	case w.from <= p.Start:
		// The whole phase is in the window.
	case w.from >= p.Start+p.Duration:
		ws.empty = true
	case p.Planned >= 0:
		// Deterministic schedules answer At for any n in constant time:
		// find the first arrival at or after the window's start.
		ws.skip = uint64(sort.Search(int(min(p.Planned, math.MaxInt)), func(k int) bool {
			at, ok := p.Schedule.At(uint64(k))
			return !ok || p.Start+at >= w.from
		}))
	default:
		// Random (poisson) schedules are generated in order; walk them.
		for {
			at, ok := p.Schedule.At(ws.skip)
			if !ok || p.Start+at >= w.from {
				break
			}
			ws.skip++
		}
	}
	return ws
}

// At is the inner schedule's arrival skip+n, unless it falls past the cut.
func (w *windowed) At(n uint64) (time.Duration, bool) {
	if w.empty {
		return 0, false
	}
	at, ok := w.inner.At(w.skip + n)
	if !ok || int64(w.base+at) >= w.win.cut.Load() {
		return 0, false
	}
	return at, true
}

// Rate is the inner schedule's rate inside the window, 0 outside it.
func (w *windowed) Rate(elapsed time.Duration) float64 {
	at := w.base + elapsed
	if w.empty || at < w.win.from || int64(at) >= w.win.cut.Load() {
		return 0
	}
	return scenarios.Pacer(w.inner, w.dur).Rate(elapsed)
}
