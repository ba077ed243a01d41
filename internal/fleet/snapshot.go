package fleet

import (
	"bytes"
	"fmt"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"google.golang.org/protobuf/proto"

	"github.com/coldbench/coldbench/drivers"
	"github.com/coldbench/coldbench/internal/engine"
	pb "github.com/coldbench/coldbench/proto/coldbench/v1"
	"github.com/coldbench/coldbench/results"
)

// encodeSnapshot turns an agent's tally into a snapshot message: counters
// as they are, histograms in HdrHistogram's compressed encoding. Only
// mergeable data crosses the wire, never a percentile.
//
// cache, when not nil, keeps each histogram's encoding between snapshots:
// a cumulative histogram whose count has not changed is the same
// histogram, so a phase that is over costs nothing to send again.
func encodeSnapshot(t *results.Tally, pr engine.Progress, taken time.Time, cache encodeCache) (*pb.Snapshot, error) {
	s := &pb.Snapshot{
		TakenUnixNanos: taken.UnixNano(),
		Progress: &pb.Progress{
			Phase: int32(pr.Phase), Sent: pr.Sent, Done: pr.Done, InFlight: pr.InFlight,
			Errors: pr.Errors, Cold: pr.Cold, Dropped: pr.Dropped,
		},
		Phases: make([]*pb.PhaseSnapshot, len(t.Phases)),
	}
	for i, p := range t.Phases {
		ps := &pb.PhaseSnapshot{
			Name:           p.Name,
			StartUnixNanos: unixNanos(p.Start),
			EndUnixNanos:   unixNanos(p.End),
			Sent:           p.Sent,
			Dropped:        p.Dropped,
			Outcomes:       p.Outcomes[:],
			ColdSources:    p.ColdSources[:],
			Temps:          p.Temps[:],
			Net:            encodeNet(p.Net),
			Exemplars:      encodeExemplars(p), // exemplars.go
		}
		if p.Inference.Candidates > 0 {
			ps.Inference = p.Inference.Counters()
		}
		for k, h := range p.Hists {
			if h.TotalCount() == 0 {
				continue
			}
			b, err := cache.encode(i, k, h)
			if err != nil {
				return nil, fmt.Errorf("encode histogram of phase %s: %w", p.Name, err)
			}
			ps.Histograms = append(ps.Histograms, &pb.Histogram{
				Temp: uint32(k.Temp), Outcome: uint32(k.Outcome), Kind: uint32(k.Kind), Hdr: b,
			})
		}
		s.Phases[i] = ps
	}
	s.Timeline = encodeTimeline(t.Timeline)
	return s, nil
}

// decodeCache remembers the histograms decoded from an agent's snapshots,
// by phase and key, with the bytes they came from.
type decodeCache map[cacheKey]decoded

type decoded struct {
	data []byte
	h    *hdrhistogram.Histogram
}

// encodeCache remembers histogram encodings by phase and key.
type encodeCache map[cacheKey]cached

type cacheKey struct {
	phase int
	key   results.HistKey
}

type cached struct {
	count int64
	data  []byte
}

// encode encodes h, or returns the encoding of the same phase and key if
// its count has not changed. A nil cache encodes every time.
func (c encodeCache) encode(phase int, k results.HistKey, h *hdrhistogram.Histogram) ([]byte, error) {
	ck := cacheKey{phase, k}
	if e, ok := c[ck]; ok && e.count == h.TotalCount() {
		return e.data, nil
	}
	b, err := h.Encode(hdrhistogram.V2CompressedEncodingCookieBase)
	if err == nil && c != nil {
		c[ck] = cached{h.TotalCount(), b}
	}
	return b, err
}

