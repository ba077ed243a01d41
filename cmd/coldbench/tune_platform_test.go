package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/coldbench/coldbench/drivers/cloudrun/cloudrunfake"
	"github.com/coldbench/coldbench/drivers/knative/knativefake"
	"github.com/coldbench/coldbench/drivers/lambda/lambdafake"
	"github.com/coldbench/coldbench/drivers/openfaas/openfaasfake"
	"github.com/coldbench/coldbench/results"
)

// tuneSweep runs `coldbench tune` on scenario file p (a 2 × 2 sweep) and
// checks that it completed, restored the original setting and recommended
// one of its four settings.
func tuneSweep(t *testing.T, p string) *results.Tune {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "tune")
	out, code := coldbench(t, "tune", p, "--out", dir)
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	rec, err := results.LoadTune(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !rec.Complete || !rec.Restored || len(rec.Settings) != 4 || rec.Recommendation == nil {
		t.Fatalf("complete=%v restored=%v settings=%d recommendation=%v\n%s", rec.Complete, rec.Restored, len(rec.Settings), rec.Recommendation, out)
	}
	return rec
}

// TestTuneLambdaFake runs a 2 × 2 `coldbench tune` through the binary
// against the Lambda fake, which speaks the real REST protocol and checks
// every SigV4 signature: memory through UpdateFunctionConfiguration,
// prewarm through provisioned concurrency on the coldbench alias, cold
// starts forced by an environment change. Afterwards the function is as it
// was: memory, environment, no alias, no provisioned concurrency.
// Not parallel: it sets the environment the child inherits (credentials).
func TestTuneLambdaFake(t *testing.T) {
	fake := lambdafake.New(t, lambdafake.Options{UpdateDelay: 10 * time.Millisecond})
	fake.AddFunction("checkout", lambdafake.FunctionOptions{
		MemoryMB: 512, Env: map[string]string{"STAGE": "prod"},
		Init: 60 * time.Millisecond, Handler: 5 * time.Millisecond, KeepAlive: 5 * time.Second,
	})
	for _, kv := range fake.Env() {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	before, _ := fake.Function("checkout")

	p := writeScenario(t, fmt.Sprintf(`
name: lambda-tune
target: {driver: lambda, function: checkout, endpoint: %q, timeout: 10s, ready_timeout: 30s}
phases:
  - {name: burst, duration: 300ms, burst: {requests: 3}}
  - {name: steady, duration: 500ms, rate: 10}
tune:
  memory: [512, 1024]
  prewarm: [0, 1]
  samples: {cold: 2, warm: 4}
  strategy: cost
  traffic: {requests_per_month: 1000000}
`, fake.URL))
	rec := tuneSweep(t, p)
	for _, s := range rec.Settings {
		if s.Cold.Count < 2 || s.Warm.Count < 4 {
			t.Errorf("%s: %d cold, %d warm samples", s.Name, s.Cold.Count, s.Warm.Count)
		}
	}
	after, _ := fake.Function("checkout")
	if after.MemoryMB != before.MemoryMB || after.Env["STAGE"] != "prod" || len(after.Env) != len(before.Env) ||
		len(after.Aliases) != len(before.Aliases) || len(after.Provisioned) != len(before.Provisioned) {
		t.Errorf("function not restored:\nbefore %+v\nafter  %+v", before, after)
	}
}

// TestTuneOpenFaaSFake runs a 2 × 2 `coldbench tune` through the binary
// against the fake OpenFaaS gateway (its REST paths, basic auth and JSON
// shapes): memory through the function's limits, prewarm through
// com.openfaas.scale.min, cold starts by scaling to zero. Afterwards the
// function's limits and labels are as they were.
func TestTuneOpenFaaSFake(t *testing.T) {
	t.Parallel()
	g := openfaasfake.New(openfaasfake.Options{Username: "admin", Password: "s3cret", ColdStart: 50 * time.Millisecond})
	t.Cleanup(g.Close)
	labels := map[string]string{"team": "bench"}
	g.Deploy(openfaasfake.FunctionDeployment{
		Service: "echo", Image: "ghcr.io/openfaas/alpine:latest", Labels: &labels,
		Limits: &openfaasfake.FunctionResources{Memory: "256Mi"},
	}, 1)
	before, _ := g.Status("echo")

	p := writeScenario(t, fmt.Sprintf(`
name: openfaas-tune
target: {driver: openfaas, gateway: %q, function: echo, username: admin, password: s3cret, timeout: 10s, ready_timeout: 30s, poll_interval: 50ms}
phases:
  - {name: burst, duration: 300ms, burst: {requests: 3}}
  - {name: steady, duration: 500ms, rate: 10}
tune:
  memory: [256, 512]
  prewarm: [0, 1]
  samples: {cold: 2, warm: 4}
  strategy: cost
  pricing: {table: aws-lambda-x86_64}
  traffic: {requests_per_month: 1000000}
`, g.URL))
	tuneSweep(t, p)
	after, _ := g.Status("echo")
	if after.Limits == nil || before.Limits == nil || after.Limits.Memory != before.Limits.Memory ||
		after.Labels == nil || (*after.Labels)["team"] != "bench" || (*after.Labels)["com.openfaas.scale.min"] != "" {
		t.Errorf("function not restored:\nbefore %+v\nafter  %+v", before, after)
	}
}

// TestTuneCloudRunFake runs a 2 × 2 `coldbench tune` through the binary
// against the fake Cloud Run Admin API v2 (service PATCHes with update
// masks, long-running operations, identity tokens minted by the real Google
// auth library from a service-account key the fake issued): memory and
// minInstanceCount on the template, cold starts by a new revision. The
// template is back as it was afterwards.
func TestTuneCloudRunFake(t *testing.T) {
	t.Parallel()
	f := cloudrunfake.New(cloudrunfake.Options{ColdStart: 50 * time.Millisecond})
	t.Cleanup(f.Close)
	f.CreateService(cloudrunfake.Service{Name: "hello", Image: "us-docker.pkg.dev/cloudrun/container/hello"})
	creds, err := f.WriteCredentials(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	before := fmt.Sprint(f.Template("hello")["containers"], f.Template("hello")["scaling"])
	if !strings.Contains(before, "memory") {
		t.Fatalf("the fake's template has no memory limit to restore: %s", before)
	}

	p := writeScenario(t, fmt.Sprintf(`
name: cloudrun-tune
target: {driver: cloudrun, project: bench-project, region: us-central1, service: hello, endpoint: %q, credentials_file: %q, timeout: 10s, ready_timeout: 30s, poll_interval: 20ms}
phases:
  - {name: burst, duration: 300ms, burst: {requests: 3}}
  - {name: steady, duration: 500ms, rate: 10}
tune:
  memory: [512, 1024]
  prewarm: [0, 1]
  samples: {cold: 2, warm: 4}
  strategy: cost
  pricing: {table: cloud-run}
  traffic: {requests_per_month: 1000000}
`, f.URL, creds))
	tuneSweep(t, p)
	if after := fmt.Sprint(f.Template("hello")["containers"], f.Template("hello")["scaling"]); after != before {
		t.Errorf("service template not restored:\nbefore %s\nafter  %s", before, after)
	}
}

// TestTuneKnativeFake runs a 2 × 2 `coldbench tune` through the binary
// against a fake Kubernetes API serving Knative Services and Revisions,
// reached with a kubeconfig as a user's cluster would be: memory through
// container resources, prewarm through the min-scale annotation, cold
// starts by a new revision or scale to zero. The Service's template is back
// as it was afterwards.
func TestTuneKnativeFake(t *testing.T) {
	t.Parallel()
	c := knativefake.New(knativefake.Options{ColdStart: 50 * time.Millisecond, IdleAfter: 200 * time.Millisecond})
	t.Cleanup(c.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.CreateService(ctx, knativefake.Service{Name: "hello", Image: "ghcr.io/knative/helloworld-go:latest", Memory: "128Mi", AtZero: true}); err != nil {
		t.Fatal(err)
	}
	kubeconfig, err := c.WriteKubeconfig(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	template := func() string {
		u, err := c.Get("services", "default", "hello")
		if err != nil {
			t.Fatal(err)
		}
		tpl, _, _ := unstructured.NestedMap(u.Object, "spec", "template")
		return fmt.Sprint(tpl)
	}
	before := template()

	p := writeScenario(t, fmt.Sprintf(`
name: knative-tune
target: {driver: knative, service: hello, kubeconfig: %q, timeout: 10s, ready_timeout: 30s, poll_interval: 20ms}
phases:
  - {name: burst, duration: 300ms, burst: {requests: 3}}
  - {name: steady, duration: 500ms, rate: 10}
tune:
  memory: [128, 256]
  prewarm: [0, 1]
  samples: {cold: 2, warm: 4}
  strategy: cost
  pricing: {table: cloud-run}
  traffic: {requests_per_month: 1000000}
`, kubeconfig))
	tuneSweep(t, p)
	if after := template(); !strings.Contains(after, "128Mi") || strings.Contains(after, "min-scale:1") {
		t.Errorf("service template not restored:\nbefore %s\nafter  %s", before, after)
	}
}
