package telemetry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetricgrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetrichttp"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/resource"

	"github.com/coldbench/coldbench/drivers"
	"github.com/coldbench/coldbench/results"
)

// OTLP is where and how metrics are pushed. Fields left empty fall back
// to the standard OTEL_EXPORTER_OTLP_* environment variables, which the
// OpenTelemetry exporters read themselves.
type OTLP struct {
	// Endpoint is host:port, or a URL (http://host:4318; the scheme
	// decides TLS, a path other than / replaces /v1/metrics for HTTP).
	Endpoint string
	// Protocol is "grpc" or "http" ("http/protobuf"); empty means
	// OTEL_EXPORTER_OTLP_PROTOCOL, else grpc.
	Protocol string
	// Insecure sends in plaintext.
	Insecure bool
	// Headers are sent with every export (an API key, a tenant).
	Headers map[string]string
	// Interval is how often metrics are pushed (default 5 s); the final
	// figures are always pushed at Close.
	Interval time.Duration
}

// DefaultInterval is how often metrics are pushed by default.
const DefaultInterval = 5 * time.Second

// FinalFlushTimeout bounds the final push at the end of a run: an
// endpoint that does not answer adds at most this much to a run. The
// run's record on disk has everything, so waiting longer buys nothing.
const FinalFlushTimeout = 2 * time.Second

// exportRetry is the exporters' retry policy: a failed push is tried
// again quickly, and given up within the final flush's bound (the SDK's
// default keeps trying for a minute), so that the last error is the
// endpoint's own rather than a bare deadline.
var exportRetry = struct {
	initial, max, elapsed time.Duration
}{200 * time.Millisecond, time.Second, FinalFlushTimeout * 3 / 4}

// Protocols of OTLP.
const (
	ProtocolGRPC = "grpc"
	ProtocolHTTP = "http/protobuf"
)

// ParseProtocol reads a protocol name: grpc, http or http/protobuf.
func ParseProtocol(s string) (string, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "grpc":
		return ProtocolGRPC, true
	case "http", "http/protobuf":
		return ProtocolHTTP, true
	}
	return "", false
}

func (o OTLP) enabled() bool {
	return o.Endpoint != "" || os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || os.Getenv("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT") != ""
}

// protocol is the protocol in force: o's, else the environment's, else
// grpc.
func (o OTLP) protocol() (string, error) {
	p := o.Protocol
	for _, env := range []string{"OTEL_EXPORTER_OTLP_METRICS_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"} {
		if p == "" {
			p = os.Getenv(env)
		}
	}
	if p == "" {
		return ProtocolGRPC, nil
	}
	if q, ok := ParseProtocol(p); ok {
		return q, nil
	}
	return "", fmt.Errorf("OTLP protocol %q: want grpc or http/protobuf", p)
}

// otlpSink pushes the exporter's figures through the OpenTelemetry SDK: a
// periodic reader whose only source is a Producer reading the figures.
type otlpSink struct {
	mp                 *sdkmetric.MeterProvider
	protocol, endpoint string
	interval           time.Duration
	errs               *onceHandler // the periodic pushes' errors
}

func newOTLPSink(ctx context.Context, e *Exporter, o OTLP) (*otlpSink, error) {
	proto, err := o.protocol()
	if err != nil {
		return nil, err
	}
	host, path, insecure := o.Endpoint, "", o.Insecure
	if strings.Contains(o.Endpoint, "://") {
		u, err := url.Parse(o.Endpoint)
		if err != nil || u.Host == "" {
			return nil, fmt.Errorf("OTLP endpoint %q: want host:port or a URL", o.Endpoint)
		}
		host, insecure = u.Host, insecure || u.Scheme == "http"
		if u.Path != "" && u.Path != "/" {
			path = u.Path
		}
	}
	var exp sdkmetric.Exporter
	switch proto {
	case ProtocolGRPC:
		var opts []otlpmetricgrpc.Option
		if host != "" {
			opts = append(opts, otlpmetricgrpc.WithEndpoint(host))
		}
		if insecure {
			opts = append(opts, otlpmetricgrpc.WithInsecure())
		}
		if len(o.Headers) > 0 {
			opts = append(opts, otlpmetricgrpc.WithHeaders(o.Headers))
		}
		opts = append(opts, otlpmetricgrpc.WithRetry(otlpmetricgrpc.RetryConfig{Enabled: true,
			InitialInterval: exportRetry.initial, MaxInterval: exportRetry.max, MaxElapsedTime: exportRetry.elapsed}))
		exp, err = otlpmetricgrpc.New(ctx, opts...)
	default:
		var opts []otlpmetrichttp.Option
		if host != "" {
			opts = append(opts, otlpmetrichttp.WithEndpoint(host))
		}
		if path != "" {
			opts = append(opts, otlpmetrichttp.WithURLPath(path))
		}
		if insecure {
			opts = append(opts, otlpmetrichttp.WithInsecure())
		}
		if len(o.Headers) > 0 {
			opts = append(opts, otlpmetrichttp.WithHeaders(o.Headers))
		}
		opts = append(opts, otlpmetrichttp.WithRetry(otlpmetrichttp.RetryConfig{Enabled: true,
			InitialInterval: exportRetry.initial, MaxInterval: exportRetry.max, MaxElapsedTime: exportRetry.elapsed}))
		exp, err = otlpmetrichttp.New(ctx, opts...)
	}
	if err != nil {
		return nil, fmt.Errorf("OTLP exporter: %w", err)
	}
	interval := o.Interval
	if interval <= 0 {
		interval = DefaultInterval
	}
	reader := sdkmetric.NewPeriodicReader(exp, sdkmetric.WithInterval(interval), sdkmetric.WithProducer(producer{e}))
	res, err := resource.New(ctx, resource.WithAttributes(resourceAttrs(e.res)...))
	if err != nil {
		return nil, fmt.Errorf("OTLP resource: %w", err)
	}
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader), sdkmetric.WithResource(res))
	// A failed push is a warning on the exporter's log: the run goes on,
	// and its record on disk has everything. An endpoint that is down
	// fails every push alike: each message is printed once.
	errs := &onceHandler{log: e.log, seen: map[string]bool{}}
	otel.SetErrorHandler(errs)
	endpoint := host
	if endpoint == "" {
		endpoint = "the endpoint of OTEL_EXPORTER_OTLP_*"
	}
	return &otlpSink{mp: mp, protocol: proto, endpoint: endpoint, interval: interval, errs: errs}, nil
}

