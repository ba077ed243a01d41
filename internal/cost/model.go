package cost

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// Traffic is the load to project costs for: a request rate for each hour
// of the day, the same every day of the Month.
type Traffic struct {
	Hourly [24]float64 // requests per second during each hour
}

// PerMonth is a flat traffic of n requests a month.
func PerMonth(n float64) Traffic {
	var t Traffic
	r := n / Month.Seconds()
	for h := range t.Hourly {
		t.Hourly[h] = r
	}
	return t
}

// Daily is rate requests per second shaped by a daily pattern: hour h runs
// at rate × pattern[h]. An empty pattern is flat.
func Daily(rate float64, pattern []float64) (Traffic, error) {
	var t Traffic
	switch len(pattern) {
	case 0:
		for h := range t.Hourly {
			t.Hourly[h] = rate
		}
		return t, nil
	case 24:
		for h, m := range pattern {
			t.Hourly[h] = rate * m
		}
		return t, nil
	}
	return t, fmt.Errorf("daily pattern of %d values: want 24, one per hour", len(pattern))
}

// RequestsPerMonth is the requests the traffic makes in a Month.
func (t Traffic) RequestsPerMonth() float64 {
	var n float64
	for _, r := range t.Hourly {
		n += r * 3600 * DaysPerMonth
	}
	return n
}

// Peak is the highest hourly rate, in requests per second.
func (t Traffic) Peak() float64 {
	var p float64
	for _, r := range t.Hourly {
		p = max(p, r)
	}
	return p
}

// Mechanism is how a setting keeps instances prewarmed.
type Mechanism string

const (
	// Provisioned is the platform's own prewarm: provisioned concurrency,
	// min instances.
	Provisioned Mechanism = "provisioned"
	// KeepWarm is a ping schedule: Prewarm concurrent requests every
	// KeepWarmEvery, for platforms without prewarm. It costs the pings.
	KeepWarm Mechanism = "keep-warm"
)

// Usage is what was measured of one setting, the input to Estimate.
type Usage struct {
	MemoryMB int
	Prewarm  int // prewarmed instances, or concurrent pings with KeepWarm
	// Mechanism defaults to Provisioned.
	Mechanism     Mechanism
	KeepWarmEvery time.Duration // the ping period, with KeepWarm
	// WarmBilled and ColdBilled are the mean billed duration of a warm and
	// of a cold request, each already rounded as the platform rounds it.
	WarmBilled, ColdBilled time.Duration
	// Busy is how long a request holds an instance, for the concurrency.
	Busy time.Duration
	// KeepAlive is how long the platform keeps an idle on-demand instance.
	KeepAlive time.Duration
}

// Estimate is the projected cost and cold-start rate of one setting. Costs
// are US dollars a Month.
type Estimate struct {
	RequestsPerMonth float64 `json:"requests_per_month"`
	Concurrency      float64 `json:"concurrency"`      // mean requests in flight over the month
	PeakConcurrency  float64 `json:"peak_concurrency"` // in the busiest hour
	ColdRate         float64 `json:"cold_rate"`        // expected share of requests that start cold
	PrewarmedShare   float64 `json:"prewarmed_share"`  // share served by a prewarmed instance
	// KeepWarmEffective is false when pings come less often than the
	// keep-alive, so that they keep nothing warm (they still cost).
	KeepWarmEffective bool `json:"keep_warm_effective,omitempty"`

	Requests   float64 `json:"requests"`    // per-request fees
	Duration   float64 `json:"duration"`    // billed duration of the requests
	Capacity   float64 `json:"capacity"`    // prewarmed capacity, busy or not
	Idle       float64 `json:"idle"`        // prewarmed instances while idle
	Pings      float64 `json:"pings"`       // keep-warm pings
	Monthly    float64 `json:"monthly"`     // the sum of the above
	PerMillion float64 `json:"per_million"` // Monthly per million requests
}

