package lambda_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coldbench/coldbench/drivers"
	"github.com/coldbench/coldbench/drivers/lambda"
	"github.com/coldbench/coldbench/drivers/lambda/lambdafake"
	"github.com/coldbench/coldbench/internal/runner"
	"github.com/coldbench/coldbench/results"
	"github.com/coldbench/coldbench/scenarios"
)

// TestRunEndToEnd runs a scenario file against the fake the way
// `coldbench run` does (scenarios.Parse, then runner.Run opening the
// target by name), with credentials and region found by the SDK's default
// chain in the environment, and checks the cold and warm counts against
// the fake's ground truth. Not parallel: it sets the environment.
func TestRunEndToEnd(t *testing.T) {
	s := lambdafake.New(t, lambdafake.Options{})
	s.AddFunction("checkout", lambdafake.FunctionOptions{
		MemoryMB: 512, Init: 80 * time.Millisecond, Handler: 5 * time.Millisecond, KeepAlive: 800 * time.Millisecond,
		LogBytes: 6000, // every tail is cut at 4 KB
	})
	for _, kv := range s.Env() {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	yaml := fmt.Sprintf(`name: lambda-e2e
target:
  driver: lambda
  function: checkout
  endpoint: %s
  payload: '{"seq": {{.Seq}}, "id": "{{.ID}}"}'
  timeout: 10s
  ready_timeout: 30s
max_in_flight: 100
seed: 3
phases:
  - {name: cold-burst, duration: 500ms, burst: {requests: 8}}
  - {name: warm, duration: 1500ms, rate: 20/s}
  - {name: expire, duration: 1500ms, idle: true}
  - {name: cold-again, duration: 500ms, burst: {requests: 8}}
`, s.URL)
	sc, err := scenarios.Parse("lambda-e2e.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	if c, ok := sc.Target.Config.(*lambda.Config); !ok || c.Timeout != 10*time.Second || c.ReadyTimeout != 30*time.Second {
		t.Fatalf("target config %#v", sc.Target.Config)
	}
	var mu sync.Mutex
	bySource := map[drivers.ColdSource]int{}
	observe := func(c *drivers.Call, smp results.Sample) {
		mu.Lock()
		bySource[smp.Source]++
		mu.Unlock()
	}
	res, err := runner.Run(context.Background(), runner.Config{Scenario: sc, Dir: filepath.Join(t.TempDir(), "run"), Observer: observe})
	if err != nil {
		t.Fatal(err)
	}

	var cold, warm int64
	for _, inv := range s.Truth() {
		switch {
		case inv.Throttled || inv.FuncError:
			t.Errorf("unexpected %+v", inv)
		case inv.Cold:
			cold++
		default:
			warm++
		}
	}
	tot := res.Run.Totals
	t.Logf("truth: %d cold, %d warm; run: %d cold, %d warm, errors %v", cold, warm, tot.Cold.Count, tot.Warm.Count, tot.Errors)
	if cold < 16 || warm == 0 {
		t.Errorf("truth has %d cold and %d warm: the scenario should give at least 16 cold and some warm", cold, warm)
	}
	if tot.Cold.Count != cold || tot.Warm.Count != warm || tot.OK != cold+warm || len(tot.Errors) != 0 {
		t.Errorf("run: %d cold, %d warm, %d ok, errors %v; truth: %d cold, %d warm", tot.Cold.Count, tot.Warm.Count, tot.OK, tot.Errors, cold, warm)
	}
	if bySource[drivers.SourcePlatform] != int(cold+warm) {
		t.Errorf("sources %v: every request should be decided by the platform's REPORT", bySource)
	}
	if !strings.HasPrefix(res.Run.Target, "lambda checkout") {
		t.Errorf("run target %q", res.Run.Target)
	}
}
