package results

import (
	"math"
	"os"
	"runtime"
	"sort"
	"sync"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/coldbench/coldbench/drivers"
)

// Meta is what a Run records beside the measurements: what ran, against
// what, when, and how it ended.
type Meta struct {
	Scenario     string // scenario name
	ScenarioFile string // a path, or "builtin:NAME"
	Target       string // driver and URL or description, for people
	Driver       string // driver name
	Version      string // coldbench version
	StartedAt    time.Time
	// FinishedAt is when the run ended or, for a record written while the
	// run goes, when the snapshot was taken. A phase still running is
	// measured up to it.
	FinishedAt  time.Time
	Complete    bool
	Interrupted string // why the run stopped early ("signal: interrupt"), or empty
	// Host defaults to LocalHost() when zero.
	Host Host
	// Fleet is the per-agent breakdown and whether the run was degraded.
	Fleet Fleet
	// Thresholds is the verdicts of the scenario's thresholds, if any.
	Thresholds []ThresholdVerdict
}

// LocalHost describes the machine this process runs on.
func LocalHost() Host {
	name, _ := os.Hostname() // a record without a hostname is still a record
	return Host{Hostname: name, Cores: runtime.NumCPU()}
}

// Summarize turns a tally into a run record: per-phase stats and totals,
// percentiles from the histograms, and the histograms themselves encoded
// for storage. Totals merge the phases' histograms; percentiles are never
// averaged. Summarize reads t and does not keep it; a nil t is a run with
// no phases.
func Summarize(t *Tally, meta Meta) *Run {
	if t == nil {
		t = &Tally{}
	}
	host := meta.Host
	if host == (Host{}) {
		host = LocalHost()
	}
	r := &Run{
		Header: Header{
			Schema:           Schema,
			Scenario:         meta.Scenario,
			ScenarioFile:     meta.ScenarioFile,
			Target:           meta.Target,
			Driver:           meta.Driver,
			ColdbenchVersion: meta.Version,
			StartedAt:        utc(meta.StartedAt),
			FinishedAt:       utc(meta.FinishedAt),
			Complete:         meta.Complete,
		},
		Interrupted: meta.Interrupted,
		Host:        host,
		Fleet:       meta.Fleet,
		Thresholds:  meta.Thresholds,
		Phases:      make([]PhaseStats, 0, len(t.Phases)),
	}

	total := newAccum()
	defer total.release()
	var (
		sumElapsed      time.Duration
		expected        float64 // arrivals the schedule expects, random phases at their mean
		plannedDuration time.Duration
	)
	for _, p := range t.Phases {
		elapsed := phaseElapsed(p, meta.FinishedAt)
		r.Phases = append(r.Phases, summarizePhase(p, elapsed))
		total.add(p)
		sumElapsed += elapsed
		if p.Planned < 0 {
			expected += p.Rate * p.Duration.Seconds()
		} else {
			expected += float64(p.Planned)
		}
		plannedDuration += p.Duration
	}

	// The whole run's rate is over its wall-clock length, gaps between
	// phases included; without run times, over the phases' own time.
	runElapsed := r.Elapsed()
	if runElapsed == 0 {
		runElapsed = sumElapsed
	}
	r.Totals = total.stats(runElapsed)
	if plannedDuration > 0 {
		r.Totals.RateTarget = expected / plannedDuration.Seconds()
	}
	r.ColdDetection = coldDetection(total.sources)
	r.Inference = total.inference.Stats()
	if t.Timeline != nil {
		r.Timeline = t.Timeline.Clone()
		r.Timeline.pack()
	}
	return r
}