// Compute projects u under table t at traffic tr, hour by hour. Requests
// that land on a prewarmed instance are warm and billed at the prewarmed
// duration rate; the others are billed on demand, cold at the model's
// ColdRate. Prewarmed capacity is charged for the whole Month; idle rates
// for the time the prewarmed instances serve nothing. Pings (KeepWarm) are
// Prewarm requests every KeepWarmEvery, each billed like a warm request;
// they keep Prewarm instances warm only if they come more often than the
// keep-alive. The pings' own load on the instances is left out.
func Compute(t Table, tr Traffic, u Usage) (Estimate, error) {
	if err := u.check(); err != nil {
		return Estimate{}, err
	}
	mech := u.Mechanism
	if mech == "" {
		mech = Provisioned
	}
	warmSlots := u.Prewarm
	var e Estimate
	if mech == KeepWarm {
		e.KeepWarmEffective = u.Prewarm > 0 && u.KeepWarmEvery < u.KeepAlive
		if !e.KeepWarmEffective {
			warmSlots = 0
		}
	}
	hour := 3600 * DaysPerMonth // seconds of each hour of the day in a Month
	onDemand := t.ActiveRate(u.MemoryMB, false)
	onPrewarmed := onDemand
	if mech == Provisioned {
		onPrewarmed = t.ActiveRate(u.MemoryMB, true)
	}
	var cold, prewarmed, busyPrewarmed float64 // requests, requests, seconds
	for _, rate := range tr.Hourly {
		n := rate * hour
		r := ColdRate(rate, u.Busy, u.KeepAlive, warmSlots)
		s := PrewarmedShare(rate, u.Busy, warmSlots)
		if mech == KeepWarm {
			s = 0 // pinged instances are on-demand ones, billed as such
		}
		// Cold requests only ever land on on-demand instances, so r ≤ 1−s
		// in the model; clamp against rounding.
		r = min(r, 1-s)
		warm := u.WarmBilled.Seconds()
		e.Duration += n * (s*warm*onPrewarmed + (1-s-r)*warm*onDemand + r*u.ColdBilled.Seconds()*onDemand)
		e.RequestsPerMonth += n
		cold += n * r
		prewarmed += n * s
		busyPrewarmed += n * s * warm
		conc := rate * u.Busy.Seconds()
		e.Concurrency += conc / 24
		e.PeakConcurrency = max(e.PeakConcurrency, conc)
	}
	if e.RequestsPerMonth > 0 {
		e.ColdRate = cold / e.RequestsPerMonth
		e.PrewarmedShare = prewarmed / e.RequestsPerMonth
	}
	e.Requests = e.RequestsPerMonth / 1e6 * t.PerMillionRequests
	gb := GB(u.MemoryMB)
	switch mech {
	case Provisioned:
		p := float64(u.Prewarm)
		e.Capacity = p * Month.Seconds() * gb * t.ProvisionedGBSecond
		idle := max(p*Month.Seconds()-busyPrewarmed, 0)
		e.Idle = idle * (gb*t.IdleGBSecond + t.VCPUs(u.MemoryMB)*t.IdleVCPUSecond)
	case KeepWarm:
		if u.Prewarm > 0 {
			pings := float64(u.Prewarm) * Month.Seconds() / u.KeepWarmEvery.Seconds()
			e.Pings = pings * (t.PerMillionRequests/1e6 + u.WarmBilled.Seconds()*onDemand)
		}
	}
	e.Monthly = e.Requests + e.Duration + e.Capacity + e.Idle + e.Pings
	if e.RequestsPerMonth > 0 {
		e.PerMillion = e.Monthly / e.RequestsPerMonth * 1e6
	}
	return e, nil
}

// check reports what makes u unusable.
func (u Usage) check() error {
	var errs []error
	if u.MemoryMB <= 0 {
		errs = append(errs, fmt.Errorf("memory %d MB: must be positive", u.MemoryMB))
	}
	if u.Prewarm < 0 {
		errs = append(errs, fmt.Errorf("prewarm %d: must not be negative", u.Prewarm))
	}
	if u.Mechanism != "" && u.Mechanism != Provisioned && u.Mechanism != KeepWarm {
		errs = append(errs, fmt.Errorf("unknown prewarm mechanism %q", u.Mechanism))
	}
	if u.Mechanism == KeepWarm && u.Prewarm > 0 && u.KeepWarmEvery <= 0 {
		errs = append(errs, errors.New("keep-warm pings need a positive period"))
	}
	for _, d := range []time.Duration{u.WarmBilled, u.ColdBilled, u.Busy, u.KeepAlive} {
		if d < 0 {
			errs = append(errs, fmt.Errorf("duration %v: must not be negative", d))
		}
	}
	return errors.Join(errs...)
}

