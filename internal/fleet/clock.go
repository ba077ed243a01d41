package fleet

import (
	"time"

	pb "github.com/coldbench/coldbench/proto/coldbench/v1"
)

// WithClockOffset makes the agent's clock read d ahead of the machine's
// (behind, for a negative d), as if it were set wrong: in its clock probe
// replies, the start time it is given, and every time it reports. For
// tests only: it lets one machine show that the controller measures an
// agent's offset and starts it on time all the same.
func WithClockOffset(d time.Duration) AgentOption {
	return func(o *agentOptions) error { o.clockOffset = d; return nil }
}

// clock is the agent's wall clock in Unix nanoseconds for the machine's
// Unix nanoseconds ns (0 stays 0: no time).
func (a *Agent) clock(ns int64) int64 {
	if ns == 0 {
		return 0
	}
	return ns + int64(a.o.clockOffset)
}

// shiftSnapshot moves a snapshot's times, taken on the machine's clock, to
// the agent's.
func (a *Agent) shiftSnapshot(s *pb.Snapshot) {
	if a.o.clockOffset == 0 {
		return
	}
	s.TakenUnixNanos = a.clock(s.TakenUnixNanos)
	for _, p := range s.Phases {
		p.StartUnixNanos, p.EndUnixNanos = a.clock(p.StartUnixNanos), a.clock(p.EndUnixNanos)
	}
	if s.Timeline != nil {
		s.Timeline.StartUnixNanos = a.clock(s.Timeline.StartUnixNanos)
	}
}
