package results

import (
	"path/filepath"
	"testing"
	"time"
)

// TestFleetRecord: the per-agent breakdown and the degraded mark reach
// run.json through the journal, while the run goes and at its end, and
// load back.
func TestFleetRecord(t *testing.T) {
	t.Parallel()
	tally := fixtureTally()
	var a AgentStats
	CountAgent(&a, tally, 30*time.Second)
	a.Latency = AgentLatency(tally)
	// The fixture: 95 + 200 sent in the phases, 2 dropped; ok are all but
	// 5 timeouts and 3 throttled.
	if a.Sent != 300 || a.Dropped != 2 || a.Requests != 302 || a.OK != 292 || a.Errors != 8 {
		t.Errorf("counted %+v", a)
	}
	if a.Latency.Count != a.OK || a.RateAchieved != 302.0/30 {
		t.Errorf("latency count %d, rate %g", a.Latency.Count, a.RateAchieved)
	}
	a.Name, a.Status = "127.0.0.2:7070", "lost"

	dir := filepath.Join(t.TempDir(), "run")
	j, err := NewJournal(dir, fixtureMeta())
	if err != nil {
		t.Fatal(err)
	}
	lost := Fleet{Degraded: true, DegradedReasons: []string{"agent 127.0.0.2:7070 lost"}, OnAgentLoss: "continue", Agents: []AgentStats{a}}
	j.SetFleet(lost)
	if err := j.Update(tally); err != nil {
		t.Fatal(err)
	}
	r, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !r.Degraded || len(r.Agents) != 1 || r.Agents[0].Name != a.Name || r.Agents[0].Requests != 302 {
		t.Errorf("while running: degraded %v, agents %+v", r.Degraded, r.Agents)
	}
	// Finish keeps the fleet part unless told otherwise.
	if err := j.Finish(tally, Meta{}); err != nil {
		t.Fatal(err)
	}
	if r, err = Load(dir); err != nil {
		t.Fatal(err)
	}
	if !r.Complete || !r.Degraded || r.OnAgentLoss != "continue" || r.Agents[0].Status != "lost" {
		t.Errorf("at the end: complete %v, degraded %v, agents %+v", r.Complete, r.Degraded, r.Agents)
	}
}