// ColdRate is the expected share of requests that start a new instance
// when requests arrive at rate per second, each keeps an instance busy for
// busy, an idle on-demand instance lives for keepAlive, and warmSlots
// instances are always kept initialized (prewarmed).
//
// The model. Arrivals are Poisson, so by Little's law the mean number of
// busy instances is C = rate × busy, and (an M/G/∞ system) the number busy
// at any moment is Poisson(C); an arrival sees that same distribution.
// Instances are reused most-recently-used first, as Lambda and the
// emulator do, so they behave as numbered slots: slot j is in use exactly
// while N ≥ j requests are in flight. Slots 1..warmSlots are prewarmed and
// never cold. Slot j > warmSlots is reached each time N climbs from j−1 to
// j, which happens λ·P(N=j−1) times a second; the request that climbs is
// cold when N stayed below j for longer than keepAlive since it last left
// j, since the slot's instance then expired. The cold rate is the sum over
// slots of λ·P(N=j−1)·P(τ_j > keepAlive), divided by λ, where τ_j is the
// time N takes to climb back from j−1 to j.
//
// τ_j is the first passage of N, taken as the birth–death chain of
// exponential service (M/M/∞: births λ, deaths n/busy), and its tail is
// that chain's slowest mode: P(τ_j > K) ≈ c·exp(−θK), θ the smallest decay
// rate of the chain killed at j and c its weight from j−1 (modes.slowest).
// Taking the tail from the mean alone, exp(−K/E[τ_j]), under-projected by
// 20–30% at high concurrency: N hovers near a high slot and climbs back
// quickly several times before a long excursion, so the long gaps are
// longer and rarer than the mean says. For slot 1 the result is exact
// (the gaps of a Poisson stream are exponential). Against a simulation of
// the emulator's policy (des_test.go: Poisson arrivals, fixed and
// exponential service times, MRU reuse, keep-alive expiry, prewarmed
// instances) every cell from 0.1 to 100 requests/s and keep-alives of
// 10 s to 15 min is within 10% or above: fixed service times vary N less
// than exponential ones, so they give fewer cold starts, and the emulator
// keeps prewarmed instances in its MRU stack where this model serves them
// first, which under-uses them, so with prewarm the model errs high. The
// extra time a cold request holds its instance (its init) is left out of C.
func ColdRate(rate float64, busy, keepAlive time.Duration, warmSlots int) float64 {
	if rate <= 0 || math.IsNaN(rate) || math.IsInf(rate, 0) {
		return 0
	}
	b := max(busy, 0).Seconds()
	k := max(keepAlive, 0).Seconds()
	if b == 0 { // nothing overlaps: only slot 1, its gaps exponential
		if warmSlots > 0 {
			return 0
		}
		return math.Exp(-rate * k)
	}
	c := rate * b
	// Slots past C + 12√C + 30 are essentially never reached.
	last := int(math.Ceil(c+12*math.Sqrt(c))) + 30
	m := newModes(rate, b, k, last)
	var cold, below float64
	for i := 0; i < last; i++ { // slot j = i+1 is reached from i in flight
		p := poissonPMF(c, i)
		below += p // P(N ≤ i) = P(N < j)
		// By Markov's inequality P(τ_j > K) ≤ E[τ_j]/K, and
		// E[τ_j] = P(N<j)/(λ·P(N=j−1)), so this slot adds at most
		// P(N<j)/(λK) to the cold share: slots well below C, which N
		// always climbs back to at once, are skipped.
		if i < warmSlots || p < 1e-15 || below < 1e-12*rate*k {
			continue
		}
		theta, weight := m.slowest(i + 1)
		cold += rate * p * min(weight*math.Exp(-theta*k), 1)
	}
	return min(cold/rate, 1)
}

// modes finds the slowest decay mode of N, the birth–death chain on
// 0..j−1 with births at rate and deaths n/busy in state n, killed when it
// reaches j, for one slot j after another; it holds the buffers and the
// chain's stationary weights so that a ColdRate allocates once.
type modes struct {
	rate, busy float64
	keepAlive  float64
	logPi      []float64 // log of the Poisson(rate×busy) weights, unnormalized
	x, y, cp   []float64
}

