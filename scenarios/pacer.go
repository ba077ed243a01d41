package scenarios

import (
	"fmt"
	"math"
	"math/bits"
	"math/rand/v2"
	"sync"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// The schedules below share one contract: the engine takes the intended
// send time of arrival n from At, and Pacer derives vegeta's Pace from it:
//
//   - At(n) is the offset from the phase start at which arrival n (from 0) is
//     due; it is false when arrival n would fall at or after the phase end.
//   - Pace(elapsed, hits) waits until At(hits): it returns At(hits)−elapsed,
//     or 0 when that arrival is already due (running behind: send now, and
//     let latency be measured from the intended time). It says stop when At
//     is false or elapsed has reached the phase duration.
//   - Planned() is the exact number of n for which At is true.
//
// Deterministic schedules are shares of a whole: part i of parts takes the
// whole's arrivals i, i+parts, i+2·parts, … so that the parts interleave
// evenly and their counts sum exactly to the whole's.

var (
	_ Schedule = RatePacer{}
	_ Schedule = RampPacer{}
	_ Schedule = StepPacer{}
	_ Schedule = BurstPacer{}
	_ Schedule = IdlePacer{}
	_ Schedule = (*PoissonPacer)(nil)
)

// share selects part of an arrival sequence: whole arrival k belongs to part
// k mod parts, as that part's arrival k div parts.
type share struct{ part, parts uint64 }

var whole = share{0, 1}

// global maps the part's arrival n to the whole's; false on overflow.
func (s share) global(n uint64) (uint64, bool) {
	hi, lo := bits.Mul64(n, s.parts)
	k, carry := bits.Add64(lo, s.part, 0)
	return k, hi == 0 && carry == 0
}

// count is how many of the whole's first total arrivals are the part's: the
// first total%parts parts get one more than the others.
func (s share) count(total uint64) uint64 {
	if total <= s.part {
		return 0
	}
	return (total-s.part-1)/s.parts + 1
}

// Pacer adapts a phase's schedule s, over the phase's duration d, to
// vegeta's Pacer, the interface coldbench's schedules honour: Pace is
// derived from At here once, as the contract above says, for every
// schedule; Rate is the schedule's own (each shape knows its rate
// exactly, a mean for poisson), or 0 for a schedule that has none.
func Pacer(s Schedule, d time.Duration) vegeta.Pacer { return schedulePacer{s: s, dur: d} }

type schedulePacer struct {
	s   Schedule
	dur time.Duration
}

var _ vegeta.Pacer = schedulePacer{}

// Pace waits until At(hits).
func (p schedulePacer) Pace(elapsed time.Duration, hits uint64) (time.Duration, bool) {
	if elapsed >= p.dur {
		return 0, true
	}
	t, ok := p.s.At(hits)
	if !ok {
		return 0, true
	}
	if t <= elapsed {
		return 0, false // due or overdue: send now
	}
	return t - elapsed, false
}

// Rate is the schedule's rate at elapsed, requests per second.
func (p schedulePacer) Rate(elapsed time.Duration) float64 {
	if r, ok := p.s.(interface{ Rate(time.Duration) float64 }); ok {
		return r.Rate(elapsed)
	}
	return 0
}

// FromPacer makes a vegeta Pacer a Schedule over a phase of d, so that any
// vegeta pacer can drive a phase: arrival n is due when p, asked from the
// moment arrival n−1 went, first says to send at once, as vegeta's own
// attack loop asks it. At keeps the last arrival it found, so calls with
// increasing n cost a few Pace calls each; going back replays from the
// start. It is safe for concurrent use.
func FromPacer(p vegeta.Pacer, d time.Duration) Schedule { return &vegetaSchedule{p: p, dur: d} }

type vegetaSchedule struct {
	p   vegeta.Pacer
	dur time.Duration

	mu sync.Mutex
	ok bool          // an arrival is kept
	n  uint64        // the arrival kept
	at time.Duration // when it is due
}

// maxPaceSteps bounds the waits followed for one arrival, so that a pacer
// whose waits never reach zero cannot hang the engine.
const maxPaceSteps = 1 << 10

// At is when p lets arrival n go.
func (s *vegetaSchedule) At(n uint64) (time.Duration, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.ok || n < s.n {
		at, ok := s.next(0, 0)
		if !ok {
			return 0, false
		}
		s.ok, s.n, s.at = true, 0, at
	}
	for s.n < n {
		at, ok := s.next(s.n+1, s.at)
		if !ok {
			return 0, false
		}
		s.n, s.at = s.n+1, at
	}
	return s.at, true
}

// next follows p's waits from t until it lets arrival n go.
func (s *vegetaSchedule) next(n uint64, t time.Duration) (time.Duration, bool) {
	for range maxPaceSteps {
		if t >= s.dur {
			return 0, false
		}
		wait, stop := s.p.Pace(t, n)
		if stop {
			return 0, false
		}
		if wait <= 0 {
			return t, true
		}
		t += wait
	}
	return 0, false
}

// Rate is p's.
func (s *vegetaSchedule) Rate(elapsed time.Duration) float64 { return s.p.Rate(elapsed) }

// constAt is the offset of arrival k at the constant rate p, Freq hits per
// Per: floor(k·Per/Freq), in 128-bit integer arithmetic so that no rounding
// moves an arrival across the phase end. False when it overflows.
func constAt(p vegeta.ConstantPacer, k uint64) (time.Duration, bool) {
	hi, lo := bits.Mul64(k, uint64(p.Per))
	if hi >= uint64(p.Freq) {
		return 0, false
	}
	q, _ := bits.Div64(hi, lo, uint64(p.Freq))
	if q > math.MaxInt64 {
		return 0, false
	}
	return time.Duration(q), true
}

// constCount is how many arrivals at the constant rate p fall in [0, d):
// the k with k·Per < d·Freq, that is ceil(d·Freq/Per).
func constCount(p vegeta.ConstantPacer, d time.Duration) uint64 {
	if d <= 0 {
		return 0
	}
	hi, lo := bits.Mul64(uint64(d), uint64(p.Freq))
	lo, borrow := bits.Sub64(lo, 1, 0)
	hi -= borrow
	if hi >= uint64(p.Per) {
		return math.MaxUint64 // beyond any validated scenario
	}
	q, _ := bits.Div64(hi, lo, uint64(p.Per))
	return q + 1
}

// RatePacer is a constant rate, vegeta's ConstantPacer with At. Unlike
// vegeta's, whose first hit waits one interval, arrival 0 is due at the
// phase start, so a phase of d at r plans exactly ceil(r·d) arrivals.
type RatePacer struct {
	rate vegeta.ConstantPacer // the whole's rate
	dur  time.Duration
	sh   share
}

// NewRatePacer paces r (which must be within MinRate and MaxRate) for d.
func NewRatePacer(r Rate, d time.Duration) RatePacer { return newRatePacer(r, d, whole) }

func newRatePacer(r Rate, d time.Duration, sh share) RatePacer {
	return RatePacer{rate: r.pacer(), dur: d, sh: sh}
}

// At returns when arrival n is due: at the whole's arrival n·parts+part.
func (p RatePacer) At(n uint64) (time.Duration, bool) {
	k, ok := p.sh.global(n)
	if !ok {
		return 0, false
	}
	t, ok := constAt(p.rate, k)
	return t, ok && t < p.dur
}

// Rate is this share's rate in requests per second, 0 outside the phase.
func (p RatePacer) Rate(elapsed time.Duration) float64 {
	if elapsed < 0 || elapsed >= p.dur {
		return 0
	}
	return p.rate.Rate(elapsed) / float64(p.sh.parts)
}

// Planned is the number of arrivals in the phase.
func (p RatePacer) Planned() int64 { return clampCount(p.sh.count(constCount(p.rate, p.dur))) }

// String describes the schedule, for plans and logs.
func (p RatePacer) String() string {
	return fmt.Sprintf("rate %s for %s%s", perUnit(p.rate), p.dur, p.sh)
}

// perUnit formats a constant rate as "100/s", "1/m" or "3/1000s".
func perUnit(p vegeta.ConstantPacer) string {
	switch p.Per {
	case time.Second:
		return fmt.Sprintf("%d/s", p.Freq)
	case time.Minute:
		return fmt.Sprintf("%d/m", p.Freq)
	case time.Hour:
		return fmt.Sprintf("%d/h", p.Freq)
	}
	return fmt.Sprintf("%d/%s", p.Freq, p.Per)
}

// RampPacer is a linear change of rate, vegeta's LinearPacer with At.
// Arrival k is due at the first nanosecond t at which vegeta's own count of
// hits, a·t²/2 + b·t, reaches k; the phase plans every k it reaches before
// the end. A ramp may start at 0, which vegeta's Pace would take for an
// infinite rate: here only its rate and hit count are used.
type RampPacer struct {
	lp    vegeta.LinearPacer
	a, b  float64 // the hit count's coefficients, exactly as vegeta computes them
	dur   time.Duration
	total uint64 // the whole's arrivals in [0, dur)
	sh    share
}

// NewRampPacer paces a ramp from one rate to another over d.
func NewRampPacer(from, to Rate, d time.Duration) RampPacer { return newRampPacer(from, to, d, whole) }

func newRampPacer(from, to Rate, d time.Duration, sh share) RampPacer {
	start := vegeta.ConstantPacer{Freq: 0, Per: time.Second}
	if from > 0 {
		start = from.pacer()
	}
	lp := vegeta.LinearPacer{StartAt: start, Slope: float64(to-from) / d.Seconds()}
	p := RampPacer{lp: lp, a: lp.Slope, b: lp.Rate(0), dur: d, sh: sh}
	if d > 0 {
		// Arrival k is in the phase when vegeta's count reaches k before the
		// end: k ≤ hits(d−1ns). Where the rate falls to 0 at the end, float
		// rounding makes hits(d−1ns) equal hits(d) and would let in an
		// arrival the exact count, ceil((from+to)/2·d), leaves out.
		if h := p.hits(d - 1); h >= 0 && h < math.MaxInt64 {
			p.total = uint64(h) + 1 // arrivals 0 … floor(h)
		}
		if exact := math.Ceil(float64(from+to) / 2 * d.Seconds()); exact >= 0 && exact < float64(p.total) {
			p.total = uint64(exact)
		}
	}
	return p
}

// hits is vegeta's LinearPacer.hits, term for term, so that At agrees with
// it to the last bit.
func (p RampPacer) hits(t time.Duration) float64 {
	if t < 0 {
		return 0
	}
	x := t.Seconds()
	return (p.a*math.Pow(x, 2))/2 + p.b*x
}

// At returns when arrival n is due: at the whole's arrival n·parts+part.
func (p RampPacer) At(n uint64) (time.Duration, bool) {
	k, ok := p.sh.global(n)
	if !ok || k >= p.total {
		return 0, false
	}
	if k == 0 {
		return 0, true
	}
	// Solve a·x²/2 + b·x = k for the estimate, in the form that does not
	// cancel when a is small, then search nanoseconds around it for the
	// first t with hits(t) ≥ k. hits(dur−1) ≥ k, since k < total.
	want := float64(k)
	est := p.dur - 1
	if disc := p.b*p.b + 2*p.a*want; disc >= 0 {
		if x := 2 * want / (p.b + math.Sqrt(disc)); x >= 0 && x*1e9 < float64(p.dur) {
			est = time.Duration(math.Ceil(x * 1e9))
		}
	}
	reached := func(t time.Duration) bool { return p.hits(t) >= want }
	lo, hi := est, est // invariant once bracketed: !reached(lo), reached(hi)
	if reached(est) {
		for step := time.Duration(1); ; step *= 2 {
			lo = max(hi-step, 0)
			if !reached(lo) {
				break
			}
			hi = lo
			if lo == 0 {
				return 0, true
			}
		}
	} else {
		for step := time.Duration(1); ; step *= 2 {
			hi = min(lo+step, p.dur-1)
			if reached(hi) {
				break
			}
			lo = hi
			if hi == p.dur-1 {
				return 0, false // float noise: hits(dur−1) < k after all
			}
		}
	}
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		if reached(mid) {
			hi = mid
		} else {
			lo = mid
		}
	}
	return hi, true
}

