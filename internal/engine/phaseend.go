package engine

import (
	"time"

	"github.com/coldbench/coldbench/scenarios"
)

// phaseOverrun is how far past its end a phase may still send overdue
// arrivals: a generator a few milliseconds behind at the end of a phase
// sends them late (measured from their due time), one far behind stops.
const phaseOverrun = 50 * time.Millisecond

// overran reports whether phase i, at its arrival n, has run past its end
// (the engine is behind a schedule faster than it can send), and then
// counts the arrivals it will not send as dropped: every phase ends at its
// duration whatever its shape, so a burst the engine cannot keep up with
// stops at the phase end instead of running on. The pacer loop calls it
// every 1024 arrivals, which keeps a clock read off the per-arrival path
// and the overrun to a fraction of a millisecond.
func overran(end time.Time, p *scenarios.PlannedPhase, n uint64, e *Engine, i int) bool {
	if time.Now().Before(end) {
		return false
	}
	left := int64(0)
	if p.Planned >= 0 && uint64(p.Planned) > n {
		left = p.Planned - int64(n)
	}
	e.dropped.Add(left)
	e.rec.DropN(i, left)
	return true
}

// WithOverdue is for a plan whose arrivals are overdue by design (a fleet
// agent catching up a lost agent's share): they are all sent, however far
// behind, instead of stopping each phase at its end.
func WithOverdue() Option {
	return func(o *options) error { o.overdue = true; return nil }
}
