// Package sim is coldbench's FaaS emulator: a real HTTP server that behaves
// like a function platform (instances, cold starts, keep-alive, prewarm,
// memory-scaled CPU, a concurrency limit) and keeps the ground truth of every
// invocation, so that the rest of coldbench can be tested against known
// answers. It is also the target of `coldbench demo`.
//
// Any path invokes the function except the control API under /_sim/
// (config, state, recycle, truth). Responses carry platform headers
// (X-Sim-Cold, X-Sim-Init-Duration, ...) the way Lambda's REPORT line does.
//
// Time is modelled, not spent: init and handler work are timers, never CPU
// burn, so the emulator serves thousands of requests per second on a small
// machine that also runs the load generator.
package sim

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"slices"
	"sync"
	"time"
)

// ErrClosed is returned by operations on a closed Emulator.
var ErrClosed = errors.New("sim: emulator closed")

// sweepEvery is how often the janitor drops expired idle instances. Expiry is
// also checked when an instance is picked and when State is read, so the
// period only bounds how long an expired instance holds memory; it does not
// affect what a request sees.
const sweepEvery = 250 * time.Millisecond

// Emulator is an emulated function and its platform. It is an http.Handler;
// Start also serves it on its own listener. Close stops everything it
// started, including the janitor that New starts.
type Emulator struct {
	// done is closed by Close; it wakes sleeping requests and the janitor.
	done chan struct{}
	// wg counts every goroutine and pending timer the emulator owns:
	// in-flight invocations, prewarm init timers, the janitor and the
	// server. Add is only called under mu while !closed, so it never races
	// with Close's Wait.
	wg sync.WaitGroup

	// mu guards everything below. It is never held while a request sleeps.
	mu        sync.Mutex
	cfg       Config
	closed    bool
	srv       *http.Server
	gen       uint64      // bumped by a recycle or a memory change; older instances are discarded when free
	nextID    uint64      // last instance number handed out
	seq       uint64      // last invocation sequence number, in arrival order
	idle      []*instance // idle instances, least recently used first; requests pop from the end
	pinned    []*instance // current-generation prewarmed instances, oldest first
	live      int         // instances that exist: warming, busy (any generation) or idle
	busy      int         // instances serving or initializing for a request
	warming   int         // prewarmed instances still initializing
	initRNG   *rand.Rand  // init draws; separate from jitter so turning jitter on keeps init draws
	jitterRNG *rand.Rand
	memRNG    *rand.Rand // memory noise draws, a stream of their own for the same reason
	truth     truthLog
	stats     Stats
}

type instanceState uint8

const (
	stateWarming instanceState = iota // prewarm init in progress, not yet usable
	stateIdle
	stateBusy // serving a request, or initializing for one (a cold start)
	stateDead
)

// instance is one emulated execution environment. It has no goroutine of
// its own: a request's goroutine does its init and handler sleeps, and a
// prewarmed instance's init is a timer.
type instance struct {
	id       string
	gen      uint64
	memoryMB int
	pinned   bool // a prewarmed (min) instance: never expires
	state    instanceState
	lastUsed time.Time   // when the last request on it ended
	timer    *time.Timer // prewarm init, while warming
	served   int         // requests it has taken
	peakMB   int         // the most memory it has used
}

// Stats are the emulator's counters.
type Stats struct {
	Invocations  int64 `json:"invocations"`   // requests served (200); like Lambda, throttles are not invocations
	ColdStarts   int64 `json:"cold_starts"`   // served requests that started a new instance
	Throttled    int64 `json:"throttled"`     // requests refused with 429
	TruthDropped int64 `json:"truth_dropped"` // records not kept because the truth log was full
}

