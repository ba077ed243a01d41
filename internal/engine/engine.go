// Package engine is the load loop: it follows a compiled plan's arrival
// schedule (open model), hands each arrival to a bounded pool of workers that
// call the driver, classifies every response cold or warm and by outcome,
// and records it into the run's mergeable tally.
package engine

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coldbench/coldbench/drivers"
	"github.com/coldbench/coldbench/results"
	"github.com/coldbench/coldbench/scenarios"
)

// Detection says which cold-start signals the engine believes, strongest
// first: the driver's platform signal, a header the function sets, the first
// request seen for an instance id, and inference from latency gaps.
type Detection struct {
	Platform bool
	Header   bool
	Instance bool
	Infer    bool
}

// AllSignals believes every signal.
var AllSignals = Detection{Platform: true, Header: true, Instance: true, Infer: true}

// Observer sees every finished request with its final classification. It is
// called with the engine's recording lock held: keep it quick, and do not
// keep c.
type Observer func(c *drivers.Call, s results.Sample)

type options struct {
	maxInFlight int
	detect      Detection
	start       time.Time
	observer    Observer
	seed        uint64
	grace       time.Duration
	trace       Trace // trace.go
}

// Option configures an Engine.
type Option func(*options) error

// WithMaxInFlight bounds the requests in flight; an arrival that finds the
// bound reached is counted as dropped, never delayed.
func WithMaxInFlight(n int) Option {
	return func(o *options) error {
		if n <= 0 {
			return fmt.Errorf("max in flight %d: must be positive", n)
		}
		o.maxInFlight = n
		return nil
	}
}

// WithDetection chooses which cold-start signals to believe.
func WithDetection(d Detection) Option {
	return func(o *options) error { o.detect = d; return nil }
}

// WithStart makes the first phase begin at t instead of at once, so that
// agents started by one controller begin together.
func WithStart(t time.Time) Option {
	return func(o *options) error { o.start = t; return nil }
}

// WithObserver sets a hook that sees every finished request.
func WithObserver(f Observer) Option {
	return func(o *options) error { o.observer = f; return nil }
}

// WithSeed seeds the request ids.
func WithSeed(seed int64) Option {
	return func(o *options) error { o.seed = uint64(seed); return nil }
}

// Engine runs one plan against one driver. It is used once.
type Engine struct {
	d    drivers.Driver
	plan *scenarios.Plan
	o    options
	idp  string // request id prefix, random per run

	mu      sync.Mutex // guards everything below up to the counters
	tally   *results.Tally
	seen    map[string]struct{} // instance ids already served a request
	inf     inferrer
	pending []held

	// Live counters for progress; read with Progress.
	sent, done, inflight, errs, colds, dropped atomic.Int64
	phase                                      atomic.Int32
	began                                      atomic.Int64 // unix nanos of the first phase's start
}

// held is a sample waiting for the inferrer to be believed.
type held struct {
	a     arrival
	call  drivers.Call
	s     results.Sample
	infer time.Duration
}

// maxHeld bounds the samples waiting for inference; beyond it, samples are
// classified warm at once, which keeps memory flat in a run with no warm
// traffic at all.
const maxHeld = 8192

// New makes an engine for plan against d.
func New(d drivers.Driver, plan *scenarios.Plan, opts ...Option) (*Engine, error) {
	o := options{maxInFlight: 1000, detect: AllSignals, seed: 1, grace: 2 * time.Second, trace: Trace{Sampled: 1}}
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return nil, err
		}
	}
	phases := make([]results.PhasePlan, len(plan.Phases))
	for i, p := range plan.Phases {
		phases[i] = results.PhasePlan{Name: p.Name, Duration: p.Duration, Planned: p.Planned, Rate: p.Rate}
	}
	rng := rand.New(rand.NewPCG(o.seed, uint64(time.Now().UnixNano())))
	return &Engine{
		d:     d,
		plan:  plan,
		o:     o,
		idp:   strconv.FormatUint(rng.Uint64()&0xffffffffffff, 36) + "-",
		tally: results.NewTally(phases),
		seen:  map[string]struct{}{},
	}, nil
}

// arrival is one scheduled request handed to a worker.
type arrival struct {
	due   time.Time // the intended send time
	phase int
	seq   uint64
	key   uint64           // the exemplar reservoir's random key
	req   *drivers.Request // the arrival's own request (replay), or nil
}

