package scenarios

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

const telemetryOK = `name: t
target: {driver: fake}
phases: [{name: p, duration: 1s, rate: 1}]
telemetry:
  otlp: {endpoint: "collector:4317", protocol: grpc, insecure: true, headers: {x-team: bench}, interval: 2s}
  prometheus: {listen: "127.0.0.1:9464", linger: 5s}
`

func TestTelemetryBlock(t *testing.T) {
	t.Parallel()
	s, err := Parse("t.yaml", []byte(telemetryOK))
	if err != nil {
		t.Fatal(err)
	}
	o, p := s.Telemetry.OTLP, s.Telemetry.Prometheus
	if o.Endpoint != "collector:4317" || !o.Insecure || o.Headers["x-team"] != "bench" || time.Duration(o.Interval) != 2*time.Second ||
		p.Listen != "127.0.0.1:9464" || time.Duration(p.Linger) != 5*time.Second {
		t.Errorf("decoded %+v %+v", o, p)
	}
}

// TestTelemetryErrors: mistakes in a telemetry: block are reported at
// their file:line:column with the field path.
func TestTelemetryErrors(t *testing.T) {
	t.Parallel()
	with := func(old, new string) string { return strings.Replace(telemetryOK, old, new, 1) }
	tests := []struct {
		name, yaml, pos, field, msg string
	}{
		{"protocol", with("protocol: grpc", "protocol: thrift"), "5:48", "telemetry.otlp.protocol", "want grpc, http or http/protobuf"},
		{"interval", with("interval: 2s", "interval: 1ms"), "5:106", "telemetry.otlp.interval", "at least 100ms"},
		{"listen", with(`listen: "127.0.0.1:9464"`, `listen: "9464"`), "6:24", "telemetry.prometheus.listen", "want host:port"},
		{"linger", with("linger: 5s", "linger: 1h"), "6:50", "telemetry.prometheus.linger", "want 0 to 10m"},
		{"typo", with("prometheus:", "promethus:"), "6:3", "telemetry.promethus", `did you mean "prometheus"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("t.yaml", []byte(tt.yaml))
			var errs Errors
			if !errors.As(err, &errs) {
				t.Fatalf("err = %v, want Errors", err)
			}
			for _, e := range errs {
				if e.Field == tt.field {
					if pos := fmt.Sprintf("%d:%d", e.Line, e.Column); pos != tt.pos || !strings.Contains(e.Msg, tt.msg) {
						t.Errorf("got %s, want %s at %s with %q", e, tt.field, tt.pos, tt.msg)
					}
					return
				}
			}
			t.Errorf("no error on %s; got:\n%v", tt.field, err)
		})
	}
}
