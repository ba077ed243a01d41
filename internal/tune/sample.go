package tune

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/coldbench/coldbench/drivers"
	"github.com/coldbench/coldbench/internal/cost"
	"github.com/coldbench/coldbench/internal/engine"
	"github.com/coldbench/coldbench/results"
)

// sampler sends the requests a tuning sweep measures on purpose, outside
// any schedule: cold ones on new instances, warm ones one after another.
// There is no intended send time to be late against, so a sample's latency
// is taken from just before Invoke to just after it on the monotonic
// clock, and its service time from the driver's wire-write time when it
// reports one.
type sampler struct {
	d      drivers.Driver
	detect engine.Detection
	col    *collector
	prefix string // request id prefix, per setting
	seq    atomic.Uint64

	// tally holds the samples: one phase, histograms by temperature ×
	// outcome, as a run's phase does.
	tally *results.Tally
	seen  map[string]struct{} // instance ids already served a sample
	mu    sync.Mutex          // guards tally and seen
}

func newSampler(d drivers.Driver, detect engine.Detection, col *collector, prefix string) *sampler {
	return &sampler{
		d:      d,
		detect: detect,
		col:    col,
		prefix: prefix,
		tally:  results.NewTally([]results.PhasePlan{{Name: "samples"}}),
		seen:   map[string]struct{}{},
	}
}

// call is one finished sample request before it is recorded.
type call struct {
	c drivers.Call
	s results.Sample
}

// invoke sends one request and classifies it, without recording it.
func (sp *sampler) invoke(ctx context.Context, phase string) call {
	var k call
	k.c.Seq = sp.seq.Add(1) - 1
	k.c.ID = sp.prefix + strconv.FormatUint(k.c.Seq, 10)
	k.c.Phase = phase
	start := time.Now()
	err := sp.d.Invoke(ctx, &k.c)
	end := time.Now()
	sent := start
	if !k.c.Sent.IsZero() {
		sent = k.c.Sent
	}
	k.s = results.Sample{Outcome: drivers.Classify(&k.c, err), Latency: end.Sub(start), Service: end.Sub(sent)}
	sp.mu.Lock()
	k.s.Temp, k.s.Source = sp.temperature(&k.c)
	sp.mu.Unlock()
	return k
}

// temperature applies the believed signals in the engine's order: the
// platform's, a header's, then the first request seen per instance id.
// Called with mu held.
func (sp *sampler) temperature(c *drivers.Call) (drivers.Temperature, drivers.ColdSource) {
	if c.Temp != drivers.Unknown &&
		((c.Source == drivers.SourcePlatform && sp.detect.Platform) || (c.Source == drivers.SourceHeader && sp.detect.Header)) {
		return c.Temp, c.Source
	}
	if c.InstanceID != "" && sp.detect.Instance {
		if _, ok := sp.seen[c.InstanceID]; ok {
			return drivers.Warm, drivers.SourceInstance
		}
		sp.seen[c.InstanceID] = struct{}{}
		return drivers.Cold, drivers.SourceInstance
	}
	return drivers.Unknown, drivers.SourceNone
}

// record adds a finished sample to the tally and the collector.
func (sp *sampler) record(k *call) {
	sp.mu.Lock()
	sp.tally.Phases[0].Record(k.s)
	sp.mu.Unlock()
	sp.col.observe(&k.c, k.s)
}

// burst sends n requests at once and returns them. With prewarm P on the
// platform, a burst of P+1 right after a forced cold start keeps the P
// prewarmed instances busy, so that one request must start a new instance.
func (sp *sampler) burst(ctx context.Context, n int) []call {
	out := make([]call, n)
	var wg sync.WaitGroup
	for i := range out {
		wg.Go(func() { out[i] = sp.invoke(ctx, "tune-cold") })
	}
	wg.Wait()
	return out
}

