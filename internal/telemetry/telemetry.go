// Package telemetry exports a run's metrics while it goes, from the
// controller's merged view across agents, to an OpenTelemetry (OTLP)
// endpoint and a Prometheus scrape endpoint. Both sinks are optional.
//
// The runner hands the exporter the merged tally every time the
// controller merges the agents' snapshots (about once a second) and once
// more at the end. Counters are exported cumulative, as read from the
// merged tally, and clamped so that they never go down. Latency
// histograms are converted at export time from the merged HDR histograms
// into fixed explicit buckets (LatencyBounds): no per-request cost, exact
// counts, the same buckets for both sinks, and nothing to reconcile when
// agents come and go, since the merged histograms are cumulative.
package telemetry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coldbench/coldbench/drivers"
	"github.com/coldbench/coldbench/internal/engine"
	"github.com/coldbench/coldbench/internal/runner"
	"github.com/coldbench/coldbench/internal/tune"
	"github.com/coldbench/coldbench/results"
)

// Resource names what the metrics are about.
type Resource struct {
	Scenario string
	Target   string // driver and URL or function, secrets removed (see Redact)
	Driver   string
	RunID    string
	Version  string
}

// Config is the exporter's sinks. The zero value exports nothing.
type Config struct {
	Resource Resource
	// OTLP, when Endpoint is set (or OTEL_EXPORTER_OTLP_ENDPOINT), pushes
	// the metrics with the OpenTelemetry SDK.
	OTLP OTLP
	// PrometheusListen, when set, serves GET /metrics on that address.
	PrometheusListen string
	// Log receives one line per sink started and export errors; nil for
	// none.
	Log io.Writer
	// Tune says the run is a tune sweep, whose series are per setting
	// and appear as each setting starts. Otherwise the run's one series
	// exists from the start, every counter at 0, so that the first
	// scrape already has them.
	Tune bool
}

// Enabled reports whether c asks for any sink.
func (c Config) Enabled() bool { return c.OTLP.enabled() || c.PrometheusListen != "" }

// Exporter keeps the latest figures of a run, or of each setting of a
// tune, and serves them to its sinks. Its methods are safe for concurrent
// use.
type Exporter struct {
	res  Resource
	log  io.Writer
	otlp *otlpSink
	prom *promSink

	mu     sync.Mutex
	series map[string]*series // by setting name; "" for a plain run
	order  []string
}

// series is the figures of one run or setting.
type series struct {
	setting *drivers.Settings // nil for a plain run
	fig     *figures
	at      time.Time
	started time.Time // the start of its cumulative counts
	cost    *float64  // cost per million requests, once a tune measured it
}

// New starts the sinks cfg asks for. Close flushes and stops them.
func New(ctx context.Context, cfg Config) (*Exporter, error) {
	e := &Exporter{res: cfg.Resource, log: cfg.Log, series: map[string]*series{}}
	if e.log == nil {
		e.log = io.Discard
	}
	if !cfg.Tune {
		e.seriesLocked("", nil) // no lock needed: e is not shared yet
	}
	if cfg.PrometheusListen != "" {
		p, err := newPromSink(e, cfg.PrometheusListen)
		if err != nil {
			return nil, err
		}
		e.prom = p
		fmt.Fprintf(e.log, "metrics: serving Prometheus metrics on http://%s/metrics\n", p.Addr())
	}
	if cfg.OTLP.enabled() {
		o, err := newOTLPSink(ctx, e, cfg.OTLP)
		if err != nil {
			if e.prom != nil {
				e.prom.close(ctx, 0)
			}
			return nil, err
		}
		e.otlp = o
		fmt.Fprintf(e.log, "metrics: exporting OTLP/%s to %s every %s\n", o.protocol, o.endpoint, o.interval)
	}
	return e, nil
}

// PrometheusAddr is the address the Prometheus endpoint listens on, or ""
// without one.
func (e *Exporter) PrometheusAddr() string {
	if e.prom == nil {
		return ""
	}
	return e.prom.Addr()
}

