package tune

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

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
	col    *cost.Collector
	prefix string // request id prefix, per setting
	seq    atomic.Uint64

	// tally holds the samples: one phase, histograms by temperature ×
	// outcome, as a run's phase does.
	tally *results.Tally
	seen  map[string]struct{} // instance ids already served a sample
	mu    sync.Mutex          // guards tally and seen
}

func newSampler(d drivers.Driver, detect engine.Detection, col *cost.Collector, prefix string) *sampler {
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

// temperature applies the believed signals in the engine's order
// (engine.Detection.Temperature). Called with mu held.
func (sp *sampler) temperature(c *drivers.Call) (drivers.Temperature, drivers.ColdSource) {
	return sp.detect.Temperature(c, sp.seen)
}

// record adds a finished sample to the tally and the collector.
func (sp *sampler) record(k *call) {
	sp.mu.Lock()
	sp.tally.Phases[0].Record(k.s)
	sp.mu.Unlock()
	sp.col.Observe(&k.c, k.s)
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
