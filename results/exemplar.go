package results

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"time"

	"github.com/coldbench/coldbench/drivers"
)

// ExemplarsPerKind is how many exemplars of each kind (slowest, random) a
// phase × temperature keeps.
const ExemplarsPerKind = 5

// Exemplar is one request kept as an example, with the trace id it carried
// so that a user can open exactly that request in their tracing tool.
type Exemplar struct {
	TraceID   [16]byte // zero when trace context was off
	SpanID    [8]byte  // the parent id the request carried
	Sampled   bool     // the sampled flag it carried
	RequestID string
	Latency   time.Duration // from the intended send time
	Service   time.Duration // from the actual send time
	Offset    time.Duration // intended send time, from the phase start
	Outcome   drivers.Outcome
	// Key is a uniform random number drawn per request: the random
	// exemplars are the requests with the smallest keys (bottom-k
	// sampling), which merges across agents and stays uniform.
	Key uint64
}

// TraceIDHex is the trace id in lower-case hex, or "" when there is none.
func (e *Exemplar) TraceIDHex() string {
	if e.TraceID == [16]byte{} {
		return ""
	}
	return hex.EncodeToString(e.TraceID[:])
}

// Exemplars are the exemplars of one phase × temperature: the slowest
// successful requests (by latency, the clock the percentiles beside them
// use) and a uniform random sample of all sent requests, any outcome.
type Exemplars struct {
	Slowest []Exemplar `json:"slowest,omitempty"` // slowest first
	Random  []Exemplar `json:"random,omitempty"`  // by ascending Key
}

// Empty reports whether x holds no exemplar.
func (x *Exemplars) Empty() bool { return len(x.Slowest) == 0 && len(x.Random) == 0 }

// Offer considers one finished request. It allocates only the first time
// (room for ExemplarsPerKind of each kind): the engine calls it per request.
func (x *Exemplars) Offer(e Exemplar) {
	if e.Outcome == drivers.OK {
		x.Slowest = insertBounded(x.Slowest, &e, true)
	}
	x.Random = insertBounded(x.Random, &e, false)
}

// Merge adds o's exemplars into x: the slowest of both (exact: the top k of
// a union is among the tops k of its parts) and the smallest keys of both
// (a uniform sample of the union, whatever each part's count).
func (x *Exemplars) Merge(o *Exemplars) {
	for _, e := range o.Slowest {
		x.Slowest = insertBounded(x.Slowest, &e, true)
	}
	for _, e := range o.Random {
		x.Random = insertBounded(x.Random, &e, false)
	}
}

// Clone returns a copy that shares no memory with x.
func (x *Exemplars) Clone() Exemplars {
	c := Exemplars{}
	if x.Slowest != nil {
		c.Slowest = append(make([]Exemplar, 0, ExemplarsPerKind), x.Slowest...)
	}
	if x.Random != nil {
		c.Random = append(make([]Exemplar, 0, ExemplarsPerKind), x.Random...)
	}
	return c
}

// slower orders by latency, longest first; equal latencies by key, so
// that a merge gives the same set in any order.
func slower(a, b *Exemplar) bool {
	if a.Latency != b.Latency {
		return a.Latency > b.Latency
	}
	return a.Key < b.Key
}

func smallerKey(a, b *Exemplar) bool { return a.Key < b.Key }

// insertBounded inserts e into s, kept ordered slowest first (bySlow) or
// by key, and at most ExemplarsPerKind long. An exemplar already there
// (same request id and key) is not added twice. The order is a flag, not a
// func value: passing e to a func value made it escape, one allocation per
// request on the recording path.
func insertBounded(s []Exemplar, e *Exemplar, bySlow bool) []Exemplar {
	before := func(a, b *Exemplar) bool {
		if bySlow {
			return slower(a, b)
		}
		return smallerKey(a, b)
	}
	if len(s) == ExemplarsPerKind && !before(e, &s[len(s)-1]) {
		return s
	}
	i := len(s)
	for i > 0 && before(e, &s[i-1]) {
		i--
	}
	if i > 0 && s[i-1].Key == e.Key && s[i-1].RequestID == e.RequestID {
		return s
	}
	if s == nil {
		s = make([]Exemplar, 0, ExemplarsPerKind)
	}
	if len(s) < ExemplarsPerKind {
		s = append(s, Exemplar{})
	}
	copy(s[i+1:], s[i:len(s)-1])
	s[i] = *e
	return s
}