// decodeSnapshot rebuilds an agent's tally from a snapshot, for the phases
// of plans (in order; their Planned and Rate are what the tally carries).
// Times on the agent's clock are moved to the controller's by subtracting
// offset, the agent's clock minus the controller's.
//
// cache, when not nil, keeps the histograms decoded from the agent's last
// snapshot: a histogram sent again unchanged (a phase that is over) is
// taken from it instead of decoded again. Histograms are shared between
// the tallies decoded with one cache, so they must be treated as read-only.
func decodeSnapshot(s *pb.Snapshot, plans []results.PhasePlan, offset time.Duration, cache decodeCache) (*results.Tally, error) {
	if len(s.Phases) != len(plans) {
		return nil, fmt.Errorf("snapshot has %d phases, the plan %d", len(s.Phases), len(plans))
	}
	t := results.NewTally(plans)
	for i, ps := range s.Phases {
		p := t.Phases[i]
		if ps.Name != p.Name {
			return nil, fmt.Errorf("snapshot phase %d is %q, the plan's %q", i, ps.Name, p.Name)
		}
		if len(ps.Outcomes) > len(p.Outcomes) || len(ps.ColdSources) > len(p.ColdSources) || len(ps.Temps) > len(p.Temps) {
			return nil, fmt.Errorf("snapshot phase %s: more counters than this version knows", p.Name)
		}
		p.Start, p.End = fromUnix(ps.StartUnixNanos, offset), fromUnix(ps.EndUnixNanos, offset)
		p.Sent, p.Dropped = ps.Sent, ps.Dropped
		copy(p.Outcomes[:], ps.Outcomes)
		copy(p.ColdSources[:], ps.ColdSources)
		copy(p.Temps[:], ps.Temps)
		inf, err := results.InferenceFrom(ps.Inference)
		if err != nil {
			return nil, fmt.Errorf("snapshot phase %s: %w", p.Name, err)
		}
		p.Inference = inf
		p.Net = decodeNet(ps.Net)
		if err := decodeExemplars(p, ps.Exemplars); err != nil {
			return nil, err
		}
		for _, h := range ps.Histograms {
			k := results.HistKey{Temp: drivers.Temperature(h.Temp), Outcome: drivers.Outcome(h.Outcome), Kind: results.Kind(h.Kind)}
			if int(k.Outcome) >= drivers.NumOutcomes || k.Temp > drivers.Cold || k.Kind > results.Lag {
				return nil, fmt.Errorf("snapshot phase %s: unknown histogram key %d/%d/%d", p.Name, h.Temp, h.Outcome, h.Kind)
			}
			if _, dup := p.Hists[k]; dup {
				return nil, fmt.Errorf("snapshot phase %s: histogram %d/%d/%d sent twice", p.Name, h.Temp, h.Outcome, h.Kind)
			}
			ck := cacheKey{i, k}
			if e, ok := cache[ck]; ok && bytes.Equal(e.data, h.Hdr) {
				p.Hists[k] = e.h
				continue
			}
			d, err := hdrhistogram.Decode(h.Hdr)
			if err != nil {
				return nil, fmt.Errorf("snapshot phase %s: decode histogram: %w", p.Name, err)
			}
			dst := results.NewHistogram()
			if dropped := dst.Merge(d); dropped != 0 {
				return nil, fmt.Errorf("snapshot phase %s: %d values out of range", p.Name, dropped)
			}
			p.Hists[k] = dst
			if cache != nil {
				cache[ck] = decoded{h.Hdr, dst}
			}
		}
	}
	t.Timeline = decodeTimeline(s.Timeline, offset)
	if err := t.Timeline.Check(); err != nil {
		return nil, fmt.Errorf("snapshot: %w", err)
	}
	return t, nil
}

func encodeNet(n results.NetStats) *pb.NetStats {
	ph := func(p results.PhaseTimes) *pb.NetPhase {
		return &pb.NetPhase{Count: p.Count, SumMs: p.SumMs, MaxMs: p.MaxMs}
	}
	return &pb.NetStats{NewConnections: n.NewConns, Dns: ph(n.DNS), Connect: ph(n.Connect), Tls: ph(n.TLS), FirstByte: ph(n.FirstByte)}
}

func decodeNet(n *pb.NetStats) results.NetStats {
	ph := func(p *pb.NetPhase) results.PhaseTimes {
		t := results.PhaseTimes{Count: p.GetCount(), SumMs: p.GetSumMs(), MaxMs: p.GetMaxMs()}
		if t.Count > 0 {
			t.MeanMs = t.SumMs / float64(t.Count)
		}
		return t
	}
	return results.NetStats{
		NewConns: n.GetNewConnections(), DNS: ph(n.GetDns()), Connect: ph(n.GetConnect()),
		TLS: ph(n.GetTls()), FirstByte: ph(n.GetFirstByte()),
	}
}

func encodeTimeline(t *results.Timeline) *pb.Timeline {
	if t == nil {
		return nil
	}
	out := &pb.Timeline{
		StartUnixNanos: t.Start.UnixNano(),
		StepNanos:      int64(t.Step),
		ColdEvery:      t.ColdEvery,
		Buckets:        make([]*pb.TimelineBucket, len(t.Buckets)),
		Colds:          make([]*pb.ColdPoint, len(t.Colds)),
	}
	for i, b := range t.Buckets {
		n := len(b.Bins)
		for n > 0 && b.Bins[n-1] == 0 {
			n--
		}
		out.Buckets[i] = &pb.TimelineBucket{Sent: b.Sent, Ok: b.OK, Errors: b.Errors, Cold: b.Cold, Bins: append([]uint32(nil), b.Bins[:n]...)}
	}
	for i, c := range t.Colds {
		out.Colds[i] = &pb.ColdPoint{AtNanos: int64(c.At), LatencyNanos: int64(c.Latency)}
	}
	return out
}

func decodeTimeline(t *pb.Timeline, offset time.Duration) *results.Timeline {
	if t == nil {
		return nil
	}
	out := results.NewTimeline(fromUnix(t.StartUnixNanos, offset))
	if t.StepNanos > 0 {
		out.Step = time.Duration(t.StepNanos)
	}
	if t.ColdEvery > 0 {
		out.ColdEvery = t.ColdEvery
	}
	out.Buckets = make([]results.Bucket, len(t.Buckets))
	for i, b := range t.Buckets {
		ob := &out.Buckets[i]
		ob.Sent, ob.OK, ob.Errors, ob.Cold = b.Sent, b.Ok, b.Errors, b.Cold
		copy(ob.Bins[:], b.Bins)
	}
	for _, c := range t.Colds {
		out.Colds = append(out.Colds, results.ColdPoint{At: time.Duration(c.AtNanos), Latency: time.Duration(c.LatencyNanos)})
	}
	return out
}

// unixNanos is t in Unix nanoseconds, 0 for the zero time.
func unixNanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// fromUnix reads Unix nanoseconds of an agent's clock into the
// controller's; 0 is the zero time.
func fromUnix(ns int64, offset time.Duration) time.Time {
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns).Add(-offset)
}

// protoSize is the encoded size of a message.
func protoSize(m proto.Message) int { return proto.Size(m) }
