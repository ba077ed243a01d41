package scenarios

import (
	"cmp"
	"fmt"
	"hash/fnv"
	"math/bits"
	"math/rand/v2"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/coldbench/coldbench/drivers"
	"github.com/coldbench/coldbench/scenarios/replay"
)

// Requester is implemented by schedules whose arrivals carry their own
// request (the replay shapes): Request(n) is what arrival n sends, or nil
// for the target's configured request. The engine hands it to the driver
// in drivers.Call.Request; it is shared, and must not be changed.
type Requester interface {
	Request(n uint64) *drivers.Request
}

var (
	_ Schedule  = (*TracePacer)(nil)
	_ Requester = (*TracePacer)(nil)
	_ Schedule  = LogPacer{}
	_ Requester = LogPacer{}
)

// TracePacer replays invocation counts per function per minute. Within a
// minute the invocations of every function are placed by the spread, then
// merged in time order (ties in the order of the functions); the merged
// sequence of the whole trace is what shares split, every parts-th
// arrival to a part, so that the parts together replay each invocation
// exactly once. Every part computes the same sequence: a function's
// random placement in a minute is seeded by the scenario seed, the phase,
// the function and the minute, never by the part.
//
// At generates one minute at a time and keeps it, so calls with
// increasing n cost O(1) each (amortised) and memory is one minute's
// arrivals. It is safe for concurrent use.
type TracePacer struct {
	fns    []replay.Function
	reqs   []drivers.Request // per function: the header naming it
	fseed  []uint64          // per function
	minute time.Duration     // a compressed trace minute
	dur    time.Duration     // the phase
	spread Spread
	seed   uint64   // the scenario seed mixed with the phase index
	prefix []uint64 // prefix[m]: the whole's arrivals before minute m
	sh     share

	mu  sync.Mutex
	cur int        // the minute in arr, or −1
	arr []arrivalF // its arrivals in time order
}

// arrivalF is one invocation of function f at offset t from the phase start.
type arrivalF struct {
	t time.Duration
	f int32
}

func newTracePacer(t *AzureTrace, tr *replay.Trace, d time.Duration, seed uint64, sh share) *TracePacer {
	p := &TracePacer{fns: tr.Functions, minute: minute(t.Speedup), dur: d, spread: t.Spread, seed: seed, sh: sh, cur: -1}
	if p.spread == "" {
		p.spread = Equidistant
	}
	header := t.Header
	if header == "" {
		header = DefaultFunctionHeader
	}
	p.reqs = make([]drivers.Request, len(p.fns))
	p.fseed = make([]uint64, len(p.fns))
	for i, f := range p.fns {
		p.reqs[i] = drivers.Request{Header: map[string]string{header: f.Hash}}
		h := fnv.New64a()
		fmt.Fprintf(h, "%s\x00%s\x00%s", f.Owner, f.App, f.Hash)
		p.fseed[i] = h.Sum64()
	}
	minutes := tr.End - tr.Start + 1
	p.prefix = make([]uint64, minutes+1)
	for m := range minutes {
		p.prefix[m+1] = p.prefix[m]
		for _, f := range p.fns {
			p.prefix[m+1] += uint64(f.Counts[m])
		}
	}
	return p
}

// At returns when arrival n of this share is due.
func (p *TracePacer) At(n uint64) (time.Duration, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	a, ok := p.arrival(n)
	return a.t, ok && a.t < p.dur
}

// Request is arrival n's request: the header naming its function.
func (p *TracePacer) Request(n uint64) *drivers.Request {
	p.mu.Lock()
	defer p.mu.Unlock()
	if a, ok := p.arrival(n); ok {
		return &p.reqs[a.f]
	}
	return nil
}

// arrival finds this share's arrival n, generating its minute if need be.
// Called with mu held.
func (p *TracePacer) arrival(n uint64) (arrivalF, bool) {
	k, ok := p.sh.global(n)
	total := p.prefix[len(p.prefix)-1]
	if !ok || k >= total {
		return arrivalF{}, false
	}
	// The minute m holding the whole's arrival k: prefix[m] ≤ k < prefix[m+1].
	m := sort.Search(len(p.prefix)-1, func(m int) bool { return p.prefix[m+1] > k })
	if m != p.cur {
		p.generate(m)
	}
	return p.arr[k-p.prefix[m]], true
}