var (
	_ runner.Metrics = (*Exporter)(nil)
	_ tune.Metrics   = (*Exporter)(nil)
)

// Observe takes the run's merged tally and live progress.
func (e *Exporter) Observe(t *results.Tally, p engine.Progress) { e.observe("", nil, t, p) }

// Setting returns what observes the phases of one tune setting: its
// series carry the setting as attributes.
func (e *Exporter) Setting(s drivers.Settings) runner.Metrics {
	return &SettingObserver{e: e, s: s}
}

// SettingObserver observes one tune setting's phases.
type SettingObserver struct {
	e *Exporter
	s drivers.Settings
}

// Observe is Exporter.Observe for the setting.
func (o *SettingObserver) Observe(t *results.Tally, p engine.Progress) {
	o.e.observe(results.SettingName(o.s.MemoryMB, o.s.Prewarm), &o.s, t, p)
}

// Cost records a measured setting's projected cost per million requests.
func (e *Exporter) Cost(s drivers.Settings, perMillion float64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	sr := e.seriesLocked(results.SettingName(s.MemoryMB, s.Prewarm), &s)
	sr.cost = &perMillion
}

func (e *Exporter) observe(name string, set *drivers.Settings, t *results.Tally, p engine.Progress) {
	if t == nil {
		return
	}
	next := tallyFigures(t, p)
	now := time.Now()
	e.mu.Lock()
	defer e.mu.Unlock()
	sr := e.seriesLocked(name, set)
	if p.Phase >= 0 { // else the run is over: no rate any more
		next.achievedRate = rate(sr.fig, next, sr.at, now)
	}
	sr.fig, sr.at = monotonic(sr.fig, next), now
}

func (e *Exporter) seriesLocked(name string, set *drivers.Settings) *series {
	sr := e.series[name]
	if sr == nil {
		sr = &series{setting: set, started: time.Now()}
		e.series[name] = sr
		e.order = append(e.order, name)
	}
	return sr
}

// view is a consistent copy of every series, for a sink's collection.
type view struct {
	name    string
	setting *drivers.Settings
	fig     figures
	cost    *float64
	started time.Time
}

func (e *Exporter) views() []view {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]view, 0, len(e.order))
	for _, name := range e.order {
		sr := e.series[name]
		if name == "" && sr.fig == nil && len(e.order) > 1 {
			continue // a plain run's zero series, in what turned out to be a tune
		}
		v := view{name: name, setting: sr.setting, cost: sr.cost, started: sr.started}
		if sr.fig != nil {
			v.fig = *sr.fig
		} else {
			v.fig = *newFigures()
		}
		out = append(out, v)
	}
	return out
}

// Close pushes the final figures to the OTLP endpoint, then keeps the
// Prometheus endpoint up for linger (so that a last scrape sees the final
// values) unless ctx ends first, and stops both. Close is the final
// flush: call it also when the run was interrupted.
func (e *Exporter) Close(ctx context.Context, linger time.Duration) error {
	var errs []error
	if e.otlp != nil {
		if err := e.otlp.close(ctx); err != nil {
			errs = append(errs, fmt.Errorf("metrics: final OTLP export: %w", err))
		}
	}
	if e.prom != nil {
		if linger > 0 {
			fmt.Fprintf(e.log, "metrics: final values published; serving them for %s more\n", linger)
		}
		e.prom.close(ctx, linger)
	}
	return errors.Join(errs...)
}

// NewRunID names a run for the metrics and the agents' logs: the
// scenario's name and the start time in base 36.
func NewRunID(scenario string, at time.Time) string {
	return scenario + "-" + strconv.FormatInt(at.UnixNano(), 36)
}

// Redact removes what may be secret from a target description: the user
// and password and the query of every URL in it.
func Redact(target string) string {
	fields := strings.Fields(target)
	for i, f := range fields {
		u, err := url.Parse(f)
		if err != nil || u.Scheme == "" || u.Host == "" {
			continue
		}
		u.User, u.RawQuery, u.Fragment = nil, "", ""
		fields[i] = u.String()
	}
	return strings.Join(fields, " ")
}
