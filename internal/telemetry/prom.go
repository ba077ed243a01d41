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
// carry the setting too.
type promCollector struct{ e *Exporter }

var (
	runLabels    = []string{"scenario", "run_id", "setting"}
	descRunInfo  = prometheus.NewDesc(PromRunInfo, "The run: scenario, target, driver and run id.", []string{"scenario", "run_id", "target", "driver", "version"}, nil)
	descInv      = prometheus.NewDesc(PromInvocations, "Requests sent.", runLabels, nil)
	descOK       = prometheus.NewDesc(PromSuccesses, "Requests that succeeded.", runLabels, nil)
	descErrors   = prometheus.NewDesc(PromErrors, "Requests that failed, by class.", append(runLabels, "class"), nil)
	descDropped  = prometheus.NewDesc(PromDropped, "Arrivals not sent because the in-flight bound was hit.", runLabels, nil)
	descCold     = prometheus.NewDesc(PromColdStarts, "Requests served by a new instance.", runLabels, nil)
	descColdRate = prometheus.NewDesc(PromColdRate, "Cold starts among successful requests of known temperature.", runLabels, nil)
	descLatency  = prometheus.NewDesc(PromLatency, "Latency of successful requests from their intended send time, by temperature.", append(runLabels, "temperature"), nil)
	descInFlight = prometheus.NewDesc(PromInFlight, "Requests in flight.", runLabels, nil)
	descTarget   = prometheus.NewDesc(PromTargetRate, "The rate the running phase asks for.", runLabels, nil)
	descAchieved = prometheus.NewDesc(PromAchievedRate, "Arrivals per second since the previous merge.", runLabels, nil)
	descMemUsed  = prometheus.NewDesc(PromMemoryUsed, "Largest memory used the platform reported.", runLabels, nil)
	descTuneMem  = prometheus.NewDesc(PromTuneMemory, "The memory size of a tune setting.", runLabels, nil)
	descTunePre  = prometheus.NewDesc(PromTunePrewarm, "The prewarm level of a tune setting.", runLabels, nil)
	descTuneCost = prometheus.NewDesc(PromTuneCost, "Projected cost per million requests of a measured tune setting.", runLabels, nil)
	allPromDescs = []*prometheus.Desc{descRunInfo, descInv, descOK, descErrors, descDropped, descCold, descColdRate, descLatency, descInFlight, descTarget, descAchieved, descMemUsed, descTuneMem, descTunePre, descTuneCost}
)

// Describe sends every metric's description.
func (c *promCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range allPromDescs {
		ch <- d
	}
}

// Collect sends the current figures of every series.
func (c *promCollector) Collect(ch chan<- prometheus.Metric) {
	r := c.e.res
	ch <- prometheus.MustNewConstMetric(descRunInfo, prometheus.GaugeValue, 1, r.Scenario, r.RunID, r.Target, r.Driver, r.Version)
	for _, v := range c.e.views() {
		lv := []string{r.Scenario, r.RunID, v.name}
		f := v.fig
		counter := func(d *prometheus.Desc, n int64, extra ...string) {
			ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(n), append(lv, extra...)...)
		}
		gauge := func(d *prometheus.Desc, x float64) {
			ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, x, lv...)
		}
		counter(descInv, f.invocations)
		counter(descOK, f.successes)
		for _, class := range sortedKeys(f.errors) {
			counter(descErrors, f.errors[class], class)
		}
		counter(descDropped, f.dropped)
		counter(descCold, f.coldStarts)
		gauge(descColdRate, f.coldRate)
		gauge(descInFlight, float64(f.inFlight))
		gauge(descTarget, f.targetRate)
		gauge(descAchieved, f.achievedRate)
		if f.memMaxMB > 0 {
			gauge(descMemUsed, float64(f.memMaxMB))
		}
		if s := v.setting; s != nil {
			gauge(descTuneMem, float64(s.MemoryMB))
			gauge(descTunePre, float64(s.Prewarm))
			if v.cost != nil {
				gauge(descTuneCost, *v.cost)
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
			ch <- prometheus.MustNewConstHistogram(descLatency, h.count, h.sum, buckets, append(lv, temp.String())...)
		}
	}
}