// generate places minute m's invocations. Called with mu held.
func (p *TracePacer) generate(m int) {
	start := time.Duration(m) * p.minute
	p.arr = p.arr[:0]
	var gaps []float64
	for fi, f := range p.fns {
		c := uint64(f.Counts[m])
		if c == 0 {
			continue
		}
		if p.spread == Equidistant {
			// The middle of slot j of c: (2j+1)·minute / 2c, in 128 bits.
			for j := range c {
				hi, lo := bits.Mul64(2*j+1, uint64(p.minute))
				q, _ := bits.Div64(hi, lo, 2*c) // < minute, so it fits
				p.arr = append(p.arr, arrivalF{start + time.Duration(q), int32(fi)})
			}
			continue
		}
		// c+1 random gaps, scaled so that they fill the minute: the
		// invocations fall strictly inside it.
		rng := rand.New(rand.NewPCG(p.seed, splitmix(p.fseed[fi]^splitmix(uint64(m)))))
		gaps = slices.Grow(gaps[:0], int(c)+1)[:c+1]
		var sum float64
		for i := range gaps {
			if p.spread == Exponential {
				gaps[i] = rng.ExpFloat64()
			} else {
				gaps[i] = rng.Float64()
			}
			sum += gaps[i]
		}
		var at float64
		for _, g := range gaps[:c] {
			at += g
			off := time.Duration(float64(p.minute) * at / sum)
			p.arr = append(p.arr, arrivalF{start + min(max(off, 0), p.minute-1), int32(fi)})
		}
	}
	slices.SortFunc(p.arr, func(a, b arrivalF) int {
		return cmp.Or(cmp.Compare(a.t, b.t), cmp.Compare(a.f, b.f))
	})
	p.cur = m
}

// Rate is this share's mean rate over the trace minute under way.
func (p *TracePacer) Rate(elapsed time.Duration) float64 {
	if elapsed < 0 || p.minute <= 0 {
		return 0
	}
	m := int(elapsed / p.minute)
	if m >= len(p.prefix)-1 {
		return 0
	}
	return float64(p.prefix[m+1]-p.prefix[m]) / p.minute.Seconds() / float64(p.sh.parts)
}

// Planned is this share of the trace's invocations.
func (p *TracePacer) Planned() int64 { return clampCount(p.sh.count(p.prefix[len(p.prefix)-1])) }

// String describes the schedule, for plans and logs.
func (p *TracePacer) String() string {
	return fmt.Sprintf("azure trace: %d functions, %d minutes of %s, %s, %d invocations%s",
		len(p.fns), len(p.prefix)-1, p.minute, p.spread, p.prefix[len(p.prefix)-1], p.sh)
}

// LogPacer replays a request log: arrival k at the k-th request's offset
// from the first, compressed by the speedup, carrying that request's
// method, path, headers and body. Shares take every parts-th request.
type LogPacer struct {
	at   []time.Duration
	reqs []drivers.Request
	dur  time.Duration
	sh   share
}

func newLogPacer(l *RequestLog, es []replay.Entry, d time.Duration, sh share) LogPacer {
	p := LogPacer{at: make([]time.Duration, len(es)), reqs: make([]drivers.Request, len(es)), dur: d, sh: sh}
	for i, e := range es {
		p.at[i] = logOffset(e, es[0], l.Speedup)
		p.reqs[i] = drivers.Request{Method: e.Method, Path: e.Path, Header: e.Header, Body: e.Body}
	}
	return p
}

// At returns when this share's request n is due.
func (p LogPacer) At(n uint64) (time.Duration, bool) {
	k, ok := p.sh.global(n)
	if !ok || k >= uint64(len(p.at)) {
		return 0, false
	}
	return p.at[k], p.at[k] < p.dur
}

// Request is this share's request n as logged.
func (p LogPacer) Request(n uint64) *drivers.Request {
	k, ok := p.sh.global(n)
	if !ok || k >= uint64(len(p.reqs)) {
		return nil
	}
	return &p.reqs[k]
}

// Rate is this share's mean rate over the phase.
func (p LogPacer) Rate(elapsed time.Duration) float64 {
	if elapsed < 0 || elapsed >= p.dur {
		return 0
	}
	return float64(p.Planned()) / p.dur.Seconds()
}

// Planned is this share of the log's requests.
func (p LogPacer) Planned() int64 { return clampCount(p.sh.count(uint64(len(p.at)))) }

// String describes the schedule, for plans and logs.
func (p LogPacer) String() string {
	return fmt.Sprintf("request log: %d requests over %s%s", len(p.at), p.dur, p.sh)
}
