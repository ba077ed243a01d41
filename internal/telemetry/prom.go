package telemetry

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// promSink serves the exporter's figures on GET /metrics, collected at
// each scrape from the latest merged view.
type promSink struct {
	ln  net.Listener
	srv *http.Server
}

func newPromSink(e *Exporter, addr string) (*promSink, error) {
	reg := prometheus.NewRegistry()
	if err := reg.Register(&promCollector{e: e}); err != nil {
		return nil, fmt.Errorf("prometheus: %w", err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--metrics-listen %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorHandling: promhttp.HTTPErrorOnError}))
	s := &promSink{ln: ln, srv: &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}}
	go s.srv.Serve(ln)
	return s, nil
}

// Addr is the address the endpoint listens on (the port chosen for :0).
func (s *promSink) Addr() string { return s.ln.Addr().String() }

// close keeps serving for linger, or until ctx ends, then stops.
func (s *promSink) close(ctx context.Context, linger time.Duration) {
	if linger > 0 {
		t := time.NewTimer(linger)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
		}
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	if err := s.srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		s.srv.Close()
	}
}

// promCollector turns the exporter's series into constant metrics at each
// scrape. Every series carries the run's scenario and run id as labels, so
// that runs scraped by one Prometheus never mix; a tune setting's series
// carry the setting too, and a plain run's have no setting label at all
// (an empty label is noise on every series and every query).
//
// It is an unchecked collector (Describe sends nothing): the same metric
// has two label sets, with and without setting, which a checked
// collector cannot declare. One process exports one kind only, a run or
// a tune, so a scrape never mixes the two within a family.
type promCollector struct{ e *Exporter }

// promDescs are the descriptions of one label set.
type promDescs struct {
	inv, ok, errors, dropped, cold, coldRate, latency, inFlight, target, achieved, memUsed, tuneMem, tunePre, tuneCost *prometheus.Desc
}

func newPromDescs(labels ...string) *promDescs {
	d := func(name, help string, extra ...string) *prometheus.Desc {
		return prometheus.NewDesc(name, help, append(labels[:len(labels):len(labels)], extra...), nil)
	}
	return &promDescs{
		inv:      d(PromInvocations, "Requests sent."),
		ok:       d(PromSuccesses, "Requests that succeeded."),
		errors:   d(PromErrors, "Requests that failed, by class.", "class"),
		dropped:  d(PromDropped, "Arrivals not sent because the in-flight bound was hit."),
		cold:     d(PromColdStarts, "Requests served by a new instance."),
		coldRate: d(PromColdRate, "Cold starts among successful requests of known temperature."),
		latency:  d(PromLatency, "Latency of successful requests from their intended send time, by temperature.", "temperature"),
		inFlight: d(PromInFlight, "Requests in flight."),
		target:   d(PromTargetRate, "The rate the running phase asks for."),
		achieved: d(PromAchievedRate, "Arrivals per second since the previous merge."),
		memUsed:  d(PromMemoryUsed, "Largest memory used the platform reported, in bytes."),
		tuneMem:  d(PromTuneMemory, "The memory size of a tune setting, in bytes."),
		tunePre:  d(PromTunePrewarm, "The prewarm level of a tune setting."),
		tuneCost: d(PromTuneCost, "Projected cost per million requests of a measured tune setting, in US dollars."),
	}
}

var (
	descRunInfo  = prometheus.NewDesc(PromRunInfo, "The run: scenario, target, driver and run id.", []string{"scenario", "run_id", "target", "driver", "version"}, nil)
	plainDescs   = newPromDescs("scenario", "run_id")
	settingDescs = newPromDescs("scenario", "run_id", "setting")
)

// Describe sends nothing: promCollector is unchecked (see its comment).
func (c *promCollector) Describe(chan<- *prometheus.Desc) {}

// Collect sends the current figures of every series.
func (c *promCollector) Collect(ch chan<- prometheus.Metric) {
	r := c.e.res
	ch <- prometheus.MustNewConstMetric(descRunInfo, prometheus.GaugeValue, 1, r.Scenario, r.RunID, r.Target, r.Driver, r.Version)
	for _, v := range c.e.views() {
		ds, lv := plainDescs, []string{r.Scenario, r.RunID}
		if v.setting != nil {
			ds, lv = settingDescs, append(lv, v.name)
		}
		f := v.fig
		counter := func(d *prometheus.Desc, n int64, extra ...string) {
			ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(n), append(lv[:len(lv):len(lv)], extra...)...)
		}
		gauge := func(d *prometheus.Desc, x float64) {
			ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, x, lv...)
		}
		counter(ds.inv, f.invocations)
		counter(ds.ok, f.successes)
		for _, class := range sortedKeys(f.errors) {
			counter(ds.errors, f.errors[class], class)
		}
		counter(ds.dropped, f.dropped)
		counter(ds.cold, f.coldStarts)
		gauge(ds.coldRate, f.coldRate)
		gauge(ds.inFlight, float64(f.inFlight))
		gauge(ds.target, f.targetRate)
		gauge(ds.achieved, f.achievedRate)
		if f.memMaxMB > 0 {
			gauge(ds.memUsed, float64(f.memMaxMB*bytesPerMB))
		}
		if s := v.setting; s != nil {
			gauge(ds.tuneMem, float64(int64(s.MemoryMB)*bytesPerMB))
			gauge(ds.tunePre, float64(s.Prewarm))
			if v.cost != nil {
				gauge(ds.tuneCost, *v.cost)
			}
		}
		for _, temp := range temps {
			h := f.latency[temp]
			// Prometheus buckets are cumulative: le counts every value
			// at or below the bound.
			buckets := make(map[float64]uint64, len(LatencyBounds))
			var acc uint64
			for i, le := range LatencyBounds {
				if i < len(h.counts) {
					acc += h.counts[i]
				}
				buckets[le] = acc
			}
			ch <- prometheus.MustNewConstHistogram(ds.latency, h.count, h.sum, buckets, append(lv[:len(lv):len(lv)], temp.String())...)
		}
	}
}
