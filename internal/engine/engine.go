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
// request seen for an instance id, and inference from scale-out, idle gaps
// and the warm requests of the same moment (infer.go).
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
	overdue     bool // WithOverdue: no phase ends early for being behind (phaseend.go)
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

	rec *results.Recorder // the tally: safe for concurrent use, never waits on a snapshot

	mu   sync.Mutex          // guards everything below up to the counters
	seen map[string]struct{} // instance ids already served a request
	// inf has its own lock, taken inside mu: requests start without mu.
	inf     inferrer
	settled []held // scratch for labelled candidates

	// Live counters for progress; read with Progress.
	sent, done, inflight, errs, colds, dropped atomic.Int64
	phase                                      atomic.Int32
	began                                      atomic.Int64 // unix nanos of the first phase's start
	// pos is how far the pacer loop got: phase<<48 | arrivals of that
	// phase handed to a worker or dropped. Read with Position.
	pos atomic.Uint64
}

// Position is how far the run got through its plan: every arrival before
// arrival next of phase (numbered as the phase's Schedule numbers them)
// was sent or dropped. A fleet agent reports it so that, if it is lost,
// the survivors resume its share right after.
func (e *Engine) Position() (phase int, next uint64) {
	p := e.pos.Load()
	return int(p >> 48), p & (1<<48 - 1)
}

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
		d:    d,
		plan: plan,
		o:    o,
		idp:  strconv.FormatUint(rng.Uint64()&0xffffffffffff, 36) + "-",
		rec:  results.NewRecorder(results.NewTally(phases)),
		seen: map[string]struct{}{},
	}, nil
}

// arrival is one scheduled request handed to a worker.
type arrival struct {
	due   time.Time // the intended send time
	phase int
	seq   uint64
	key   uint64           // the exemplar reservoir's random key
	req   *drivers.Request // the arrival's own request (replay), or nil
	ev    startInfo        // the target when it started, for inference (infer.go)
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
	e.rec.Start()
	e.rec.Do(func(t *results.Tally) { t.Timeline = results.NewTimeline(start) })
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
		e.rec.Do(func(t *results.Tally) { t.Phases[i].Start = start })
		end := start.Add(p.Duration)
		e.pos.Store(uint64(i) << 48)
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
			if n&1023 == 0 && n > 0 && !e.o.overdue && overran(end.Add(phaseOverrun), p, n, e, i) {
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
					e.rec.Drop(i)
				}
			}
			e.pos.Store(uint64(i)<<48 | (n + 1))
		}
		if err == nil {
			err = sl.until(ctx, end)
		}
		stop := end
		if err != nil {
			stop = time.Now()
		}
		e.rec.Do(func(t *results.Tally) { t.Phases[i].End = stop })
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
	e.commitSettled(time.Now(), true)
	e.mu.Unlock()
	return e.rec.Close(), err
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
		if e.o.detect.Infer {
			a.ev = e.inf.begin(began)
		}
		err := e.d.Invoke(ctx, &c)
		end := time.Now()
		e.inflight.Add(-1)
		sent := began
		if !c.Sent.IsZero() {
			sent = c.Sent
		}
		if err != nil && ctx.Err() != nil && errors.Is(err, context.Canceled) {
			// Cancelled by us after the grace period: not a measurement.
			e.inf.end(a.ev, end)
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
	s.Code = drivers.ErrorCode(c, s.Outcome)
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
	if !e.o.detect.Infer {
		e.commit(a, c, s)
		return
	}
	// Every request is evidence for inference, whatever decided its own
	// temperature. Most get their label here; a candidate cold start
	// waits a moment (infer.go), and those whose moment has come are
	// committed now.
	var done bool
	e.settled, done = e.inf.finish(a, c, &s, infer, end, s.Source == drivers.SourceNone, e.settled[:0])
	if done {
		e.commit(a, c, s)
	}
	e.commitHeld()
}

// commitSettled commits the held candidates whose label is due at now, or
// all of them. Called with mu held.
func (e *Engine) commitSettled(now time.Time, all bool) {
	e.settled = e.inf.settle(now, all, e.settled[:0])
	e.commitHeld()
}

// commitHeld commits the labelled candidates in e.settled with their
// evidence. Called with mu held.
func (e *Engine) commitHeld() {
	for i := range e.settled {
		h := &e.settled[i]
		e.commitWith(h.a, &h.call, h.s, true, h.ev)
	}
	clear(e.settled) // drop the calls' references
}

// temperature applies the believed signals in order of strength
// (Detection.Temperature, signals.go).
func (e *Engine) temperature(c *drivers.Call) (drivers.Temperature, drivers.ColdSource) {
	return e.o.detect.Temperature(c, e.seen)
}

// commit records a classified sample. Called with mu held.
func (e *Engine) commit(a arrival, c *drivers.Call, s results.Sample) {
	e.commitWith(a, c, s, false, results.Evidence{})
}

// commitWith records a classified sample and, for an inference
// candidate, the evidence that labelled it. Called with mu held.
func (e *Engine) commitWith(a arrival, c *drivers.Call, s results.Sample, candidate bool, ev results.Evidence) {
	if s.Temp == drivers.Cold {
		e.colds.Add(1)
	}
	e.rec.Add(results.Entry{Phase: a.phase, Due: a.due, Sample: s, Candidate: candidate, Evidence: ev, Exemplar: results.Exemplar{
		TraceID: c.Trace.TraceID, SpanID: c.Trace.SpanID, Sampled: c.Trace.Sampled(),
		RequestID: c.ID, Latency: s.Latency, Service: s.Service, Outcome: s.Outcome, Key: a.key,
	}})
	if e.o.observer != nil {
		e.o.observer(c, s)
	}
}

// Snapshot returns a copy of the tally so far, safe to use while the run
// goes on. Only cold-start candidates still settling (at most settleFor
// after they finished, infer.go) are not in it yet. It does not take the
// recording lock for the copy: workers go on meanwhile.
func (e *Engine) Snapshot() *results.Tally {
	e.mu.Lock()
	e.commitSettled(time.Now(), false)
	e.mu.Unlock()
	return e.rec.Snapshot()
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