// summarizePhase is the PhaseStats of p, measured over elapsed.
func summarizePhase(p *PhaseTally, elapsed time.Duration) PhaseStats {
	a := newAccum()
	defer a.release()
	a.add(p)
	ps := PhaseStats{
		Name:             p.Name,
		Stats:            a.stats(elapsed),
		StartedAt:        utc(p.Start),
		EndedAt:          utc(p.End),
		Planned:          p.Planned,
		PlannedDurationS: p.Duration.Seconds(),
		ColdDetection:    coldDetection(p.ColdSources),
		SentByTemp: TempCounts{
			Cold:    p.Temps[drivers.Cold],
			Warm:    p.Temps[drivers.Warm],
			Unknown: p.Temps[drivers.Unknown],
		},
		Exemplars: phaseExemplars(p),
		Inference: p.Inference.Stats(),
	}
	if p.Planned >= 0 {
		ps.RateTarget = perSecond(p.Planned, p.Duration)
	} else {
		ps.RateTarget = p.Rate // random arrivals: the mean rate
	}
	// Every histogram that Cold, Warm and Unknown do not already hold, in a
	// fixed order so that the same tally always gives the same file.
	keys := make([]HistKey, 0, len(p.Hists))
	for k, h := range p.Hists {
		if (k.Outcome == drivers.OK && k.Kind == Latency) || h.TotalCount() == 0 {
			continue
		}
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		if a.Temp != b.Temp {
			return a.Temp > b.Temp // cold, warm, unknown
		}
		if a.Outcome != b.Outcome {
			return a.Outcome < b.Outcome
		}
		return a.Kind < b.Kind
	})
	for _, k := range keys {
		ps.Histograms = append(ps.Histograms, HistEntry{
			Temp:      k.Temp.String(),
			Outcome:   k.Outcome.String(),
			Kind:      k.Kind.String(),
			Histogram: mustEncode(p.Hists[k]),
		})
	}
	return ps
}

// phaseElapsed is how long p actually ran: to its end, or to asOf for a
// phase still running when the snapshot was taken.
func phaseElapsed(p *PhaseTally, asOf time.Time) time.Duration {
	if p.Start.IsZero() {
		return 0
	}
	end := p.End
	if end.IsZero() {
		end = asOf
	}
	if end.Before(p.Start) {
		return 0
	}
	return end.Sub(p.Start)
}

// accum adds up phases for a Stats: counters, and histograms merged.
type accum struct {
	sent, dropped int64
	outcomes      [drivers.NumOutcomes]int64
	sources       [drivers.NumSources]int64
	inference     Inference
	ok            [3]*hdrhistogram.Histogram // successful latency by temperature
	service       *hdrhistogram.Histogram    // successful service time, all temperatures
	memory        *hdrhistogram.Histogram    // memory used, MB, any outcome
	lag           *hdrhistogram.Histogram    // generator lag, all requests
	net           NetStats
	codes         ErrorCodes
}

// accums are reused: the run.json journal summarises the run every second,
// and an accum's histograms are about 900 KiB to allocate and collect,
// twice per summary for a one-phase run. Clearing them is a memclr.
var accums = sync.Pool{New: func() any {
	a := &accum{service: NewHistogram(), memory: NewHistogramOf(Memory), lag: NewHistogramOf(Lag)}
	for i := range a.ok {
		a.ok[i] = NewHistogram()
	}
	return a
}}

// newAccum returns an empty accum; give it back with release once its
// stats are taken (they keep no reference to its histograms).
func newAccum() *accum {
	a := accums.Get().(*accum)
	hs := [...]*hdrhistogram.Histogram{a.ok[0], a.ok[1], a.ok[2], a.service, a.memory, a.lag}
	*a = accum{ok: a.ok, service: a.service, memory: a.memory, lag: a.lag}
	for _, h := range hs {
		h.Reset()
	}
	return a
}

func (a *accum) release() { accums.Put(a) }

func (a *accum) add(p *PhaseTally) {
	a.net.Merge(p.Net)
	for k, n := range p.Codes {
		a.codes.Add(k.Outcome, k.Code, n)
	}
	a.sent += p.Sent
	a.dropped += p.Dropped
	for i, n := range p.Outcomes {
		a.outcomes[i] += n
	}
	for i, n := range p.ColdSources {
		a.sources[i] += n
	}
	a.inference.Merge(p.Inference)
	for k, h := range p.Hists {
		if k.Kind == Memory {
			a.memory.Merge(h)
		}
	}
	if h := p.Hist(LagKey); h != nil {
		a.lag.Merge(h)
	}
	for i := range a.ok {
		temp := drivers.Temperature(i)
		if h := p.Hist(HistKey{temp, drivers.OK, Latency}); h != nil {
			a.ok[i].Merge(h)
		}
		if h := p.Hist(HistKey{temp, drivers.OK, Service}); h != nil {
			a.service.Merge(h)
		}
	}
}

