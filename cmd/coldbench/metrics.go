package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/coldbench/coldbench/internal/study"
	"github.com/coldbench/coldbench/internal/telemetry"
	"github.com/coldbench/coldbench/scenarios"
)

// metricsFlags are run's and tune's metrics export flags. Each overrides
// the scenario's telemetry: block field by field; the OTEL_EXPORTER_OTLP_*
// environment variables fill what neither gives.
type metricsFlags struct {
	endpoint, protocol string
	insecure           bool
	headers            stringList
	interval           time.Duration
	listen             string
	linger             time.Duration
	fs                 *flag.FlagSet
}

func addMetricsFlags(fs *flag.FlagSet) *metricsFlags {
	m := &metricsFlags{fs: fs}
	fs.StringVar(&m.endpoint, "otlp-endpoint", "", "push metrics over OTLP to this host:port or URL (default: OTEL_EXPORTER_OTLP_ENDPOINT, else none)")
	fs.StringVar(&m.protocol, "otlp-protocol", "", "OTLP protocol: grpc or http (default: OTEL_EXPORTER_OTLP_PROTOCOL, else grpc)")
	fs.BoolVar(&m.insecure, "otlp-insecure", false, "push OTLP in plaintext")
	fs.Var(&m.headers, "otlp-header", "send this KEY=VALUE header with every OTLP export (repeatable)")
	fs.DurationVar(&m.interval, "otlp-interval", 0, "how often metrics are pushed (default 5s); the final figures are pushed at the end")
	fs.StringVar(&m.listen, "metrics-listen", "", "serve Prometheus metrics on this address, /metrics (127.0.0.1:0 picks a port)")
	fs.DurationVar(&m.linger, "metrics-linger", 0, "keep the Prometheus endpoint up this long after the run, for a last scrape")
	return m
}

// config merges the flags given over the scenario's telemetry: block.
func (m *metricsFlags) config(s *scenarios.Scenario) (telemetry.Config, time.Duration, error) {
	given := map[string]bool{}
	m.fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var c telemetry.Config
	var linger time.Duration
	if t := s.Telemetry; t != nil {
		if o := t.OTLP; o != nil {
			c.OTLP = telemetry.OTLP{Endpoint: o.Endpoint, Protocol: o.Protocol, Insecure: o.Insecure,
				Headers: o.Headers, Interval: time.Duration(o.Interval)}
		}
		if p := t.Prometheus; p != nil {
			c.PrometheusListen, linger = p.Listen, time.Duration(p.Linger)
		}
	}
	if given["otlp-endpoint"] {
		c.OTLP.Endpoint = m.endpoint
	}
	if given["otlp-protocol"] {
		if _, ok := telemetry.ParseProtocol(m.protocol); !ok {
			return c, 0, usagef("--otlp-protocol %q: want grpc or http", m.protocol)
		}
		c.OTLP.Protocol = m.protocol
	}
	if given["otlp-insecure"] {
		c.OTLP.Insecure = m.insecure
	}
	if len(m.headers) > 0 {
		h := map[string]string{}
		for k, v := range c.OTLP.Headers {
			h[k] = v
		}
		for _, kv := range m.headers {
			k, v, ok := strings.Cut(kv, "=")
			if !ok || strings.TrimSpace(k) == "" {
				return c, 0, usagef("--otlp-header %q: want KEY=VALUE", kv)
			}
			h[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
		c.OTLP.Headers = h
	}
	if given["otlp-interval"] {
		if m.interval < 100*time.Millisecond {
			return c, 0, usagef("--otlp-interval %s: want at least 100ms", m.interval)
		}
		c.OTLP.Interval = m.interval
	}
	if given["metrics-listen"] {
		c.PrometheusListen = m.listen
	}
	if given["metrics-linger"] {
		if m.linger < 0 || m.linger > scenarios.MaxTelemetryLinger {
			return c, 0, usagef("--metrics-linger %s: want 0 to %s", m.linger, scenarios.MaxTelemetryLinger)
		}
		linger = m.linger
	}
	return c, linger, nil
}

// metricsExport is a started exporter and how long its endpoint lingers.
type metricsExport struct {
	e      *telemetry.Exporter
	linger time.Duration
}

// start starts the exporter the flags and s ask for, or returns nil when
// they ask for none. runID names the run in the metrics' resource; tune
// says it is a tune sweep (series per setting).
func (m *metricsFlags) start(ctx context.Context, s *scenarios.Scenario, runID string, tune bool) (*metricsExport, error) {
	c, linger, err := m.config(s)
	if err != nil || !c.Enabled() {
		return nil, err
	}
	c.Resource = telemetry.Resource{
		Scenario: s.Name,
		Target:   telemetry.Redact(study.Describe(s.Target)),
		Driver:   s.Target.Driver,
		RunID:    runID,
		Version:  version,
	}
	c.Log = os.Stderr
	c.Tune = tune
	e, err := telemetry.New(ctx, c)
	if err != nil {
		return nil, usageError{err}
	}
	return &metricsExport{e: e, linger: linger}, nil
}

// close pushes the final figures and stops the sinks; a failure is a
// warning, since the run's own record is already on disk.
func (x *metricsExport) close(ctx context.Context) {
	if x == nil {
		return
	}
	if err := x.e.Close(ctx, x.linger); err != nil {
		fmt.Fprintf(os.Stderr, "warning: %v\n", err)
	}
}