// PhaseExemplars is a phase's exemplars by temperature, as run.json holds
// them; a temperature with none is left out.
type PhaseExemplars struct {
	Cold    *Exemplars `json:"cold,omitempty"`
	Warm    *Exemplars `json:"warm,omitempty"`
	Unknown *Exemplars `json:"unknown,omitempty"`
}

// phaseExemplars is the record of p's exemplars, nil when there are none.
func phaseExemplars(p *PhaseTally) *PhaseExemplars {
	var out PhaseExemplars
	found := false
	for t, dst := range map[drivers.Temperature]**Exemplars{drivers.Cold: &out.Cold, drivers.Warm: &out.Warm, drivers.Unknown: &out.Unknown} {
		if x := &p.Exemplars[t]; !x.Empty() {
			c := x.Clone()
			*dst, found = &c, true
		}
	}
	if !found {
		return nil
	}
	return &out
}

// rebuildExemplars puts the stored exemplars back into p.
func rebuildExemplars(p *PhaseTally, pe *PhaseExemplars) {
	if pe == nil {
		return
	}
	for t, x := range map[drivers.Temperature]*Exemplars{drivers.Cold: pe.Cold, drivers.Warm: pe.Warm, drivers.Unknown: pe.Unknown} {
		if x != nil {
			p.Exemplars[t] = x.Clone()
		}
	}
}

// exemplarJSON is an Exemplar as run.json holds it: ids in hex, times in
// milliseconds like the percentiles beside it.
type exemplarJSON struct {
	TraceID   string  `json:"trace_id,omitempty"`
	SpanID    string  `json:"span_id,omitempty"`
	Sampled   bool    `json:"sampled"`
	RequestID string  `json:"request_id"`
	LatencyMs float64 `json:"latency_ms"`
	ServiceMs float64 `json:"service_ms"`
	OffsetMs  float64 `json:"offset_ms"` // intended send time from the phase start
	Outcome   string  `json:"outcome"`
	Key       uint64  `json:"key"`
}

// MarshalJSON implements json.Marshaler.
func (e Exemplar) MarshalJSON() ([]byte, error) {
	j := exemplarJSON{
		TraceID:   e.TraceIDHex(),
		Sampled:   e.Sampled,
		RequestID: e.RequestID,
		LatencyMs: durMs(e.Latency),
		ServiceMs: durMs(e.Service),
		OffsetMs:  durMs(e.Offset),
		Outcome:   e.Outcome.String(),
		Key:       e.Key,
	}
	if e.SpanID != [8]byte{} {
		j.SpanID = hex.EncodeToString(e.SpanID[:])
	}
	return json.Marshal(j)
}

// UnmarshalJSON implements json.Unmarshaler.
func (e *Exemplar) UnmarshalJSON(b []byte) error {
	var j exemplarJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	o, ok := drivers.ParseOutcome(j.Outcome)
	if !ok {
		return fmt.Errorf("exemplar: unknown outcome %q", j.Outcome)
	}
	*e = Exemplar{
		Sampled: j.Sampled, RequestID: j.RequestID, Outcome: o, Key: j.Key,
		Latency: msDur(j.LatencyMs), Service: msDur(j.ServiceMs), Offset: msDur(j.OffsetMs),
	}
	if err := decodeID(e.TraceID[:], j.TraceID); err != nil {
		return fmt.Errorf("exemplar trace_id: %w", err)
	}
	if err := decodeID(e.SpanID[:], j.SpanID); err != nil {
		return fmt.Errorf("exemplar span_id: %w", err)
	}
	return nil
}

func decodeID(dst []byte, s string) error {
	if s == "" {
		return nil
	}
	if len(s) != 2*len(dst) {
		return fmt.Errorf("%q: want %d hex digits", s, 2*len(dst))
	}
	_, err := hex.Decode(dst, []byte(s))
	return err
}

// durMs and msDur convert exactly both ways for any duration below
// 2^53 ns (104 days): JSON keeps a float64 exactly.
func durMs(d time.Duration) float64  { return float64(d) / 1e6 }
func msDur(ms float64) time.Duration { return time.Duration(math.Round(ms * 1e6)) }