// cold gathers n cold samples: before each, makeCold empties the platform
// of on-demand instances, then a burst of prewarm+1 requests goes out. The
// request the signals call cold is the sample; the others were served by
// prewarmed instances and are dropped. When no signal decides, the slowest
// request of the burst is taken as the cold one (flagged inferred). A burst
// without a cold request is tried again, up to n more times.
func (sp *sampler) cold(ctx context.Context, n, prewarm int, makeCold func(context.Context) error) (int, error) {
	got := 0
	for tries := 0; got < n && tries < 2*n; tries++ {
		if err := makeCold(ctx); err != nil {
			return got, err
		}
		calls := sp.burst(ctx, prewarm+1)
		if err := ctx.Err(); err != nil {
			return got, err
		}
		slowest := -1
		for i := range calls {
			k := &calls[i]
			switch {
			case k.s.Temp == drivers.Cold:
				sp.record(k)
				got++
			case k.s.Temp == drivers.Unknown && k.s.Outcome == drivers.OK:
				if slowest < 0 || k.s.Service > calls[slowest].s.Service {
					slowest = i
				}
			case k.s.Outcome != drivers.OK:
				sp.record(k) // an error is data too
			}
		}
		if slowest >= 0 {
			k := &calls[slowest]
			k.s.Temp, k.s.Source = drivers.Cold, drivers.SourceInferred
			sp.record(k)
			got++
		}
	}
	return got, nil
}

// warm gathers n samples one after another: each lands on the instance the
// previous one left idle. One that starts an instance after all is
// recorded as cold, as it was.
func (sp *sampler) warm(ctx context.Context, n int) error {
	for range n {
		k := sp.invoke(ctx, "tune-warm")
		if err := ctx.Err(); err != nil {
			return err
		}
		if k.s.Temp == drivers.Unknown && k.s.Outcome == drivers.OK {
			k.s.Temp, k.s.Source = drivers.Warm, drivers.SourceInferred
		}
		sp.record(&k)
	}
	return nil
}

// keepWarm sends n concurrent pings now and then every period until the
// returned stop is called: the keep-warm schedule for platforms without
// prewarm. Pings are not measured.
func (sp *sampler) keepWarm(ctx context.Context, n int, every time.Duration) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			sp.burst(ctx, n)
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}()
	return func() { cancel(); <-done }
}

// samples returns the tally of the samples.
func (sp *sampler) samples() *results.PhaseTally {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	return sp.tally.Clone().Phases[0]
}

// collector gathers what the cost model needs from every successful
// request of a setting, sampled or replayed: billed durations as the
// platform reports them and as measured, and memory used. It is an
// engine.Observer, so it is quick and safe for concurrent use.
type collector struct {
	table cost.Table

	mu       sync.Mutex
	platform [3]mean // platform-reported billed duration, rounded by the table, by temperature
	raw      [3]mean // platform-reported billed duration as reported
	measured [3]mean // service time rounded by the table
	service  [3]mean // service time
	init     mean    // platform-reported init of cold requests
	maxMem   int
	mem      *hdrhistogram.Histogram // memory used, MB; nil until reported
}

// mean is a running sum and count of durations, and their histogram (µs)
// for the bootstrap intervals of the recommendation.
type mean struct {
	sum time.Duration
	n   int64
	h   *hdrhistogram.Histogram
}

func (m *mean) add(d time.Duration) {
	m.sum += d
	m.n++
	if m.h == nil {
		m.h = results.NewHistogram()
	}
	m.h.RecordValue(d.Microseconds())
}

// merged is m and o together.
func (m mean) merged(o mean) mean {
	out := mean{sum: m.sum + o.sum, n: m.n + o.n}
	if m.h != nil || o.h != nil {
		out.h = results.NewHistogram()
		for _, h := range []*hdrhistogram.Histogram{m.h, o.h} {
			if h != nil {
				out.h.Merge(h)
			}
		}
	}
	return out
}

// get is the mean, and false when there were no values.
func (m mean) get() (time.Duration, bool) {
	if m.n == 0 {
		return 0, false
	}
	return m.sum / time.Duration(m.n), true
}

