package grpcdriver_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	grpcdriver "github.com/coldbench/coldbench/drivers/grpc"
	"github.com/coldbench/coldbench/internal/runner"
	"github.com/coldbench/coldbench/scenarios"
)

// scenarioYAML runs Echo/Say at %s: a burst of 10, then 20 at 20/s.
const scenarioYAML = `
name: grpc-echo
target:
  driver: grpc
  address: %s
  method: /coldbench.test.v1.Echo/Say
  request: '{"text": "{{.Phase}}", "seq": {{.Seq}}}'
  metadata:
    x-team: bench
  plaintext: true
  timeout: 5s
  connections: 2
  cold_metadata: x-cold-start
  instance_metadata: x-instance-id
max_in_flight: 50
seed: 1
phases:
  - name: burst
    duration: 1s
    burst: {requests: 10}
  - name: steady
    duration: 1s
    rate: 20/s
`

// TestScenario runs a scenario with driver: grpc end to end through the
// runner and checks it against what the server saw.
func TestScenario(t *testing.T) {
	t.Parallel()
	e := startEcho(t, reflectBoth)
	s, err := scenarios.Parse("grpc.yaml", []byte(fmt.Sprintf(scenarioYAML, e.addr)))
	if err != nil {
		t.Fatal(err)
	}
	if cfg, ok := s.Target.Config.(*grpcdriver.Config); !ok || cfg.Connections != 2 || cfg.RequestIDMetadata != "x-request-id" {
		t.Fatalf("target config %#v: want *grpcdriver.Config with connections 2 and the default request id key", s.Target.Config)
	}
	res, err := runner.Run(context.Background(), runner.Config{Scenario: s, Dir: filepath.Join(t.TempDir(), "run")})
	if err != nil {
		t.Fatal(err)
	}
	const want = 30
	tot := res.Run.Totals
	if tot.Requests != want || tot.OK != want || len(tot.Errors) != 0 {
		t.Errorf("run: %d requests, %d ok, errors %v; want %d ok", tot.Requests, tot.OK, tot.Errors, want)
	}
	if got := e.calls.Load(); got != want {
		t.Errorf("server saw %d calls, want %d", got, want)
	}
	seqs, texts, ids := e.seen()
	for i := range int64(want) {
		if seqs[i] != 1 {
			t.Errorf("server saw seq %d %d times, want once", i, seqs[i])
		}
	}
	if texts["burst"] != 10 || texts["steady"] != 20 {
		t.Errorf("server saw phases %v, want burst 10, steady 20", texts)
	}
	if len(ids) != want {
		t.Errorf("server saw %d distinct request ids, want %d", len(ids), want)
	}
	// The server marks its first call cold: one cold start, by header.
	if tot.Cold.Count != 1 || tot.Warm.Count != want-1 {
		t.Errorf("cold %d warm %d, want 1 and %d", tot.Cold.Count, tot.Warm.Count, want-1)
	}
	if !strings.Contains(res.Run.Target, e.addr) {
		t.Errorf("run target %q does not name %s", res.Run.Target, e.addr)
	}
}

// TestScenarioErrors checks that a bad grpc target is reported at its
// field by scenario validation.
func TestScenarioErrors(t *testing.T) {
	t.Parallel()
	const yaml = `
name: bad
target:
  driver: grpc
  address: nowhere
  method: Echo.Say
  timeout: 0s
  connections: 0
  metadata: {"grpc-timeout": "1"}
  tls: {ca_file: /nonexistent/ca.pem}
  plaintext: true
  colds_metadata: x
phases:
  - {name: p, duration: 1s, rate: 1}
`
	_, err := scenarios.Parse("bad.yaml", []byte(yaml))
	if err == nil {
		t.Fatal("Parse succeeded")
	}
	t.Logf("%v", err)
	for _, w := range []string{"target.address", "target.method", "target.timeout", "target.connections",
		"target.metadata.grpc-timeout", "target.tls", "target.colds_metadata"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("errors do not name %s:\n%v", w, err)
		}
	}
}