// State is a snapshot of the platform, as GET /_sim/state serves it.
type State struct {
	MemoryMB     int `json:"memory_mb"`
	MinInstances int `json:"min_instances"`
	Live         int `json:"live"`      // every instance: warming + busy + idle
	Busy         int `json:"busy"`      // serving or initializing for a request, including ones draining after a recycle
	Idle         int `json:"idle"`      // initialized and free
	Warming      int `json:"warming"`   // prewarmed instances still initializing
	Prewarmed    int `json:"prewarmed"` // prewarmed instances that finished init
	// Ready is true when every min instance has finished init, so that a
	// configuration change has fully taken effect.
	Ready      bool   `json:"ready"`
	Generation uint64 `json:"generation"` // counts recycles and memory changes
	Config     Config `json:"config"`
	Stats      Stats  `json:"stats"`
}

// New validates cfg and returns an emulator with its min instances already
// initializing. A zero TruthCap means DefaultTruthCap.
func New(cfg Config) (*Emulator, error) {
	if cfg.TruthCap == 0 {
		cfg.TruthCap = DefaultTruthCap
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	seed := uint64(cfg.Seed)
	e := &Emulator{
		done: make(chan struct{}),
		cfg:  cfg,
		// Two PCG streams from one seed: the second constant only tells
		// them apart.
		initRNG:   rand.New(rand.NewPCG(seed, 0x1417)),
		jitterRNG: rand.New(rand.NewPCG(seed, 0x7e77)),
		memRNG:    rand.New(rand.NewPCG(seed, 0x3e30)),
		truth:     newTruthLog(cfg.TruthCap),
	}
	e.mu.Lock()
	e.reconcilePinnedLocked()
	e.wg.Add(1)
	e.mu.Unlock()
	go e.janitor()
	return e, nil
}

// Start listens on addr (use "127.0.0.1:0" for a free loopback port) and
// serves the emulator in the background. It returns the base URL.
func (e *Emulator) Start(addr string) (string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("sim: listen on %s: %w", addr, err)
	}
	srv := &http.Server{Handler: e, ReadHeaderTimeout: 10 * time.Second}
	e.mu.Lock()
	switch {
	case e.closed:
		err = ErrClosed
	case e.srv != nil:
		err = errors.New("sim: emulator already started")
	}
	if err != nil {
		e.mu.Unlock()
		ln.Close()
		return "", err
	}
	e.srv = srv
	e.wg.Add(1)
	e.mu.Unlock()
	go func() {
		defer e.wg.Done()
		srv.Serve(ln) // returns ErrServerClosed on Close; nothing else to report
	}()
	return "http://" + ln.Addr().String(), nil
}

// Close stops the server, wakes in-flight requests (they answer 503), stops
// prewarm timers and the janitor, and waits for all of them. The ground
// truth, State and Stats stay readable. Close is idempotent.
func (e *Emulator) Close() error {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil
	}
	e.closed = true
	close(e.done)
	for _, inst := range e.pinned {
		if inst.state == stateWarming {
			e.dropLocked(inst)
		}
	}
	srv := e.srv
	e.mu.Unlock()
	var err error
	if srv != nil {
		err = srv.Close()
	}
	e.wg.Wait()
	return err
}

// Config returns the current configuration.
func (e *Emulator) Config() Config {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.cfg
}

// HandlerTime is the modelled handler duration at memoryMB under the current
// configuration, without jitter. Tests elsewhere use it for expected answers.
func (e *Emulator) HandlerTime(memoryMB int) time.Duration {
	return e.Config().HandlerTime(memoryMB)
}

// Update applies a partial configuration change and returns the new
// configuration. Like Lambda, a memory change replaces every instance (see
// Recycle); a min_instances change starts or retires prewarmed instances.
// Other fields apply to the next request, on existing instances.
func (e *Emulator) Update(u Update) (Config, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return e.cfg, ErrClosed
	}
	next, err := u.Apply(e.cfg)
	if err != nil {
		return e.cfg, err
	}
	prev := e.cfg
	e.cfg = next
	switch {
	case next.MemoryMB != prev.MemoryMB:
		e.recycleLocked()
	case next.MinInstances != prev.MinInstances:
		e.reconcilePinnedLocked()
	}
	return next, nil
}

// Recycle drops every instance, as a Lambda configuration change does: idle
// ones at once, busy ones when their request ends. Prewarmed instances are
// re-initialized, so State.Ready is false until they finish. A closed
// emulator ignores it.
func (e *Emulator) Recycle() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.closed {
		e.recycleLocked()
	}
}

