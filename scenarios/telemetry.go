package scenarios

import (
	"net"
	"strings"
	"time"
)

// Telemetry is where a run's metrics go while it runs, as the scenario's
// telemetry: block says; flags of run and tune override it field by field.
// Secrets belong in OTEL_EXPORTER_OTLP_HEADERS, not in a scenario file.
type Telemetry struct {
	OTLP       *TelemetryOTLP       `yaml:"otlp"`
	Prometheus *TelemetryPrometheus `yaml:"prometheus"`
}

// TelemetryOTLP is an OTLP endpoint to push metrics to.
type TelemetryOTLP struct {
	Endpoint string            `yaml:"endpoint"` // host:port or URL; empty means OTEL_EXPORTER_OTLP_ENDPOINT
	Protocol string            `yaml:"protocol"` // grpc (default), http or http/protobuf
	Insecure bool              `yaml:"insecure"`
	Headers  map[string]string `yaml:"headers"`
	Interval Duration          `yaml:"interval"` // default 5s
}

// TelemetryPrometheus is a Prometheus scrape endpoint.
type TelemetryPrometheus struct {
	Listen string   `yaml:"listen"` // host:port
	Linger Duration `yaml:"linger"` // how long the endpoint stays up after the run
}

// MaxTelemetryLinger caps how long a run's metrics endpoint outlives it.
const MaxTelemetryLinger = 10 * time.Minute

// telemetry checks a telemetry: block.
func (v *validator) telemetry(t *Telemetry) {
	if o := t.OTLP; o != nil {
		switch strings.ToLower(o.Protocol) {
		case "", "grpc", "http", "http/protobuf":
		default:
			v.add("telemetry.otlp.protocol", "%q: want grpc, http or http/protobuf", o.Protocol)
		}
		if o.Interval < 0 || (o.Interval > 0 && time.Duration(o.Interval) < 100*time.Millisecond) {
			v.add("telemetry.otlp.interval", "%s: want at least 100ms", o.Interval)
		}
		for k := range o.Headers {
			if strings.TrimSpace(k) == "" || strings.ContainsAny(k, " :\r\n") {
				v.add("telemetry.otlp.headers", "%q is not a header name", k)
			}
		}
	}
	if p := t.Prometheus; p != nil {
		if _, _, err := net.SplitHostPort(p.Listen); err != nil {
			v.add("telemetry.prometheus.listen", "%q: want host:port, such as 127.0.0.1:9464 or :9464", p.Listen)
		}
		if p.Linger < 0 || time.Duration(p.Linger) > MaxTelemetryLinger {
			v.add("telemetry.prometheus.linger", "%s: want 0 to %s", p.Linger, MaxTelemetryLinger)
		}
	}
}
