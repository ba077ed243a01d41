package results

import (
	"time"

	"github.com/coldbench/coldbench/drivers"
)

// Fleet is what a run records about the agents that ran it: one entry per
// agent (a local run has one, in-process) and whether the run was
// degraded. It is embedded in Run and Meta, so its fields sit at the top
// level of run.json.
type Fleet struct {
	// Degraded is set when the run lost traffic it should have sent: an
	// agent was lost mid-run. DegradedReasons says what happened, naming
	// each agent. A degraded run may still be complete.
	Degraded        bool     `json:"degraded,omitempty"`
	DegradedReasons []string `json:"degraded_reasons,omitempty"`
	// OnAgentLoss is the policy the run applied to a lost agent.
	OnAgentLoss string       `json:"on_agent_loss,omitempty"`
	Agents      []AgentStats `json:"agents,omitempty"`
}

// empty reports whether f holds nothing at all.
func (f *Fleet) empty() bool {
	return !f.Degraded && len(f.DegradedReasons) == 0 && f.OnAgentLoss == "" && len(f.Agents) == 0
}

// AgentStats is one agent's part in a run, from the last snapshot the
// controller received from it.
type AgentStats struct {
	// Name is the agent's address, or "local" for the in-process agent.
	Name string `json:"name"`
	// Part and Parts are the agent's first share of the schedule.
	Part  int `json:"part"`
	Parts int `json:"parts"`
	// Status is "done" (finished its share), "stopped" (stopped early by
	// the controller) or "lost".
	Status string `json:"status"`
	// Error is why the agent was lost or stopped, if it said or we know.
	Error string `json:"error,omitempty"`
	// LostAt is when the controller lost the agent (UTC, controller clock).
	LostAt *time.Time `json:"lost_at,omitempty"`

	// Requests is every arrival the agent fired (Sent + Dropped).
	Requests int64 `json:"requests"`
	Sent     int64 `json:"sent"`
	OK       int64 `json:"ok"`
	Errors   int64 `json:"errors"`
	Dropped  int64 `json:"dropped"`
	// RateAchieved is Requests over the time the agent ran, per second.
	RateAchieved float64 `json:"rate_achieved"`
	// Latency is of the agent's successful requests, every temperature
	// together, from the intended send time. The histogram in it merges
	// with the other agents' to the run's. Records written while the run
	// goes leave it empty; the final one has it.
	Latency Percentiles `json:"latency"`

	// ClockOffsetMs is the agent's clock minus the controller's, as
	// estimated from the clock probe with the smallest round trip, RTTMs.
	ClockOffsetMs float64 `json:"clock_offset_ms"`
	RTTMs         float64 `json:"rtt_ms"`
	// StartSkewMs is the agent's first actual send, converted to the
	// controller's clock, minus when the schedule had it due; nil when the
	// agent sent nothing.
	StartSkewMs *float64 `json:"start_skew_ms,omitempty"`
	// Snapshots and SnapshotBytes count the snapshot messages received
	// from the agent and their size on the wire (protobuf encoding).
	Snapshots     int   `json:"snapshots"`
	SnapshotBytes int64 `json:"snapshot_bytes"`
}

// CountAgent fills in a's request counts from t, the agent's tally, and
// its achieved rate over elapsed.
func CountAgent(a *AgentStats, t *Tally, elapsed time.Duration) {
	a.Requests, a.Sent, a.OK, a.Errors, a.Dropped = 0, 0, 0, 0, 0
	if t != nil {
		for _, p := range t.Phases {
			a.Sent += p.Sent
			a.Dropped += p.Dropped
			a.OK += p.Outcomes[drivers.OK]
		}
	}
	a.Requests = a.Sent + a.Dropped
	a.Errors = a.Sent - a.OK
	a.RateAchieved = perSecond(a.Requests, elapsed)
}

// AgentLatency is the latency, from the intended send time, of an agent's
// successful requests in t, every phase and temperature together.
func AgentLatency(t *Tally) Percentiles {
	h := NewHistogram()
	if t != nil {
		for _, p := range t.Phases {
			for k, ph := range p.Hists {
				if k.Outcome == drivers.OK && k.Kind == Latency {
					h.Merge(ph)
				}
			}
		}
	}
	return summarizeHist(h)
}

// SetFleet replaces the fleet part of the record that later updates write.
func (j *Journal) SetFleet(f Fleet) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.meta.Fleet = f
}
