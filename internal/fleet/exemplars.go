package fleet

import (
	"fmt"
	"time"

	"github.com/coldbench/coldbench/drivers"
	pb "github.com/coldbench/coldbench/proto/coldbench/v1"
	"github.com/coldbench/coldbench/results"
)

// encodeExemplars lists a phase's exemplars for a snapshot.
func encodeExemplars(p *results.PhaseTally) []*pb.Exemplar {
	var out []*pb.Exemplar
	for t := range p.Exemplars {
		x := &p.Exemplars[t]
		for _, kind := range []struct {
			slowest bool
			list    []results.Exemplar
		}{{true, x.Slowest}, {false, x.Random}} {
			for i := range kind.list {
				e := &kind.list[i]
				m := &pb.Exemplar{
					Temp: uint32(t), Slowest: kind.slowest, Sampled: e.Sampled, RequestId: e.RequestID,
					LatencyNanos: int64(e.Latency), ServiceNanos: int64(e.Service), OffsetNanos: int64(e.Offset),
					Outcome: uint32(e.Outcome), Key: e.Key,
				}
				if e.TraceID != [16]byte{} {
					m.TraceId, m.SpanId = e.TraceID[:], e.SpanID[:]
				}
				out = append(out, m)
			}
		}
	}
	return out
}

// decodeExemplars puts a snapshot's exemplars into p. They go through the
// same bounded insertion as in the engine, so a snapshot cannot make a
// reservoir grow past its size.
func decodeExemplars(p *results.PhaseTally, ms []*pb.Exemplar) error {
	for _, m := range ms {
		if m.Temp > uint32(drivers.Cold) || int(m.Outcome) >= drivers.NumOutcomes {
			return fmt.Errorf("snapshot phase %s: exemplar with unknown temperature %d or outcome %d", p.Name, m.Temp, m.Outcome)
		}
		e := results.Exemplar{
			Sampled: m.Sampled, RequestID: m.RequestId, Outcome: drivers.Outcome(m.Outcome), Key: m.Key,
			Latency: time.Duration(m.LatencyNanos), Service: time.Duration(m.ServiceNanos), Offset: time.Duration(m.OffsetNanos),
		}
		if len(m.TraceId) != 0 {
			if len(m.TraceId) != len(e.TraceID) || len(m.SpanId) != len(e.SpanID) {
				return fmt.Errorf("snapshot phase %s: exemplar ids of %d and %d bytes", p.Name, len(m.TraceId), len(m.SpanId))
			}
			copy(e.TraceID[:], m.TraceId)
			copy(e.SpanID[:], m.SpanId)
		}
		one := results.Exemplars{}
		if m.Slowest {
			one.Slowest = []results.Exemplar{e}
		} else {
			one.Random = []results.Exemplar{e}
		}
		p.Exemplars[m.Temp].Merge(&one)
	}
	return nil
}
