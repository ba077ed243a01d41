package engine

import (
	"slices"
	"sync"
	"time"

	"github.com/coldbench/coldbench/drivers"
	"github.com/coldbench/coldbench/results"
)

// inferrer is the last-resort cold-start classifier, for requests no
// platform, header, instance or body signal classified. It reasons from
// evidence, not from latency alone: a cold start is a new instance, so it
// comes with scale-out (more requests in flight than the target had served
// at once in the last hwmFor) or after an idle gap, and it is slow against
// the warm requests of the same moment.
//
// Every request that could not be a new instance is labelled warm at once.
// Only the few candidates (scale-out or idle gap) wait, for settleFor after
// they finish, so that the warm requests around them are known; then each
// gets a final label: cold, warm, or unknown when the evidence is weak (no
// warm request to compare with, the generator's own lag or a starved host
// explains the slowness, or the whole target was slow together). A label,
// once given, never changes.
type inferrer struct {
	mu sync.Mutex

	// The target as the generator sees it, updated as requests start
	// and finish.
	inflight int
	hwm      int       // most requests in flight at once lately (hwmFor)
	hwmAt    time.Time // when in flight last reached hwm
	idleFrom time.Time // when in flight last fell to 0
	fresh    bool      // nothing has finished since the episode began
	started  bool

	recent []finished // finished requests, oldest first, for keepFor
	held   []held     // candidates waiting to settle, by deadline
}

const (
	// idleGap starts a new episode: after this long with nothing in
	// flight, a platform may have reaped instances, so the high-water mark
	// starts again from 0.
	idleGap = time.Second
	// hwmFor is how long the high-water mark of requests in flight is
	// remembered: a platform may reap instances traffic no longer needs
	// without an idle gap. A candidate more than a cold start needs costs
	// only its settling.
	hwmFor = time.Second
	// settleFor is how long a candidate waits after it finished before it
	// gets its label: long enough to see warm requests after it (a burst
	// on a fresh target has none before), short enough that a live record
	// is at most about a second behind.
	settleFor = 500 * time.Millisecond
	// baseWindow is how far before a candidate's start warm requests still
	// count as "the same moment" for its baseline.
	baseWindow = 5 * time.Second
	keepFor    = baseWindow + 5*time.Second
	maxRecent  = 1 << 14
	minBase    = 3 // warm requests needed for a baseline
	// A candidate is slow when its service time is at least minRatio
	// times the warm baseline and minGap above it.
	minRatio = 2.0
	minGap   = 20 * time.Millisecond
	// lagReach widens the window in which generator lag is looked for
	// before a candidate started: a host stall just before it delays it.
	lagReach = 100 * time.Millisecond
)

// startInfo is what the target looked like when a request started.
type startInfo struct {
	at       time.Time
	scaleOut bool // in flight above the recent high-water mark
	fresh    bool // nothing had finished since the episode began
	tracked  bool
}

func (s startInfo) candidate() bool { return s.scaleOut || s.fresh }

// finished is one finished request as evidence for others.
type finished struct {
	start, end time.Time
	svc        time.Duration // service time without connection set-up
	lag        time.Duration
	bytes      int64
	ok         bool
	warm       bool // labelled warm: part of a warm baseline
	fresh      bool // started in a fresh episode
}

// held is a candidate waiting for its label.
type held struct {
	a        arrival
	call     drivers.Call
	s        results.Sample
	ev       results.Evidence
	f        finished
	deadline time.Time
}

// begin notes that a request starts now.
func (f *inferrer) begin(now time.Time) startInfo {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.started || (f.inflight == 0 && now.Sub(f.idleFrom) >= idleGap) {
		f.started, f.fresh, f.hwm = true, true, 0
	}
	// Instances the target has not needed for a while may be gone even
	// without an idle gap (traffic that went down, then up again): the
	// high-water mark only remembers hwmFor.
	if now.Sub(f.hwmAt) > hwmFor {
		f.hwm = f.inflight
	}
	f.inflight++
	st := startInfo{at: now, fresh: f.fresh, tracked: true}
	if f.inflight >= f.hwm {
		st.scaleOut = f.inflight > f.hwm
		f.hwm, f.hwmAt = f.inflight, now
	}
	return st
}

