package fleet

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"google.golang.org/protobuf/proto"

	"github.com/coldbench/coldbench/drivers"
	"github.com/coldbench/coldbench/internal/engine"
	pb "github.com/coldbench/coldbench/proto/coldbench/v1"
	"github.com/coldbench/coldbench/results"
)

// encodeSnapshot turns an agent's tally into a snapshot message: counters
// as they are, histograms as deltas against the previous snapshot of the
// stream. Only mergeable data crosses the wire, never a percentile.
//
// cache, when not nil, is the stream's state: histograms go as the counts
// added since the snapshot last committed to it (see deltaCache), so a
// phase that is over costs a few bytes to send again and a live one the
// buckets that moved. A nil cache sends every histogram whole, in
// HdrHistogram's compressed encoding.
func encodeSnapshot(t *results.Tally, pr engine.Progress, taken time.Time, cache *deltaCache) (*pb.Snapshot, error) {
	if cache != nil {
		cache.next = map[cacheKey]sentCounts{}
	}
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
		for k, n := range p.Codes {
			ps.ErrorCodes = append(ps.ErrorCodes, &pb.ErrorCode{Outcome: uint32(k.Outcome), Code: k.Code, Count: n})
		}
		if p.Inference.Candidates > 0 {
			ps.Inference = p.Inference.Counters()
		}
		for k, h := range p.Hists {
			if h.TotalCount() == 0 {
				continue
			}
			m := &pb.Histogram{Temp: uint32(k.Temp), Outcome: uint32(k.Outcome), Kind: uint32(k.Kind)}
			if err := cache.encode(m, cacheKey{i, k}, h); err != nil {
				return nil, fmt.Errorf("encode histogram of phase %s: %w", p.Name, err)
			}
			ps.Histograms = append(ps.Histograms, m)
		}
		s.Phases[i] = ps
	}
	s.Timeline = encodeTimeline(t.Timeline)
	return s, nil
}

// decodeCache is the controller's state of one agent's stream: the
// histograms of its last snapshot by phase and key, with their counts (to
// add the next deltas to) or the bytes they were decoded from.
type decodeCache map[cacheKey]decoded

type decoded struct {
	data   []byte  // the whole encoding it came from, or nil
	counts []int64 // its counts in the kind's geometry; never changed in place
	h      *hdrhistogram.Histogram
}

type cacheKey struct {
	phase int
	key   results.HistKey
}

// deltaCache is an agent's state of its stream: the counts of each
// histogram in the last snapshot committed (queued for the controller),
// and those of the snapshot being encoded. A snapshot that could not be
// queued is not committed, so the next delta covers its counts too: the
// controller adds up exactly what the agent recorded.
type deltaCache struct {
	sent, next map[cacheKey]sentCounts
}

type sentCounts struct {
	total  int64
	counts []int64
}

func newDeltaCache() *deltaCache { return &deltaCache{sent: map[cacheKey]sentCounts{}} }

// commit records that the snapshot last encoded was queued.
func (c *deltaCache) commit() {
	c.sent, c.next = c.next, nil
}

// encode fills m with h: whole with a nil cache, else as a delta against
// the committed snapshot (whole when h is not of its kind's geometry).
func (c *deltaCache) encode(m *pb.Histogram, ck cacheKey, h *hdrhistogram.Histogram) error {
	if c != nil {
		base, seen := c.sent[ck]
		if seen && base.total == h.TotalCount() {
			m.Delta = true // unchanged: counts only grow
			c.next[ck] = base
			return nil
		}
		if g := geometryOf(ck.key.Kind); sameGeometry(h, g) {
			cur := h.Export().Counts
			if added, ok := appendAdded(nil, base.counts, cur); ok {
				m.Delta, m.Added = true, added
				c.next[ck] = sentCounts{h.TotalCount(), cur}
				return nil
			}
		}
	}
	b, err := results.EncodeHistogram(h)
	m.Hdr = b
	if err == nil && c != nil {
		c.next[ck] = sentCounts{h.TotalCount(), h.Export().Counts}
	}
	return err
}

// appendAdded appends the counts cur has over base (nil: all zero) as
// uvarint (index gap, count) pairs; false when a count went down, which
// a cumulative histogram never does.
func appendAdded(dst []byte, base, cur []int64) ([]byte, bool) {
	if base != nil && len(base) != len(cur) {
		return nil, false
	}
	last := -1
	for i, n := range cur {
		if base != nil {
			n -= base[i]
		}
		if n == 0 {
			continue
		}
		if n < 0 {
			return nil, false
		}
		dst = binary.AppendUvarint(dst, uint64(i-last))
		dst = binary.AppendUvarint(dst, uint64(n))
		last = i
	}
	return dst, true
}