// close pushes the final figures and stops the provider, within
// FinalFlushTimeout. The reader's Shutdown collects and exports once
// more itself, so it alone is the final push (a ForceFlush before it
// would send the same figures twice). It runs also when ctx was
// cancelled (Ctrl-C): the final push is the point.
func (s *otlpSink) close(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), FinalFlushTimeout)
	defer cancel()
	err := s.mp.Shutdown(ctx)
	switch {
	case err == nil:
		return nil
	case s.errs.printed(err):
		return fmt.Errorf("to %s failed as the pushes before it", s.endpoint)
	}
	return fmt.Errorf("to %s (within %s): %w", s.endpoint, FinalFlushTimeout, err)
}

// onceHandler prints each distinct OpenTelemetry error once.
type onceHandler struct {
	log  io.Writer
	mu   sync.Mutex
	seen map[string]bool
}

// printed reports whether err's cause was printed already.
func (h *onceHandler) printed(err error) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.seen[cause(err).Error()]
}

// cause is the error at the bottom of err's chain: the exporters wrap the
// endpoint's error in whatever ended the retries (a deadline, the retry
// budget), which differs from push to push while the cause is the same.
func cause(err error) error {
	for {
		switch u := err.(type) {
		case interface{ Unwrap() error }:
			if next := u.Unwrap(); next != nil {
				err = next
				continue
			}
		case interface{ Unwrap() []error }:
			if errs := u.Unwrap(); len(errs) > 0 {
				err = errs[len(errs)-1] // "%w: %w" of the retry: the endpoint's error last
				continue
			}
		}
		return err
	}
}

// Handle prints err unless its cause was printed already, or it is a
// push that the final flush cancelled (it is superseded by the final one).
func (h *onceHandler) Handle(err error) {
	if errors.Is(err, context.Canceled) {
		return
	}
	key := cause(err).Error()
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.seen[key] {
		return
	}
	h.seen[key] = true
	fmt.Fprintf(h.log, "warning: metrics: OTLP: %v (not repeated)\n", err)
}

func resourceAttrs(r Resource) []attribute.KeyValue {
	kv := []attribute.KeyValue{
		attribute.String("service.name", "coldbench"),
		attribute.String("coldbench.scenario", r.Scenario),
		attribute.String("coldbench.target", r.Target),
		attribute.String("coldbench.driver", r.Driver),
		attribute.String("coldbench.run_id", r.RunID),
	}
	if r.Version != "" {
		kv = append(kv, attribute.String("service.version", r.Version))
	}
	return kv
}

// producer hands the SDK the exporter's figures at every collection.
type producer struct{ e *Exporter }

var _ sdkmetric.Producer = producer{}