// Run follows the plan to its end or until ctx is done, and returns the
// tally. When ctx ends early the tally holds everything measured so far and
// the error is ctx's.
func (e *Engine) Run(ctx context.Context) (*results.Tally, error) {
	// Requests in flight when the run stops get a grace period to finish;
	// their context is separate from ctx for that reason.
	reqCtx, cancelReqs := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelReqs()

	ticks := make(chan arrival)
	var wg sync.WaitGroup
	workers := 0
	spawn := func() {
		workers++
		wg.Add(1)
		go func() {
			defer wg.Done()
			e.work(reqCtx, ticks)
		}()
	}
	for workers < min(e.o.maxInFlight, 8) {
		spawn()
	}

	start := e.o.start
	if start.IsZero() {
		start = time.Now()
	}
	e.mu.Lock()
	e.tally.Timeline = results.NewTimeline(start)
	e.mu.Unlock()
	var sl sleeper
	defer sl.stop()
	err := sl.until(ctx, start)
	e.began.Store(start.UnixNano())
	var seq uint64
	for i := range e.plan.Phases {
		if err != nil {
			break
		}
		p := &e.plan.Phases[i]
		e.phase.Store(int32(i))
		e.mu.Lock()
		e.tally.Phases[i].Start = start
		e.mu.Unlock()
		end := start.Add(p.Duration)
		rq, _ := p.Schedule.(scenarios.Requester)
		for n := uint64(0); ; n++ {
			at, ok := p.Schedule.At(n)
			if !ok || at >= p.Duration {
				break
			}
			// Subtleness ahead: the arrival's due time comes from the
			// schedule, not from the clock after sleeping. Latency is
			// measured from it, so a late generator or a stalled target
			// shows up in the numbers instead of hiding (no coordinated
			// omission).
			due := start.Add(at)
			if err = sl.until(ctx, due); err != nil {
				break
			}
			a := arrival{due: due, phase: i, seq: seq}
			if rq != nil {
				a.req = rq.Request(n)
			}
			seq++
			select {
			case ticks <- a:
			default:
				if workers < e.o.maxInFlight {
					spawn()
					ticks <- a
				} else {
					e.dropped.Add(1)
					e.mu.Lock()
					e.tally.Phases[i].Dropped++
					e.mu.Unlock()
				}
			}
		}
		if err == nil {
			err = sl.until(ctx, end)
		}
		stop := end
		if err != nil {
			stop = time.Now()
		}
		e.mu.Lock()
		e.tally.Phases[i].End = stop
		e.mu.Unlock()
		start = end // phases follow the schedule's clock, back to back
	}
	close(ticks)

	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	if err != nil {
		select {
		case <-done:
		case <-time.After(e.o.grace):
			cancelReqs()
			<-done
		}
	} else {
		<-done
	}
	e.mu.Lock()
	e.flushHeld()
	t := e.tally
	e.mu.Unlock()
	return t, err
}

func (e *Engine) work(ctx context.Context, ticks <-chan arrival) {
	var c drivers.Call
	idbuf := make([]byte, 0, 32)
	tr := newTracer(e.o.trace)
	for a := range ticks {
		c.Reset()
		c.Seq = a.seq
		a.key = tr.next(&c.Trace)
		idbuf = strconv.AppendUint(append(idbuf[:0], e.idp...), a.seq, 10)
		c.ID = string(idbuf)
		c.Phase = e.plan.Phases[a.phase].Name
		c.Request = a.req
		e.inflight.Add(1)
		e.sent.Add(1)
		began := time.Now()
		err := e.d.Invoke(ctx, &c)
		end := time.Now()
		e.inflight.Add(-1)
		sent := began
		if !c.Sent.IsZero() {
			sent = c.Sent
		}
		if err != nil && ctx.Err() != nil && errors.Is(err, context.Canceled) {
			// Cancelled by us after the grace period: not a measurement.
			continue
		}
		e.record(a, &c, err, began, sent, end)
	}
}

