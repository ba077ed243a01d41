package fleet

import (
	"time"

	"github.com/coldbench/coldbench/internal/engine"
	"github.com/coldbench/coldbench/results"
)

// Snapshot merges the last snapshot of every agent, lost ones included,
// into the run's tally: counters add, histograms merge without loss. The
// phases carry what the whole schedule planned. The tally is the caller's
// to read, not to change.
func (ctl *Controller) Snapshot() *results.Tally {
	ctl.mu.Lock()
	defer ctl.mu.Unlock()
	if len(ctl.conns) == 1 && ctl.conns[0].tally != nil {
		// One agent (a local run): its tally is the run's, and is never
		// changed once decoded, so no merged copy is needed.
		return ctl.conns[0].tally
	}
	t := results.NewTally(ctl.phases)
	for _, c := range ctl.conns {
		if c.tally != nil {
			// Both come from the same plan, so Merge cannot fail.
			_ = t.Merge(c.tally)
		}
	}
	return t
}

// tallyPhases is what the agents' decoded tallies carry for their phases:
// for a lone agent, the whole plan, since its tally is the run's; else the
// names and durations only, so that merging adds nothing to the whole
// plan's counts and rates.
func (ctl *Controller) tallyPhases() []results.PhasePlan {
	if len(ctl.conns) == 1 {
		return ctl.phases
	}
	return ctl.agentPhases
}

// Updated delivers a value when a snapshot has arrived since the last
// receive, for callers that write the merged view as it changes.
func (ctl *Controller) Updated() <-chan struct{} { return ctl.updated }

// StartTime is the run's common start, on the controller's clock; zero
// before Start.
func (ctl *Controller) StartTime() time.Time { return ctl.start }

// Progress is the whole fleet's live progress, as of the agents' last
// snapshots.
func (ctl *Controller) Progress() engine.Progress {
	var p engine.Progress
	ctl.mu.Lock()
	defer ctl.mu.Unlock()
	if ctl.started {
		p.Elapsed = max(0, time.Since(ctl.start))
	}
	for _, c := range ctl.conns {
		pr := c.progress
		if pr == nil {
			continue
		}
		p.Phase = max(p.Phase, int(pr.GetPhase()))
		p.Sent += pr.GetSent()
		p.Done += pr.GetDone()
		p.InFlight += pr.GetInFlight()
		p.Errors += pr.GetErrors()
		p.Cold += pr.GetCold()
		p.Dropped += pr.GetDropped()
	}
	return p
}

// Fleet is the run's per-agent breakdown and whether it was degraded.
func (ctl *Controller) Fleet() results.Fleet { return ctl.fleet(true) }

// LiveFleet is Fleet without the agents' latency percentiles, cheap enough
// to write down every second while the run goes.
func (ctl *Controller) LiveFleet() results.Fleet { return ctl.fleet(false) }

func (ctl *Controller) fleet(latency bool) results.Fleet {
	ctl.mu.Lock()
	defer ctl.mu.Unlock()
	f := results.Fleet{
		Degraded:        len(ctl.reasons) > 0,
		DegradedReasons: append([]string(nil), ctl.reasons...),
		OnAgentLoss:     string(ctl.policy),
	}
	end := ctl.start.Add(ctl.plan.Duration())
	for _, c := range ctl.conns {
		a := results.AgentStats{
			Name:          c.ep.Name,
			Part:          c.part,
			Parts:         c.parts,
			Status:        c.status,
			Error:         c.errText,
			ClockOffsetMs: ms(c.offset),
			RTTMs:         ms(c.rtt),
			Snapshots:     c.snapshots,
			SnapshotBytes: c.bytes,
		}
		if !c.lostAt.IsZero() {
			at := c.lostAt.UTC()
			a.LostAt = &at
		}
		// The agent ran from the start to the end of the schedule or its
		// last snapshot, whichever came first.
		var ran time.Duration
		if !c.taken.IsZero() {
			ran = max(0, minTime(c.taken, end).Sub(ctl.start))
		}
		results.CountAgent(&a, c.tally, ran)
		if latency {
			a.Latency = results.AgentLatency(c.tally)
		}
		if !c.firstSend.IsZero() {
			skew := ms(c.firstSend.Sub(ctl.start.Add(c.firstDue)))
			a.StartSkewMs = &skew
		}
		f.Agents = append(f.Agents, a)
	}
	return f
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// ms is d in milliseconds, to the microsecond.
func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