func newModes(rate, busy, keepAlive float64, n int) *modes {
	m := &modes{rate: rate, busy: busy, keepAlive: keepAlive, logPi: make([]float64, n+1),
		x: make([]float64, n+1), y: make([]float64, n+1), cp: make([]float64, n+1)}
	c := rate * busy
	for i := range m.logPi {
		lg, _ := math.Lgamma(float64(i) + 1)
		m.logPi[i] = float64(i)*math.Log(c) - lg
	}
	return m
}

// slowest returns theta and weight with P(τ > t | N=j−1) ≈
// weight·exp(−theta·t). It is found by inverse iteration on the chain's
// tridiagonal generator (each step a Thomas solve, O(j); a handful of
// steps, since the slowest mode of a rare climb is far slower than the
// next); weight projects the start state j−1 on that mode with the
// chain's stationary weights, the chain being reversible. The other modes
// decay at about 1/busy or faster, quickly beside keep-alives of seconds
// and more.
func (m *modes) slowest(j int) (theta, weight float64) {
	rate, busy := m.rate, m.busy
	if j == 1 { // one state: leave it at rate, exactly exponential
		return rate, 1
	}
	x, y, cp := m.x[:j], m.y[:j], m.cp[:j]
	for i := range y {
		y[i] = 1
	}
	prev := 0.0
	for it := range 200 {
		// Solve A·x = y, A = −generator: row n is
		// (rate+n/busy)·x[n] − rate·x[n+1] − (n/busy)·x[n−1].
		for n := range j {
			mu := float64(n) / busy
			diag := rate + mu
			sup := -rate
			if n == j-1 {
				sup = 0
			}
			rhs := y[n]
			if n > 0 {
				diag += mu * cp[n-1] // −mu × cp[n−1] with the sub-diagonal −mu
				rhs += mu * x[n-1]
			}
			cp[n] = sup / diag
			x[n] = rhs / diag
		}
		for n := j - 2; n >= 0; n-- {
			x[n] -= cp[n] * x[n+1]
		}
		// x ≈ y/θ for the slowest mode: the growth is 1/θ.
		var norm float64
		for _, v := range x {
			norm = max(norm, math.Abs(v))
		}
		theta = 1 / norm // y was normalized to a max of 1
		for n := range x {
			y[n] = x[n] / norm
		}
		// Converged when exp(−θ·keepAlive) no longer moves, or θ itself:
		// a slot far above C has θ near 0 and only rounding left.
		// A slot N climbs back to within a small part of the keep-alive
		// (θ·keepAlive > 60) adds nothing whatever θ's last digits.
		if d := math.Abs(theta - prev); d*m.keepAlive <= 1e-7 || d <= 1e-7*theta || (it >= 3 && theta*m.keepAlive > 60) {
			break
		}
		prev = theta
	}
	// weight = u(j−1)·Σπu / Σπu², π taken relative to its largest over
	// 0..j−1 so that nothing overflows.
	top := m.logPi[min(int(rate*busy), j-1)]
	var su, su2 float64
	for n, u := range y {
		w := math.Exp(m.logPi[n] - top)
		su += w * u
		su2 += w * u * u
	}
	if su2 == 0 {
		return theta, 1
	}
	return theta, y[j-1] * su / su2
}

// PrewarmedShare is the share of requests served by one of slots
// prewarmed instances: those that arrive while fewer than slots requests
// are in flight, P(N < slots) with N Poisson(rate × busy).
func PrewarmedShare(rate float64, busy time.Duration, slots int) float64 {
	if slots <= 0 || rate <= 0 {
		return 0
	}
	return poissonCDF(rate*max(busy, 0).Seconds(), slots-1)
}

// poissonPMF is P(N = k) for N Poisson with mean c, computed in log space
// so that large means do not underflow.
func poissonPMF(c float64, k int) float64 {
	if k < 0 {
		return 0
	}
	if c <= 0 {
		if k == 0 {
			return 1
		}
		return 0
	}
	lg, _ := math.Lgamma(float64(k) + 1)
	return math.Exp(-c + float64(k)*math.Log(c) - lg)
}

// poissonCDF is P(N ≤ k) for N Poisson with mean c.
func poissonCDF(c float64, k int) float64 {
	if k < 0 {
		return 0
	}
	var sum float64
	for i := 0; i <= k; i++ {
		sum += poissonPMF(c, i)
	}
	return min(sum, 1)
}
