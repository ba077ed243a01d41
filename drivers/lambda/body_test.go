package lambda_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coldbench/coldbench/drivers"
	"github.com/coldbench/coldbench/drivers/lambda/lambdafake"
	"github.com/coldbench/coldbench/internal/runner"
	"github.com/coldbench/coldbench/results"
	"github.com/coldbench/coldbench/scenarios"
)

// TestColdBodyMarkers runs a scenario whose cold.body names the fields in
// which the function reports its cold start and instance, against a fake
// that returns no log tail (as Lambda emulators do): every request is
// classified from the Invoke payload, source body, 100% as the fake's
// truth says. Not parallel: it sets the environment.
func TestColdBodyMarkers(t *testing.T) {
	s := lambdafake.New(t, lambdafake.Options{})
	var mu sync.Mutex
	truth := map[string]bool{} // the payload's id → cold
	s.AddFunction("bench", lambdafake.FunctionOptions{
		Init: 60 * time.Millisecond, Handler: 2 * time.Millisecond, KeepAlive: 700 * time.Millisecond, NoTail: true,
		HandleInvocation: func(inv lambdafake.Invocation, payload []byte) ([]byte, error) {
			var in struct{ ID string }
			if err := json.Unmarshal(payload, &in); err != nil {
				return nil, err
			}
			mu.Lock()
			truth[in.ID] = inv.Cold
			mu.Unlock()
			return json.Marshal(map[string]any{"statusCode": 200, "cold": inv.Cold, "instance": inv.Instance})
		},
	})
	for _, kv := range s.Env() {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	yaml := fmt.Sprintf(`name: lambda-body
target:
  driver: lambda
  function: bench
  endpoint: %s
  payload: '{"id": "{{.ID}}"}'
  timeout: 10s
cold:
  body: {cold: cold, instance: instance}
max_in_flight: 50
phases:
  - {name: cold-burst, duration: 400ms, burst: {requests: 6}}
  - {name: warm, duration: 1s, rate: 20/s}
  - {name: expire, duration: 1200ms, idle: true}
  - {name: cold-again, duration: 400ms, burst: {requests: 4}}
`, s.URL)
	sc, err := scenarios.Parse("lambda-body.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]drivers.Temperature{}
	sources := map[drivers.ColdSource]int{}
	observe := func(c *drivers.Call, smp results.Sample) {
		mu.Lock()
		got[c.ID] = smp.Temp
		sources[smp.Source]++
		mu.Unlock()
	}
	res, err := runner.Run(context.Background(), runner.Config{Scenario: sc, Dir: filepath.Join(t.TempDir(), "run"), Observer: observe})
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(truth) != 6+20+4 || len(got) != len(truth) {
		t.Fatalf("function ran %d times, coldbench recorded %d; want 30", len(truth), len(got))
	}
	cold := 0
	for id, c := range truth {
		want := map[bool]drivers.Temperature{true: drivers.Cold, false: drivers.Warm}[c]
		if got[id] != want {
			t.Errorf("request %s: %v, truth %v", id, got[id], want)
		}
		if c {
			cold++
		}
	}
	if cold < 10 {
		t.Errorf("%d cold in truth, want at least the 6 + 4 of the bursts", cold)
	}
	if sources[drivers.SourceBody] != len(truth) || res.Run.ColdDetection.Body != int64(len(truth)) {
		t.Errorf("sources %v, run.json %+v: want all %d from the body", sources, res.Run.ColdDetection, len(truth))
	}
}