// Rate is this share's instantaneous rate, 0 outside the phase.
func (p RampPacer) Rate(elapsed time.Duration) float64 {
	if elapsed < 0 || elapsed >= p.dur {
		return 0
	}
	return p.lp.Rate(elapsed) / float64(p.sh.parts)
}

// Planned is the number of arrivals in the phase.
func (p RampPacer) Planned() int64 { return clampCount(p.sh.count(p.total)) }

// String describes the schedule, for plans and logs.
func (p RampPacer) String() string {
	return fmt.Sprintf("ramp %g/s → %g/s over %s%s", p.b, p.b+p.a*p.dur.Seconds(), p.dur, p.sh)
}

func (s share) String() string {
	if s.parts <= 1 {
		return ""
	}
	return fmt.Sprintf(" (part %d of %d)", s.part, s.parts)
}

// clampCount converts an arrival count for Planned.
func clampCount(n uint64) int64 { return int64(min(n, math.MaxInt64)) }

// splitmix mixes x into a well-spread 64-bit value, to derive independent
// seeds for each phase and part from one scenario seed.
func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// PoissonPacer sends random arrivals at a mean rate: exponential gaps drawn
// from a PCG source seeded by the scenario seed, the phase and the part, so
// a run is reproducible. The parts of a share are independent Poisson
// processes at rate/parts, whose union is a Poisson process at the rate.
//
// At walks the sequence from the start and caches the last arrival, so
// calls with increasing n cost O(1) each; going back replays from the
// start. It is safe for concurrent use.
type PoissonPacer struct {
	rate   float64 // this part's mean rate, per second
	dur    time.Duration
	s1, s2 uint64

	mu  sync.Mutex
	rng *rand.Rand
	n   uint64  // index of the cached arrival, when rng != nil
	t   float64 // its offset in nanoseconds
}