// State returns a snapshot of the instance pool.
func (e *Emulator) State() State {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.sweepLocked(time.Now())
	prewarmed := 0
	for _, inst := range e.pinned {
		if inst.state != stateWarming {
			prewarmed++
		}
	}
	return State{
		MemoryMB:     e.cfg.MemoryMB,
		MinInstances: e.cfg.MinInstances,
		Live:         e.live,
		Busy:         e.busy,
		Idle:         len(e.idle),
		Warming:      e.warming,
		Prewarmed:    prewarmed,
		Ready:        e.warming == 0 && prewarmed == e.cfg.MinInstances,
		Generation:   e.gen,
		Config:       e.cfg,
		Stats:        e.statsLocked(),
	}
}

// Stats returns the counters.
func (e *Emulator) Stats() Stats {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.statsLocked()
}

func (e *Emulator) statsLocked() Stats {
	st := e.stats
	st.TruthDropped = e.truth.dropped
	return st
}

// newInstanceLocked creates an instance of the current generation and
// memory; the caller sets its state.
func (e *Emulator) newInstanceLocked() *instance {
	e.nextID++
	e.live++
	return &instance{
		id:       fmt.Sprintf("i-%06d", e.nextID),
		gen:      e.gen,
		memoryMB: e.cfg.MemoryMB,
	}
}

// dropLocked discards inst, whatever its state. A busy instance must be
// dropped only by the request that holds it (release).
func (e *Emulator) dropLocked(inst *instance) {
	switch inst.state {
	case stateDead:
		return
	case stateWarming:
		e.warming--
		// Stop reports whether it prevented the callback; if it did, the
		// callback will never call wg.Done, so do it here.
		if inst.timer.Stop() {
			e.wg.Done()
		}
	}
	inst.state = stateDead
	inst.timer = nil
	e.live--
}

// drawInitLocked draws an init time: normal(InitMean, InitStddev), clamped at
// 0 and rounded to the microsecond so that headers and truth agree exactly.
func (e *Emulator) drawInitLocked() time.Duration {
	d := float64(e.cfg.InitMean) + float64(e.cfg.InitStddev)*e.initRNG.NormFloat64()
	return time.Duration(max(d, 0)).Round(time.Microsecond)
}

// drawHandlerLocked draws the handler time on an instance with memoryMB:
// full-speed time plus jitter, then scaled by the CPU share.
func (e *Emulator) drawHandlerLocked(memoryMB int) time.Duration {
	base := e.cfg.Handler
	if e.cfg.HandlerJitter > 0 {
		j := float64(e.cfg.HandlerJitter) * e.jitterRNG.NormFloat64()
		base = max(base+time.Duration(j), 0).Round(time.Microsecond)
	}
	return handlerTime(base, memoryMB)
}

// memoryUsedLocked counts a request on inst and returns the instance's
// peak memory used so far.
func (e *Emulator) memoryUsedLocked(inst *instance) int {
	inst.served++
	var noise float64
	if e.cfg.MemoryJitterMB > 0 {
		noise = e.memRNG.NormFloat64()
	}
	inst.peakMB = max(inst.peakMB, e.cfg.memoryUsed(inst.memoryMB, inst.served, noise))
	return inst.peakMB
}

// expiredLocked reports whether an idle instance has outlived KeepAlive.
// Prewarmed instances never expire.
func (e *Emulator) expiredLocked(inst *instance, now time.Time) bool {
	return !inst.pinned && now.Sub(inst.lastUsed) >= e.cfg.KeepAlive
}

// takeIdleLocked pops the most recently used idle instance that has not
// expired, discarding expired ones on the way.
func (e *Emulator) takeIdleLocked(now time.Time) *instance {
	for n := len(e.idle); n > 0; n = len(e.idle) {
		inst := e.idle[n-1]
		e.idle[n-1] = nil
		e.idle = e.idle[:n-1]
		if e.expiredLocked(inst, now) {
			e.dropLocked(inst)
			continue
		}
		return inst
	}
	return nil
}