// addCounts adds the pairs of added to a copy of base (nil: all zero) of
// n counts.
func addCounts(base []int64, n int, added []byte) ([]int64, error) {
	out := make([]int64, n)
	copy(out, base)
	i := -1
	for len(added) > 0 {
		gap, k := binary.Uvarint(added)
		if k <= 0 || gap == 0 || gap > uint64(n) {
			return nil, errors.New("bad index in histogram delta")
		}
		added = added[k:]
		count, k := binary.Uvarint(added)
		if k <= 0 || count == 0 || count > math.MaxInt64 {
			return nil, errors.New("bad count in histogram delta")
		}
		added = added[k:]
		if i += int(gap); i >= n {
			return nil, errors.New("histogram delta beyond the histogram's range")
		}
		if out[i] > math.MaxInt64-int64(count) {
			return nil, errors.New("histogram delta overflows a count")
		}
		out[i] += int64(count)
	}
	return out, nil
}

// geometry is a kind's histogram geometry, as Import takes it.
type geometry struct {
	snap hdrhistogram.Snapshot // without counts
	n    int                   // length of the counts array
}

var geometries = sync.OnceValue(func() []geometry {
	var out []geometry
	for k := results.Latency; k <= results.Lag; k++ {
		h := results.NewHistogramOf(k)
		out = append(out, geometry{hdrhistogram.Snapshot{
			LowestTrackableValue: h.LowestTrackableValue(), HighestTrackableValue: h.HighestTrackableValue(),
			SignificantFigures: h.SignificantFigures(), IntegerToDoubleConversionRatio: 1,
		}, len(h.Export().Counts)})
	}
	return out
})

func geometryOf(k results.Kind) geometry { return geometries()[k] }

func sameGeometry(h *hdrhistogram.Histogram, g geometry) bool {
	return h.LowestTrackableValue() == g.snap.LowestTrackableValue && h.HighestTrackableValue() == g.snap.HighestTrackableValue &&
		h.SignificantFigures() == g.snap.SignificantFigures
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
		for _, c := range ps.ErrorCodes {
			if c.Outcome == uint32(drivers.OK) || c.Outcome >= drivers.NumOutcomes {
				return nil, fmt.Errorf("snapshot phase %s: error code %q of class %d", p.Name, c.Code, c.Outcome)
			}
			p.Codes.Add(drivers.Outcome(c.Outcome), c.Code, c.Count)
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
			if h.Delta {
				dst, err := applyDelta(cache, ck, h.Added)
				if err != nil {
					return nil, fmt.Errorf("snapshot phase %s: %w", p.Name, err)
				}
				p.Hists[k] = dst
				continue
			}
			if e, ok := cache[ck]; ok && e.data != nil && bytes.Equal(e.data, h.Hdr) {
				p.Hists[k] = e.h
				continue
			}
			d, err := hdrhistogram.Decode(h.Hdr)
			if err != nil {
				return nil, fmt.Errorf("snapshot phase %s: decode histogram: %w", p.Name, err)
			}
			dst := results.NewHistogramOf(k.Kind)
			if dropped := dst.Merge(d); dropped != 0 {
				return nil, fmt.Errorf("snapshot phase %s: %d values out of range", p.Name, dropped)
			}
			p.Hists[k] = dst
			if cache != nil {
				cache[ck] = decoded{data: h.Hdr, h: dst}
			}
		}
	}
	t.Timeline = decodeTimeline(s.Timeline, offset)
	if err := t.Timeline.Check(); err != nil {
		return nil, fmt.Errorf("snapshot: %w", err)
	}
	return t, nil
}

// applyDelta is the histogram of ck in the stream's previous snapshot
// plus added. The cached histogram is left as it is: tallies decoded
// earlier share it.
func applyDelta(cache decodeCache, ck cacheKey, added []byte) (*hdrhistogram.Histogram, error) {
	if cache == nil {
		return nil, errors.New("a histogram delta outside a stream")
	}
	e, seen := cache[ck]
	if seen && len(added) == 0 {
		return e.h, nil
	}
	g := geometryOf(ck.key.Kind)
	base := e.counts
	if seen && base == nil {
		base = e.h.Export().Counts // came whole
	}
	counts, err := addCounts(base, g.n, added)
	if err != nil {
		return nil, err
	}
	s := g.snap
	s.Counts = counts
	h := hdrhistogram.Import(&s)
	cache[ck] = decoded{counts: counts, h: h}
	return h, nil
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