// NewPoissonPacer paces random arrivals at the mean rate for d.
func NewPoissonPacer(mean Rate, d time.Duration, seed uint64) *PoissonPacer {
	return &PoissonPacer{rate: float64(mean), dur: d, s1: seed, s2: splitmix(seed)}
}

// At returns when random arrival n is due.
func (p *PoissonPacer) At(n uint64) (time.Duration, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.rate <= 0 {
		return 0, false
	}
	if p.rng == nil || n < p.n {
		p.rng = rand.New(rand.NewPCG(p.s1, p.s2))
		p.n, p.t = 0, p.gap()
	}
	end := float64(p.dur)
	for p.n < n && p.t < end {
		p.t += p.gap()
		p.n++
	}
	if p.n < n || p.t >= end {
		return 0, false // arrivals only get later: the phase is over
	}
	return time.Duration(p.t), true
}

// gap draws one exponential inter-arrival time, in nanoseconds.
func (p *PoissonPacer) gap() float64 { return p.rng.ExpFloat64() / p.rate * 1e9 }

// Rate is the mean rate, 0 outside the phase.
func (p *PoissonPacer) Rate(elapsed time.Duration) float64 {
	if elapsed < 0 || elapsed >= p.dur {
		return 0
	}
	return p.rate
}

// Planned is -1: the count is random.
func (p *PoissonPacer) Planned() int64 { return -1 }

// String describes the schedule, for plans and logs.
func (p *PoissonPacer) String() string {
	return fmt.Sprintf("poisson %g/s for %s", p.rate, p.dur)
}