// releaseLocked returns inst to the pool after a request, or discards it when
// it belongs to an older generation or the emulator is closing.
func (e *Emulator) releaseLocked(inst *instance, now time.Time) {
	e.busy--
	if e.closed || inst.gen != e.gen {
		e.dropLocked(inst)
		return
	}
	inst.state = stateIdle
	inst.lastUsed = now
	if e.expiredLocked(inst, now) { // KeepAlive 0: gone as soon as it is free
		e.dropLocked(inst)
		return
	}
	e.idle = append(e.idle, inst)
}

// sweepLocked drops expired idle instances, keeping the LRU order.
func (e *Emulator) sweepLocked(now time.Time) {
	kept := e.idle[:0]
	for _, inst := range e.idle {
		if e.expiredLocked(inst, now) {
			e.dropLocked(inst)
			continue
		}
		kept = append(kept, inst)
	}
	clear(e.idle[len(kept):])
	e.idle = kept
}

// removeIdleLocked takes inst out of the idle list.
func (e *Emulator) removeIdleLocked(inst *instance) {
	for i, x := range e.idle {
		if x == inst {
			e.idle = slices.Delete(e.idle, i, i+1) // clears the freed slot
			return
		}
	}
}

// recycleLocked starts a new generation: idle instances go now, busy ones
// when their request ends, and the prewarmed set is rebuilt.
func (e *Emulator) recycleLocked() {
	e.gen++
	for _, inst := range e.idle {
		e.dropLocked(inst)
	}
	clear(e.idle)
	e.idle = e.idle[:0]
	for _, inst := range e.pinned {
		// Idle ones were dropped above; busy ones are discarded by
		// releaseLocked, since their generation is now stale.
		inst.pinned = false
		if inst.state == stateWarming {
			e.dropLocked(inst)
		}
	}
	e.pinned = nil
	e.reconcilePinnedLocked()
}

// reconcilePinnedLocked starts or retires prewarmed instances until there are
// MinInstances of them. A new one initializes on a timer, in the background.
// Retiring takes the newest first (those still warming, most likely); an
// idle one is dropped, a busy one finishes its request and then lives on as
// an ordinary on-demand instance with the usual keep-alive.
func (e *Emulator) reconcilePinnedLocked() {
	for len(e.pinned) < e.cfg.MinInstances {
		inst := e.newInstanceLocked()
		inst.pinned = true
		inst.state = stateWarming
		e.warming++
		e.wg.Add(1) // done by warmed, or by dropLocked when it stops the timer
		inst.timer = time.AfterFunc(e.drawInitLocked(), func() { e.warmed(inst) })
		e.pinned = append(e.pinned, inst)
	}
	for len(e.pinned) > e.cfg.MinInstances {
		n := len(e.pinned)
		inst := e.pinned[n-1]
		e.pinned[n-1] = nil
		e.pinned = e.pinned[:n-1]
		inst.pinned = false
		switch inst.state {
		case stateWarming:
			e.dropLocked(inst)
		case stateIdle:
			e.removeIdleLocked(inst)
			e.dropLocked(inst)
		}
	}
}

// warmed is a prewarmed instance's init timer firing: the instance becomes
// idle, unless it was retired, recycled or closed meanwhile.
func (e *Emulator) warmed(inst *instance) {
	defer e.wg.Done()
	e.mu.Lock()
	defer e.mu.Unlock()
	if inst.state != stateWarming || e.closed {
		return
	}
	e.warming--
	inst.timer = nil
	inst.state = stateIdle
	inst.lastUsed = time.Now()
	e.idle = append(e.idle, inst)
}

// janitor drops expired idle instances now and then, so that a quiet
// emulator does not hold them forever.
func (e *Emulator) janitor() {
	defer e.wg.Done()
	t := time.NewTicker(sweepEvery)
	defer t.Stop()
	for {
		select {
		case <-e.done:
			return
		case <-t.C:
			e.mu.Lock()
			e.sweepLocked(time.Now())
			e.mu.Unlock()
		}
	}
}
