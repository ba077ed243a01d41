package fleet

import (
	"fmt"
	"math"
	"strings"
	"time"

	pb "github.com/coldbench/coldbench/proto/coldbench/v1"
)

// Agents lose no planned request. Each agent tells the controller every
// PositionInterval, in a few bytes a segment, how far it got through each
// schedule segment it runs (Position). When an agent is lost and the
// policy is rebalance, the survivors re-split the schedule from a resume
// point one lead ahead (Controller.rebalance), and the stretch the lost
// agent did not send before that point — from just after the last arrival
// it reported to the resume point — goes to the survivors as catch-ups:
// overdue arrivals they send at once, latency measured from their due
// times, so they show as late. What the lost agent sent after its last
// report (at most a PositionInterval of its share) is sent twice.

// PositionInterval is how often an agent reports its position.
const PositionInterval = 100 * time.Millisecond

// noCut is a segment that runs to the schedule's end.
const noCut = time.Duration(math.MaxInt64)

// segPlan is the controller's record of one schedule segment an agent
// runs: the share part of parts, from arrival startNext of startPhase
// (startPhase −1: from the arrivals due at from) to those due before cut,
// and the agent's last reported position in it.
type segPlan struct {
	gen, seq    int32
	part, parts int
	from, cut   time.Duration
	startPhase  int32
	startNext   uint64
	// Reported by the agent (known): every arrival before next of phase
	// was sent or dropped.
	known bool
	phase int32
	next  uint64
}

// position records an agent's report. Called with ctl.mu held.
func (c *conn) position(p *pb.Position) {
	for _, sp := range p.GetSegments() {
		for i := range c.segs {
			s := &c.segs[i]
			if s.gen == sp.GetGeneration() && s.seq == sp.GetSeq() {
				s.known, s.phase, s.next = true, sp.GetPhase(), sp.GetNext()
			}
		}
	}
}

// catchUps are the stretches of lost's segments it did not send before
// resume, each from just after its last reported position (or the
// segment's start, if it reported none). Called with ctl.mu held.
func catchUps(lost *conn, resume time.Duration) []*pb.CatchUp {
	var out []*pb.CatchUp
	for _, s := range lost.segs {
		until := min(s.cut, resume)
		if until <= s.from && s.startPhase < 0 {
			continue // cut before it began
		}
		cu := &pb.CatchUp{Part: int32(s.part), Parts: int32(s.parts), Phase: s.startPhase, Next: s.startNext,
			FromOffsetNanos: int64(s.from), UntilOffsetNanos: int64(until)}
		if s.known {
			cu.Phase, cu.Next = s.phase, s.next
		}
		out = append(out, cu)
	}
	return out
}

// describeCatchUps says where the survivors resumed, for the degraded
// reasons.
func describeCatchUps(agent string, cus []*pb.CatchUp) string {
	var parts []string
	for _, cu := range cus {
		if cu.GetPhase() >= 0 {
			parts = append(parts, fmt.Sprintf("share %d/%d after arrival %d of phase %d", cu.GetPart(), cu.GetParts(), cu.GetNext(), cu.GetPhase()))
		} else {
			parts = append(parts, fmt.Sprintf("share %d/%d from %s", cu.GetPart(), cu.GetParts(), time.Duration(cu.GetFromOffsetNanos()).Truncate(time.Millisecond)))
		}
	}
	return fmt.Sprintf("the survivors resumed agent %s's %s, sending its overdue arrivals at once (late)", agent, strings.Join(parts, "; "))
}
