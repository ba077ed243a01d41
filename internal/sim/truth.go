package sim

import (
	"encoding/json"
	"slices"
	"time"
)

// Record is the emulator's ground truth about one request to the function:
// what the platform really did, to check what coldbench measured against.
// Durations are the modelled ones, which the headers report; the wall-clock
// time a request took is at least Init + Handler, plus scheduling noise.
type Record struct {
	Seq        uint64        // invocation number in arrival order, from 1 (throttled requests included)
	RequestID  string        // the X-Request-Id header, if sent
	InstanceID string        // the instance that served it; empty when throttled
	Cold       bool          // it started a new instance
	Init       time.Duration // init time of that instance; 0 when warm
	Handler    time.Duration // handler time at the instance's memory size
	MemoryMB   int           // memory of the instance (of the function, when throttled)
	MemoryUsed int           // the instance's peak memory used, MB, as the header reports it; 0 when throttled
	Status     int           // 200, or 429 when throttled
	Arrival    time.Time     // when the request reached the emulator
}

// Billed is the billed duration of r (0 when throttled).
func (r Record) Billed() time.Duration {
	if r.Status != 200 {
		return 0
	}
	return BilledDuration(r.Handler)
}

// recordJSON is Record's wire form, with durations in milliseconds.
type recordJSON struct {
	Seq        uint64    `json:"seq"`
	RequestID  string    `json:"request_id,omitempty"`
	InstanceID string    `json:"instance_id,omitempty"`
	Cold       bool      `json:"cold"`
	InitMS     float64   `json:"init_ms"`
	HandlerMS  float64   `json:"handler_ms"`
	MemoryMB   int       `json:"memory_mb"`
	MemoryUsed int       `json:"memory_used_mb,omitempty"`
	Status     int       `json:"status"`
	Arrival    time.Time `json:"arrival"`
}

// MarshalJSON writes r with durations in milliseconds.
func (r Record) MarshalJSON() ([]byte, error) {
	return json.Marshal(recordJSON{
		Seq:        r.Seq,
		RequestID:  r.RequestID,
		InstanceID: r.InstanceID,
		Cold:       r.Cold,
		InitMS:     ms(r.Init),
		HandlerMS:  ms(r.Handler),
		MemoryMB:   r.MemoryMB,
		MemoryUsed: r.MemoryUsed,
		Status:     r.Status,
		Arrival:    r.Arrival,
	})
}

// UnmarshalJSON reads the form MarshalJSON writes.
func (r *Record) UnmarshalJSON(b []byte) error {
	var j recordJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	initD, err := fromMS(j.InitMS, "init_ms")
	if err != nil {
		return err
	}
	handler, err := fromMS(j.HandlerMS, "handler_ms")
	if err != nil {
		return err
	}
	*r = Record{
		Seq:        j.Seq,
		RequestID:  j.RequestID,
		InstanceID: j.InstanceID,
		Cold:       j.Cold,
		Init:       initD,
		Handler:    handler,
		MemoryMB:   j.MemoryMB,
		MemoryUsed: j.MemoryUsed,
		Status:     j.Status,
		Arrival:    j.Arrival,
	}
	return nil
}

// TruthSnapshot is the whole ground truth, as GET /_sim/truth serves it.
type TruthSnapshot struct {
	Records []Record `json:"records"`
	Dropped int64    `json:"dropped"` // records not kept because the log was full
	Stats   Stats    `json:"stats"`
}

// truthLog keeps the first cap records; later ones are only counted. Keeping
// the start rather than a ring of the end means a record, once read, never
// disappears, and a test can always find the requests it sent first.
type truthLog struct {
	cap     int
	recs    []Record
	byID    map[string]int // request id -> index in recs; a repeated id maps to its last record
	dropped int64
}

func newTruthLog(limit int) truthLog {
	return truthLog{cap: limit, byID: make(map[string]int)}
}

func (l *truthLog) add(r Record) {
	if len(l.recs) >= l.cap {
		l.dropped++
		return
	}
	if r.RequestID != "" {
		l.byID[r.RequestID] = len(l.recs)
	}
	l.recs = append(l.recs, r)
}

// Truth returns a copy of the ground-truth records. Served requests are
// appended when they finish and throttled ones when they are refused, so the
// slice is in completion order; sort by Seq for arrival order.
func (e *Emulator) Truth() []Record {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.truth.recs)
}

// TruthByID returns the record of the request that sent X-Request-Id: id.
// It reports false for an unknown id, for a request still in flight, and for
// one past the truth cap.
func (e *Emulator) TruthByID(id string) (Record, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	i, ok := e.truth.byID[id]
	if !ok {
		return Record{}, false
	}
	return e.truth.recs[i], true
}

// TruthSnapshot returns the records, the dropped count and the counters,
// taken together.
func (e *Emulator) TruthSnapshot() TruthSnapshot {
	e.mu.Lock()
	defer e.mu.Unlock()
	return TruthSnapshot{
		Records: append([]Record{}, e.truth.recs...), // [] rather than null in JSON
		Dropped: e.truth.dropped,
		Stats:   e.statsLocked(),
	}
}