// Produce builds the metrics of every series: counters as cumulative
// monotonic sums, latency as cumulative explicit-bucket histograms.
func (p producer) Produce(context.Context) ([]metricdata.ScopeMetrics, error) {
	views := p.e.views()
	now := time.Now()
	var ms []metricdata.Metrics
	sum := func(name, unit, desc string, pts []metricdata.DataPoint[int64]) {
		ms = append(ms, metricdata.Metrics{Name: name, Unit: unit, Description: desc,
			Data: metricdata.Sum[int64]{DataPoints: pts, Temporality: metricdata.CumulativeTemporality, IsMonotonic: true}})
	}
	gauge := func(name, unit, desc string, pts []metricdata.DataPoint[float64]) {
		if len(pts) > 0 {
			ms = append(ms, metricdata.Metrics{Name: name, Unit: unit, Description: desc, Data: metricdata.Gauge[float64]{DataPoints: pts}})
		}
	}
	var (
		inv, ok, drop, cold, errs                []metricdata.DataPoint[int64]
		coldRate, inFlight, target, achieved, mm []metricdata.DataPoint[float64]
		tuneMem, tunePre, tuneCost               []metricdata.DataPoint[float64]
		lat                                      []metricdata.HistogramDataPoint[float64]
	)
	for _, v := range views {
		start := v.started
		base := settingAttrs(v.setting)
		ip := func(n int64, extra ...attribute.KeyValue) metricdata.DataPoint[int64] {
			return metricdata.DataPoint[int64]{Attributes: attribute.NewSet(append(extra, base...)...), StartTime: start, Time: now, Value: n}
		}
		fp := func(x float64) metricdata.DataPoint[float64] {
			return metricdata.DataPoint[float64]{Attributes: attribute.NewSet(base...), StartTime: start, Time: now, Value: x}
		}
		f := v.fig
		inv = append(inv, ip(f.invocations))
		ok = append(ok, ip(f.successes))
		drop = append(drop, ip(f.dropped))
		cold = append(cold, ip(f.coldStarts))
		for _, class := range sortedKeys(f.errors) {
			errs = append(errs, ip(f.errors[class], attribute.String("class", class)))
		}
		coldRate = append(coldRate, fp(f.coldRate))
		inFlight = append(inFlight, fp(float64(f.inFlight)))
		target = append(target, fp(f.targetRate))
		achieved = append(achieved, fp(f.achievedRate))
		if f.memMaxMB > 0 {
			mm = append(mm, fp(float64(f.memMaxMB*bytesPerMB)))
		}
		if v.setting != nil {
			tuneMem = append(tuneMem, fp(float64(int64(v.setting.MemoryMB)*bytesPerMB)))
			tunePre = append(tunePre, fp(float64(v.setting.Prewarm)))
			if v.cost != nil {
				tuneCost = append(tuneCost, fp(*v.cost))
			}
		}
		for _, temp := range temps {
			h := f.latency[temp]
			lat = append(lat, metricdata.HistogramDataPoint[float64]{
				Attributes:   attribute.NewSet(append([]attribute.KeyValue{attribute.String("temperature", temp.String())}, base...)...),
				StartTime:    start,
				Time:         now,
				Count:        h.count,
				Bounds:       LatencyBounds,
				BucketCounts: h.counts,
				Sum:          h.sum,
			})
		}
	}
	if len(views) == 0 {
		return nil, nil
	}
	sum(NameInvocations, "{invocation}", "Requests sent.", inv)
	sum(NameSuccesses, "{invocation}", "Requests that succeeded.", ok)
	if len(errs) > 0 {
		sum(NameErrors, "{invocation}", "Requests that failed, by class.", errs)
	}
	sum(NameDropped, "{arrival}", "Arrivals not sent because the in-flight bound was hit.", drop)
	sum(NameColdStarts, "{invocation}", "Requests served by a new instance.", cold)
	ms = append(ms, metricdata.Metrics{Name: NameLatency, Unit: "s",
		Description: "Latency of successful requests from their intended send time, by temperature.",
		Data:        metricdata.Histogram[float64]{DataPoints: lat, Temporality: metricdata.CumulativeTemporality}})
	gauge(NameColdRate, "1", "Cold starts among successful requests of known temperature.", coldRate)
	gauge(NameInFlight, "{request}", "Requests in flight.", inFlight)
	gauge(NameTargetRate, "{request}/s", "The rate the running phase asks for.", target)
	gauge(NameAchievedRate, "{request}/s", "Arrivals per second since the previous merge.", achieved)
	gauge(NameMemoryUsed, "By", "Largest memory used the platform reported.", mm)
	gauge(NameTuneMemory, "By", "The memory size of the setting being tuned.", tuneMem)
	gauge(NameTunePrewarm, "{instance}", "The prewarm level of the setting being tuned.", tunePre)
	gauge(NameTuneCost, "USD", "Projected cost per million requests of a measured setting.", tuneCost)
	return []metricdata.ScopeMetrics{{Scope: instrumentation.Scope{Name: "github.com/coldbench/coldbench", Version: p.e.res.Version}, Metrics: ms}}, nil
}

// settingAttrs are the attributes of a tune setting's series.
func settingAttrs(s *drivers.Settings) []attribute.KeyValue {
	if s == nil {
		return nil
	}
	return []attribute.KeyValue{
		attribute.String("setting", results.SettingName(s.MemoryMB, s.Prewarm)),
		attribute.Int("memory_mb", s.MemoryMB),
		attribute.Int("prewarm", s.Prewarm),
	}
}