func (a *accum) stats(elapsed time.Duration) Stats {
	s := Stats{
		Requests:   a.sent + a.dropped,
		Sent:       a.sent,
		OK:         a.outcomes[drivers.OK],
		Dropped:    a.dropped,
		Errors:     map[string]int64{},
		ErrorCodes: a.codes.ByClass(),
		DurationS:  elapsed.Seconds(),
		Cold:       summarizeHist(a.ok[drivers.Cold]),
		Warm:       summarizeHist(a.ok[drivers.Warm]),
		Service:    summarizeHist(a.service),
		Network:    a.net,
	}
	var failed int64
	for o, n := range a.outcomes {
		if drivers.Outcome(o) != drivers.OK && n != 0 {
			s.Errors[drivers.Outcome(o).String()] += n
			failed += n
		}
	}
	if a.sent > 0 {
		s.ErrorRate = float64(failed) / float64(a.sent)
	}
	s.RateAchieved = perSecond(s.Requests, elapsed)
	if known := s.Cold.Count + s.Warm.Count; known > 0 {
		s.ColdRate = float64(s.Cold.Count) / float64(known)
	}
	if a.ok[drivers.Unknown].TotalCount() > 0 {
		u := summarizeHist(a.ok[drivers.Unknown])
		s.Unknown = &u
	}
	s.MemoryUsed = MemoryUsedOf(a.memory)
	if a.lag.TotalCount() > 0 {
		// The histogram itself is stored once, among a phase's Histograms.
		l := summarizeHist(a.lag)
		l.Histogram = ""
		s.Lag = &l
	}
	return s
}

// summarizeHist reads the percentiles of h (microseconds) in milliseconds.
func summarizeHist(h *hdrhistogram.Histogram) Percentiles {
	if h.TotalCount() == 0 {
		return Percentiles{}
	}
	return Percentiles{
		Count:     h.TotalCount(),
		MinMs:     ms(h.Min()),
		MeanMs:    math.Round(h.Mean()) / 1000,
		P50Ms:     ms(h.ValueAtQuantile(50)),
		P90Ms:     ms(h.ValueAtQuantile(90)),
		P95Ms:     ms(h.ValueAtQuantile(95)),
		P99Ms:     ms(h.ValueAtQuantile(99)),
		P999Ms:    ms(h.ValueAtQuantile(99.9)),
		MaxMs:     ms(h.Max()),
		Histogram: mustEncode(h),
	}
}

// mustEncode encodes h. Encoding into memory in the one version the library
// supports cannot fail; if a future library made it fail, a record without
// its histograms would silently lose data, so fail loudly instead.
func mustEncode(h *hdrhistogram.Histogram) string {
	s, err := encodeHist(h)
	if err != nil {
		panic("results: " + err.Error())
	}
	// A run's record is summarised every second beside the pacer: on one
	// processor (internal/procs) milliseconds of encoding in one go would
	// hold the pacer up, so let it run between histograms.
	runtime.Gosched()
	return s
}

func coldDetection(src [drivers.NumSources]int64) ColdDetection {
	return ColdDetection{
		Platform: src[drivers.SourcePlatform],
		Header:   src[drivers.SourceHeader],
		Instance: src[drivers.SourceInstance],
		Body:     src[drivers.SourceBody],
		Inferred: src[drivers.SourceInferred],
		None:     src[drivers.SourceNone],
	}
}

func ms(us int64) float64 { return float64(us) / 1000 }

func perSecond(n int64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

// utc drops the monotonic reading and the location, so that times in the
// record print and compare the same after a JSON round trip.
func utc(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC()
}
