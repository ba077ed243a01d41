package cost

import (
	"errors"
	"sync"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/coldbench/coldbench/drivers"
	"github.com/coldbench/coldbench/internal/engine"
	"github.com/coldbench/coldbench/results"
)

// NewCollector returns a collector that rounds durations as table bills.
func NewCollector(table Table) *Collector { return &Collector{table: table} }

// Collector gathers what the cost model needs from every successful
// request of a setting (a tuning setting's or a capacity step's): billed durations as the
// platform reports them and as measured, and memory used. It is an
// engine.Observer, so it is quick and safe for concurrent use.
// NewCollector makes one.
type Collector struct {
	table Table

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

var _ engine.Observer = (*Collector)(nil).Observe

// Observe records one finished request.
func (c *Collector) Observe(call *drivers.Call, s results.Sample) {
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

// Billing is what a Collector learned, ready for the cost model.
type Billing struct {
	Source           string // "platform" or "measured"
	Warm, Cold, Busy time.Duration
	Count            int64
	MaxMemoryMB      int
	Memory           *results.MemoryUsed
	// FnWarm and FnCold are the time a warm and a cold request spend in
	// the function, as the platform reports it: its duration, and for a
	// cold one its init too. FnOK is false when it reported neither.
	FnWarm, FnCold time.Duration
	FnOK           bool
	// WarmDist and ColdDist are the billed durations (µs), nil when none.
	WarmDist, ColdDist *hdrhistogram.Histogram
}

// ErrNoRequests means no request of the setting succeeded, so there is
// nothing to price.
var ErrNoRequests = errors.New("no successful request to price")

// Billing summarises the setting: the platform's billed durations when it
// reported any, else the measured service times. Requests of unknown
// temperature count as warm. Busy, how long a request holds an instance,
// is the unrounded warm billed duration (or service time).
func (c *Collector) Billing() (Billing, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	src, busySrc := &c.platform, &c.raw
	b := Billing{Source: "platform", MaxMemoryMB: c.maxMem, Memory: results.MemoryUsedOf(c.mem)}
	if c.platform[drivers.Warm].n+c.platform[drivers.Cold].n+c.platform[drivers.Unknown].n == 0 {
		src, busySrc, b.Source = &c.measured, &c.service, "measured"
	}
	warm := src[drivers.Warm].merged(src[drivers.Unknown])
	busy := busySrc[drivers.Warm]
	busy.sum += busySrc[drivers.Unknown].sum
	busy.n += busySrc[drivers.Unknown].n
	b.Count = warm.n + src[drivers.Cold].n
	var okW, okC bool
	b.Warm, okW = warm.get()
	b.Cold, okC = src[drivers.Cold].get()
	b.Busy, _ = busy.get()
	b.WarmDist, b.ColdDist = warm.h, src[drivers.Cold].h
	switch {
	case !okW && !okC:
		return b, ErrNoRequests
	case !okW: // only cold requests: the best guess at a warm one
		b.Warm = b.Cold
		b.Busy, _ = busySrc[drivers.Cold].get()
	case !okC:
		b.Cold = b.Warm
	}
	rawCold, okRC := busySrc[drivers.Cold].get()
	initMean, okI := c.init.get()
	if b.Source == "platform" && okW && okRC && okI {
		b.FnWarm, b.FnCold, b.FnOK = b.Busy, rawCold+initMean, true
	}
	return b, nil
}

// Record is the billing as tune.json and plan.json store it.
func (b Billing) Record() results.TuneBilled {
	out := results.TuneBilled{Source: b.Source, WarmMeanMs: ms(b.Warm), ColdMeanMs: ms(b.Cold), BusyMs: ms(b.Busy), Count: b.Count}
	if b.WarmDist != nil {
		out.WarmDist = new(results.PercentilesOf(b.WarmDist))
	}
	if b.ColdDist != nil {
		out.ColdDist = new(results.PercentilesOf(b.ColdDist))
	}
	return out
}