// end notes that a request started with st is over, when it is not
// recorded (cancelled by the engine).
func (f *inferrer) end(st startInfo, now time.Time) {
	if !st.tracked {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.endLocked(now)
}

func (f *inferrer) endLocked(now time.Time) {
	f.inflight--
	if f.inflight == 0 {
		f.idleFrom = now
	}
}

// finish takes a finished request. When infer is false its temperature is
// already decided (s.Temp) and it only serves as evidence. Otherwise
// finish labels s, or holds it as a candidate and returns false. Either
// way it appends to out the held candidates whose time has come, labelled.
func (f *inferrer) finish(a arrival, c *drivers.Call, s *results.Sample, svc time.Duration, end time.Time, infer bool, out []held) ([]held, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	st := a.ev
	r := finished{start: st.at, end: end, svc: svc, lag: s.Lag, bytes: c.BytesIn, ok: s.Outcome == drivers.OK, fresh: st.fresh}
	if st.tracked {
		f.endLocked(end)
		if r.ok {
			f.fresh = false
		}
	}
	done := true
	switch {
	case !infer:
		r.warm = s.Temp == drivers.Warm
	case s.Outcome != drivers.OK:
		// A failed request says nothing about instances: unknown.
	case !st.candidate():
		// No new instance was needed to serve it.
		s.Temp, s.Source = drivers.Warm, drivers.SourceInferred
		r.warm = true
	default:
		s.Source = drivers.SourceInferred
		f.held = append(f.held, held{a: a, call: *c, s: *s, f: r, deadline: end.Add(settleFor)})
		done = false
	}
	f.remember(r)
	return f.settleLocked(end, false, out), done
}

// settle labels the held candidates whose deadline has passed at now, or
// all of them when all is set (the run is over).
func (f *inferrer) settle(now time.Time, all bool, out []held) []held {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.settleLocked(now, all, out)
}

func (f *inferrer) settleLocked(now time.Time, all bool, out []held) []held {
	n := 0
	for n < len(f.held) && (all || !f.held[n].deadline.After(now)) {
		h := f.held[n]
		h.s.Source = drivers.SourceInferred
		h.s.Temp, h.ev = f.decide(&h.f, now)
		if h.s.Temp == drivers.Warm {
			f.markWarm(h.f)
		}
		out = append(out, h)
		n++
	}
	if n > 0 {
		f.held = slices.Delete(f.held, 0, n)
	}
	return out
}

// remember keeps r as evidence, dropping what is too old to matter.
func (f *inferrer) remember(r finished) {
	f.recent = append(f.recent, r)
	// Dropping from the front is a re-slice; append copies what is kept
	// into a new array when the old one is full, so memory stays bounded.
	for len(f.recent) > 0 && (r.end.Sub(f.recent[0].end) > keepFor || len(f.recent) > maxRecent) {
		f.recent = f.recent[1:]
	}
}

// markWarm marks a settled candidate warm among the evidence.
func (f *inferrer) markWarm(r finished) {
	for i := len(f.recent) - 1; i >= 0; i-- {
		if x := &f.recent[i]; x.start.Equal(r.start) && x.end.Equal(r.end) && x.svc == r.svc {
			x.warm = true
			return
		}
	}
}

// decide labels a candidate and says why. Called with mu held.
func (f *inferrer) decide(c *finished, now time.Time) (drivers.Temperature, results.Evidence) {
	var ev results.Evidence
	// The warm baseline: the warm requests in flight at the same time as
	// the candidate when there are enough (a host or target slow for a
	// while is slow for them too), else those of the moments around it.
	// Responses much smaller than the usual (a fast group of 200-answered
	// errors) do not define it.
	from := c.start.Add(-baseWindow)
	var sizes []int64
	for i := range f.recent {
		if r := &f.recent[i]; r.ok && r.end.After(from) {
			sizes = append(sizes, r.bytes)
		}
	}
	medBytes := median(sizes)
	var base, beside []time.Duration
	for i := range f.recent {
		r := &f.recent[i]
		if r.warm && r.ok && r.end.After(from) && !r.end.After(now) && 2*r.bytes >= medBytes {
			base = append(base, r.svc)
			if r.start.Before(c.end) && r.end.After(c.start) {
				beside = append(beside, r.svc)
			}
		}
	}
	if len(beside) >= minBase {
		base = beside
	}
	if len(base) < minBase {
		ev.Reason = results.NoBaseline
		return drivers.Unknown, ev
	}
	slices.Sort(base)
	// The upper quartile, so that a fast minority does not make every
	// ordinary request look slow.
	b := base[len(base)*3/4]
	t := max(time.Duration(minRatio*float64(b)), b+minGap)
	ev.Baseline, ev.Threshold = b, t
	if c.svc < t {
		ev.Reason = results.NotSlow
		return drivers.Warm, ev
	}
	// The generator's own lag, or a host too starved to run it, around
	// the candidate: if it is half the excess or more, it explains it.
	excess := c.svc - b
	lagFrom := c.start.Add(-lagReach)
	for i := len(f.recent) - 1; i >= 0; i-- {
		r := &f.recent[i]
		if r.end.Before(lagFrom) {
			break
		}
		if !r.start.Before(lagFrom) && !r.start.After(c.end) && 2*r.lag >= excess {
			ev.Reason = results.HostLag
			return drivers.Unknown, ev
		}
	}
	// A target-wide slowdown (a stall, a paused runtime) holds every
	// request until it ends, so the requests sent while the candidate ran
	// finish together with it, however late they began. Beside a new
	// instance, they are served by the warm ones (done a warm time after
	// they began), or by new instances of their own (done an init time
	// after they began), not with it.
	// Requests of a fresh episode (the run's start, after an idle gap)
	// have no warm instance beside them to go by.
	if !c.fresh {
		near := max(t, c.svc/8) // "together": within this of its end
		var n, together int
		for i := len(f.recent) - 1; i >= 0; i-- {
			r := &f.recent[i]
			if r.end.Before(c.start) {
				break
			}
			if !r.ok || !r.start.After(c.start) || !r.start.Before(c.end) || r.end.After(now) {
				continue
			}
			n++
			if d := r.end.Sub(c.end); d < near && d > -near {
				together++
			}
		}
		if 2*together > n {
			ev.Reason = results.TargetWide
			return drivers.Unknown, ev
		}
	}
	ev.Reason = results.Confirmed
	return drivers.Cold, ev
}

func median(v []int64) int64 {
	if len(v) == 0 {
		return 0
	}
	slices.Sort(v)
	return v[len(v)/2]
}