var _ engine.Observer = (*collector)(nil).observe

func (c *collector) observe(call *drivers.Call, s results.Sample) {
	if s.Outcome != drivers.OK {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	t := s.Temp
	if call.Billed > 0 {
		c.platform[t].add(c.table.Billed(call.Billed))
		c.raw[t].add(call.Billed)
		if t == drivers.Cold && call.Init > 0 {
			c.init.add(call.Init)
		}
	}
	c.measured[t].add(c.table.Billed(s.Service))
	c.service[t].add(s.Service)
	if call.MaxMemoryMB > 0 {
		c.maxMem = max(c.maxMem, call.MaxMemoryMB)
		if c.mem == nil {
			c.mem = results.NewHistogram()
		}
		c.mem.RecordValue(int64(call.MaxMemoryMB))
	}
}

// billing is what the collector learned, ready for the cost model.
type billing struct {
	source           string // "platform" or "measured"
	warm, cold, busy time.Duration
	count            int64
	maxMemoryMB      int
	memory           *results.MemoryUsed
	// fnWarm and fnCold are the time a warm and a cold request spend in
	// the function, as the platform reports it: its duration, and for a
	// cold one its init too. fnOK is false when it reported neither.
	fnWarm, fnCold time.Duration
	fnOK           bool
	// warmDist and coldDist are the billed durations (µs), nil when none.
	warmDist, coldDist *hdrhistogram.Histogram
}

// record is b as the tuning record keeps it.
func (b billing) record() results.TuneBilled {
	out := results.TuneBilled{Source: b.source, WarmMeanMs: ms(b.warm), ColdMeanMs: ms(b.cold), BusyMs: ms(b.busy), Count: b.count}
	if b.warmDist != nil {
		out.WarmDist = new(results.PercentilesOf(b.warmDist))
	}
	if b.coldDist != nil {
		out.ColdDist = new(results.PercentilesOf(b.coldDist))
	}
	return out
}

// errNoRequests means no request of the setting succeeded, so there is
// nothing to price.
var errNoRequests = errors.New("no successful request to price")

// billing summarises the setting: the platform's billed durations when it
// reported any, else the measured service times. Requests of unknown
// temperature count as warm. Busy, how long a request holds an instance,
// is the unrounded warm billed duration (or service time).
func (c *collector) billing() (billing, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	src, busySrc := &c.platform, &c.raw
	b := billing{source: "platform", maxMemoryMB: c.maxMem, memory: results.MemoryUsedOf(c.mem)}
	if c.platform[drivers.Warm].n+c.platform[drivers.Cold].n+c.platform[drivers.Unknown].n == 0 {
		src, busySrc, b.source = &c.measured, &c.service, "measured"
	}
	warm := src[drivers.Warm].merged(src[drivers.Unknown])
	busy := busySrc[drivers.Warm]
	busy.sum += busySrc[drivers.Unknown].sum
	busy.n += busySrc[drivers.Unknown].n
	b.count = warm.n + src[drivers.Cold].n
	var okW, okC bool
	b.warm, okW = warm.get()
	b.cold, okC = src[drivers.Cold].get()
	b.busy, _ = busy.get()
	b.warmDist, b.coldDist = warm.h, src[drivers.Cold].h
	switch {
	case !okW && !okC:
		return b, errNoRequests
	case !okW: // only cold requests: the best guess at a warm one
		b.warm = b.cold
		b.busy, _ = busySrc[drivers.Cold].get()
	case !okC:
		b.cold = b.warm
	}
	rawCold, okRC := busySrc[drivers.Cold].get()
	initMean, okI := c.init.get()
	if b.source == "platform" && okW && okRC && okI {
		b.fnWarm, b.fnCold, b.fnOK = b.busy, rawCold+initMean, true
	}
	return b, nil
}

// String describes the billing for progress lines.
func (b billing) String() string {
	return fmt.Sprintf("billed %v warm (%s)", b.warm, b.source)
}