// record measures one finished request: began is when the worker took it
// up (its lag behind a.due is the generator's), sent when it went on the
// wire as far as the driver can tell.
func (e *Engine) record(a arrival, c *drivers.Call, err error, began, sent, end time.Time) {
	s := results.Sample{
		Outcome: drivers.Classify(c, err),
		Latency: end.Sub(a.due),
		Service: end.Sub(sent),
		Lag:     max(began.Sub(a.due), 1), // 0 would mean "not measured"
		Net:     c.Net,
		Memory:  c.MaxMemoryMB,
	}
	e.done.Add(1)
	if s.Outcome != drivers.OK {
		e.errs.Add(1)
	}
	// Inference asks whether the function itself was slow, so connection
	// set-up must not count: service time from the wire write excludes it
	// already; without a write time, take the network phases out.
	infer := s.Service
	if c.Sent.IsZero() {
		infer -= c.Net.DNS + c.Net.Connect + c.Net.TLS
	}

	e.mu.Lock()
	defer e.mu.Unlock()
	s.Temp, s.Source = e.temperature(c)
	if s.Source == drivers.SourceNone && s.Outcome == drivers.OK && e.o.detect.Infer {
		if !e.inf.add(infer) {
			if len(e.pending) < maxHeld {
				e.pending = append(e.pending, held{a: a, call: *c, s: s, infer: infer})
				return
			}
		} else if len(e.pending) > 0 {
			e.flushHeld()
		}
		s.Temp, s.Source = drivers.Warm, drivers.SourceInferred
		if e.inf.cold(infer) {
			s.Temp = drivers.Cold
		}
	}
	e.commit(a, c, s)
}

// temperature applies the believed signals in order of strength.
func (e *Engine) temperature(c *drivers.Call) (drivers.Temperature, drivers.ColdSource) {
	if c.Temp != drivers.Unknown {
		if (c.Source == drivers.SourcePlatform && e.o.detect.Platform) || (c.Source == drivers.SourceHeader && e.o.detect.Header) {
			return c.Temp, c.Source
		}
	}
	if c.InstanceID != "" && e.o.detect.Instance {
		if _, ok := e.seen[c.InstanceID]; ok {
			return drivers.Warm, drivers.SourceInstance
		}
		e.seen[c.InstanceID] = struct{}{}
		return drivers.Cold, drivers.SourceInstance
	}
	return drivers.Unknown, drivers.SourceNone
}

// flushHeld classifies the held samples with the inferrer as it stands:
// warm when it never found two clusters. Called with mu held.
func (e *Engine) flushHeld() {
	for i := range e.pending {
		h := &e.pending[i]
		h.s.Temp, h.s.Source = drivers.Warm, drivers.SourceInferred
		if e.inf.cold(h.infer) {
			h.s.Temp = drivers.Cold
		}
		e.commit(h.a, &h.call, h.s)
	}
	e.pending = e.pending[:0]
}

// commit records a classified sample. Called with mu held.
func (e *Engine) commit(a arrival, c *drivers.Call, s results.Sample) {
	if s.Temp == drivers.Cold {
		e.colds.Add(1)
	}
	p := e.tally.Phases[a.phase]
	p.Record(s)
	p.Exemplars[s.Temp].Offer(results.Exemplar{
		TraceID: c.Trace.TraceID, SpanID: c.Trace.SpanID, Sampled: c.Trace.Sampled(),
		RequestID: c.ID, Latency: s.Latency, Service: s.Service, Offset: a.due.Sub(p.Start),
		Outcome: s.Outcome, Key: a.key,
	})
	e.tally.Timeline.Add(a.due, s)
	if e.o.observer != nil {
		e.o.observer(c, s)
	}
}

// Snapshot returns a copy of the tally so far, safe to use while the run
// goes on. Samples still waiting for the cold-start inferrer are not in it.
func (e *Engine) Snapshot() *results.Tally {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.tally.Clone()
}

// Progress is a cheap live view of a run.
type Progress struct {
	Phase    int
	Elapsed  time.Duration
	Sent     int64
	Done     int64
	InFlight int64
	Errors   int64
	Cold     int64
	Dropped  int64
}

// Progress reads the live counters without taking the recording lock.
func (e *Engine) Progress() Progress {
	p := Progress{
		Phase:    int(e.phase.Load()),
		Sent:     e.sent.Load(),
		Done:     e.done.Load(),
		InFlight: e.inflight.Load(),
		Errors:   e.errs.Load(),
		Cold:     e.colds.Load(),
		Dropped:  e.dropped.Load(),
	}
	if b := e.began.Load(); b != 0 {
		p.Elapsed = max(0, time.Since(time.Unix(0, b)))
	}
	return p
}

// Duration is the plan's total scheduled duration.
func (e *Engine) Duration() time.Duration {
	var d time.Duration
	for _, p := range e.plan.Phases {
		d += p.Duration
	}
	return d
}
