package engine

import (
	"slices"
	"sort"
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

	t0     time.Time  // the first request's start: finished times are from it
	recent []finished // finished requests, oldest first, for keepFor
	// Scratch for decide.
	sizes        []int64
	base, beside []time.Duration
	held         []held // candidates waiting to settle, by deadline
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
	maxRecent  = 1 << 16 // 3 MB at most; 1.3 s at 50 000 requests/s
	// decide looks at this many requests kept before and after the
	// candidate started.
	scanBefore = 256
	scanAfter  = 1024
	minBase    = 3 // warm requests needed for a baseline
	// A candidate is slow when its service time is at least minRatio
	// times the warm baseline and minGap above it.
	minRatio = 2.0
	minGap   = 20 * time.Millisecond
	// lagReach widens the window in which generator lag is looked for
	// before a candidate started: a host stall just before it delays it.
	lagReach = 100 * time.Millisecond
)

// nanos is t on the inferrer's clock.
func (f *inferrer) nanos(t time.Time) int64 {
	if f.t0.IsZero() {
		f.t0 = t
	}
	return int64(t.Sub(f.t0))
}

// startInfo is what the target looked like when a request started.
type startInfo struct {
	at       time.Time
	scaleOut bool // in flight above the recent high-water mark
	fresh    bool // nothing had finished since the episode began
	tracked  bool
}

func (s startInfo) candidate() bool { return s.scaleOut || s.fresh }

// finished is one finished request as evidence for others. Times are
// nanoseconds on the monotonic clock since the inferrer's first request,
// to keep it small: many are kept.
type finished struct {
	start, end int64
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
	r := finished{start: f.nanos(st.at), end: f.nanos(end), svc: svc, lag: s.Lag, bytes: c.BytesIn, ok: s.Outcome == drivers.OK, fresh: st.fresh}
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
		h.s.Temp, h.ev = f.decide(&h.f, f.nanos(now))
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
	for len(f.recent) > 0 && (r.end-f.recent[0].end > int64(keepFor) || len(f.recent) > maxRecent) {
		f.recent = f.recent[1:]
	}
}

// markWarm marks a settled candidate warm among the evidence.
func (f *inferrer) markWarm(r finished) {
	for i := f.search(r.end); i < len(f.recent) && i < f.search(r.end)+scanAfter; i++ {
		if x := &f.recent[i]; x.start == r.start && x.end == r.end && x.svc == r.svc {
			x.warm = true
			return
		}
	}
}

// search returns the index of the first request kept that finished at or
// after t. The requests are kept in the order they were recorded, which is
// the order they finished but for the odd swap of two recorded at once.
func (f *inferrer) search(t int64) int {
	return sort.Search(len(f.recent), func(i int) bool { return f.recent[i].end >= t })
}

// decide labels a candidate and says why. Called with mu held. It looks at
// a bounded number of requests around the candidate (scanBefore,
// scanAfter), so that its cost does not grow with the rate.
func (f *inferrer) decide(c *finished, now int64) (drivers.Temperature, results.Evidence) {
	var ev results.Evidence
	at := f.search(c.start - int64(lagReach))
	around := f.recent[max(0, at-scanBefore):min(len(f.recent), at+scanAfter)]
	during := f.recent[at:min(len(f.recent), at+scanAfter)]
	// The warm baseline: the warm requests in flight at the same time as
	// the candidate when there are enough (a host or target slow for a
	// while is slow for them too), else those of the moments around it.
	// Responses much smaller than the usual (a fast group of 200-answered
	// errors) do not define it.
	from := c.start - int64(baseWindow)
	sizes := f.sizes[:0]
	for i := range around {
		if r := &around[i]; r.ok && r.end > from && r.end <= now {
			sizes = append(sizes, r.bytes)
		}
	}
	medBytes := median(sizes)
	f.sizes = sizes
	base, beside := f.base[:0], f.beside[:0]
	defer func() { f.base, f.beside = base[:0], beside[:0] }()
	for i := range around {
		r := &around[i]
		if r.warm && r.ok && r.end > from && r.end <= now && 2*r.bytes >= medBytes {
			base = append(base, r.svc)
			if r.start < c.end && r.end > c.start {
				beside = append(beside, r.svc)
			}
		}
	}
	use := base
	if len(beside) >= minBase {
		use = beside
	}
	if len(use) < minBase {
		ev.Reason = results.NoBaseline
		return drivers.Unknown, ev
	}
	slices.Sort(use)
	// The upper quartile, so that a fast minority does not make every
	// ordinary request look slow.
	b := use[len(use)*3/4]
	t := max(time.Duration(minRatio*float64(b)), b+minGap)
	ev.Baseline, ev.Threshold = b, t
	if c.svc < t {
		ev.Reason = results.NotSlow
		return drivers.Warm, ev
	}
	// The generator's own lag, or a host too starved to run it, around
	// the candidate: if it is half the excess or more, it explains it.
	excess := c.svc - b
	for i := range during {
		r := &during[i]
		if r.start >= c.start-int64(lagReach) && r.start <= c.end && 2*r.lag >= excess {
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
		// "Together": within a warm service time of its end, or a tenth
		// of its own, and never closer than the clock can tell apart.
		near := int64(max(b, c.svc/10, 10*time.Millisecond))
		var n, together int
		for i := range during {
			r := &during[i]
			if !r.ok || r.start <= c.start || r.start >= c.end || r.end > now {
				continue
			}
			n++
			if d := r.end - c.end; d < near && d > -near {
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
