package openfaas_test

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coldbench/coldbench/drivers"
	"github.com/coldbench/coldbench/drivers/drivertest"
	"github.com/coldbench/coldbench/drivers/openfaas"
	"github.com/coldbench/coldbench/drivers/openfaas/openfaasfake"
	"github.com/coldbench/coldbench/internal/runner"
	"github.com/coldbench/coldbench/results"
	"github.com/coldbench/coldbench/scenarios"
)

const (
	fn       = "fn-echo"
	user     = "admin"
	password = "s3cret"
)

// newGateway starts a fake gateway with fn-echo deployed at 128Mi with the
// given replicas, and everything else a real function would carry, so that
// tests can check an update keeps it.
func newGateway(t *testing.T, opts openfaasfake.Options, replicas int) *openfaasfake.Gateway {
	t.Helper()
	if opts.Username == "" {
		opts.Username, opts.Password = user, password
	}
	if opts.ColdStart == 0 {
		opts.ColdStart = 50 * time.Millisecond
	}
	g := openfaasfake.New(opts)
	t.Cleanup(g.Close)
	labels := map[string]string{"faas_function": fn, "team": "bench"}
	annotations := map[string]string{"prometheus.io.scrape": "false"}
	g.Deploy(openfaasfake.FunctionDeployment{
		Service:     fn,
		Image:       "ghcr.io/openfaas/alpine:latest",
		EnvProcess:  "cat",
		EnvVars:     map[string]string{"write_debug": "true"},
		Secrets:     []string{"api-key"},
		Labels:      &labels,
		Annotations: &annotations,
		Limits:      &openfaasfake.FunctionResources{Memory: "128Mi", CPU: "500m"},
	}, replicas)
	return g
}

func config(g *openfaasfake.Gateway) *openfaas.Config {
	c := openfaas.DefaultConfig()
	c.Gateway, c.Function = g.URL, fn
	c.Username, c.Password = user, password
	c.PollInterval = 20 * time.Millisecond
	c.ReadyTimeout = 10 * time.Second
	c.Timeout = 10 * time.Second
	return c
}

func open(t *testing.T, c *openfaas.Config) *openfaas.Driver {
	t.Helper()
	d, err := openfaas.Open(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func TestConformance(t *testing.T) {
	drivertest.RunConformanceTests(t, drivertest.HarnessFunc(func(t *testing.T) drivers.Driver {
		g := newGateway(t, openfaasfake.Options{}, 0) // at zero: the first request is cold
		d, err := openfaas.Open(context.Background(), config(g))
		if err != nil {
			t.Fatal(err)
		}
		return d
	}))
}

func invoke(t *testing.T, d drivers.Driver, id string) *drivers.Call {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c := &drivers.Call{ID: id}
	if err := d.Invoke(ctx, c); err != nil || c.Status != http.StatusOK {
		t.Fatalf("Invoke %s: status %d, %v", id, c.Status, err)
	}
	return c
}

// TestScenario runs a scenario through the runner against the fake: a cold
// burst on a function at zero, an idle gap, warm traffic. Every request
// must reach the gateway and be classified as the gateway's ground truth
// says, by the platform signal.
func TestScenario(t *testing.T) {
	g := newGateway(t, openfaasfake.Options{ColdStart: 200 * time.Millisecond}, 0)
	src := fmt.Sprintf(`
name: openfaas-e2e
target:
  driver: openfaas
  gateway: %s
  function: %s
  username: %s
  password: %s
  poll_interval: 20ms
  timeout: 5s
  body: '{"seq": {{.Seq}}}'
phases:
  - name: cold-burst
    duration: 700ms
    burst: {requests: 8, within: 50ms}
  - name: warm
    duration: 1s
    rate: 20/s
`, g.URL, fn, user, password)
	s, err := scenarios.Parse("openfaas.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	var colds, warms int
	observe := func(c *drivers.Call, smp results.Sample) {
		truth, ok := g.TruthByID(c.ID)
		if !ok {
			t.Errorf("request %s never reached the gateway", c.ID)
			return
		}
		if smp.Source != drivers.SourcePlatform || (smp.Temp == drivers.Cold) != truth.Cold {
			t.Errorf("request %s (%s): %s from %s, truth cold=%v", c.ID, c.Phase, smp.Temp, smp.Source, truth.Cold)
		}
		if smp.Temp == drivers.Cold {
			colds++
		} else {
			warms++
		}
	}
	res, err := runner.Run(context.Background(), runner.Config{Scenario: s, Dir: filepath.Join(t.TempDir(), "run"), Observer: observe})
	if err != nil {
		t.Fatal(err)
	}
	if colds != 8 || warms < 10 {
		t.Errorf("%d cold, %d warm: want the 8 of the burst cold and the rest warm", colds, warms)
	}
	if got := g.Invocations(fn); int64(got) != res.Run.Totals.OK || got != colds+warms {
		t.Errorf("gateway saw %d invocations, run.json says %d ok", got, res.Run.Totals.OK)
	}
}

// TestConfigureForceColdRestore walks the capabilities a tuning run uses
// and checks each against the fake's state.
func TestConfigureForceColdRestore(t *testing.T) {
	g := newGateway(t, openfaasfake.Options{}, 1)
	c := config(g)
	c.SetColdHeaders(nil, "X-Fake-Replica")
	d := open(t, c)
	ctx := context.Background()

	if err := d.Configure(ctx, drivers.Settings{MemoryMB: 256, Prewarm: 2}); err != nil {
		t.Fatal(err)
	}
	desc, err := d.Describe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := (drivers.Settings{MemoryMB: 256, Prewarm: 2}); desc.Settings != want || desc.Instances != 2 || !desc.Ready {
		t.Errorf("Describe = %+v, want %+v with 2 instances, ready", desc, want)
	}
	st, _ := g.Status(fn)
	if st.Limits.Memory != "256Mi" || st.Requests == nil || st.Requests.Memory != "256Mi" || st.Limits.CPU != "500m" {
		t.Errorf("limits %+v requests %+v, want 256Mi both, CPU kept", st.Limits, st.Requests)
	}
	if (*st.Labels)[openfaas.LabelMinScale] != "2" || (*st.Labels)["team"] != "bench" || (*st.Annotations)["prometheus.io.scrape"] != "false" ||
		st.Image != "ghcr.io/openfaas/alpine:latest" || st.EnvProcess != "cat" || st.EnvVars["write_debug"] != "true" || len(st.Secrets) != 1 {
		t.Errorf("update lost part of the function: %+v", st)
	}

	// ForceCold with no prewarm: the next request waits for a new replica.
	if err := d.Configure(ctx, drivers.Settings{MemoryMB: 256}); err != nil {
		t.Fatal(err)
	}
	before := invoke(t, d, "before")
	if before.Temp != drivers.Warm {
		t.Errorf("request on a running function: %s, want warm", before.Temp)
	}
	if err := d.ForceCold(ctx); err != nil {
		t.Fatal(err)
	}
	if st, _ := g.Status(fn); st.AvailableReplicas != 0 {
		t.Errorf("after ForceCold: %d available replicas, want 0", st.AvailableReplicas)
	}
	after := invoke(t, d, "after")
	truth, _ := g.TruthByID("after")
	if after.Temp != drivers.Cold || after.Source != drivers.SourcePlatform || !truth.Cold {
		t.Errorf("first request after ForceCold: %s from %s (truth cold=%v), want cold from platform", after.Temp, after.Source, truth.Cold)
	}
	if after.InstanceID == "" || after.InstanceID == before.InstanceID {
		t.Errorf("replica after ForceCold %q, before %q: want a new one", after.InstanceID, before.InstanceID)
	}
	if again := invoke(t, d, "again"); again.Temp != drivers.Warm || again.InstanceID != after.InstanceID {
		t.Errorf("second request after ForceCold: %s on %q, want warm on %q", again.Temp, again.InstanceID, after.InstanceID)
	}

	if err := d.Restore(ctx); err != nil {
		t.Fatal(err)
	}
	checkOriginal(t, g)
	if err := d.Restore(ctx); err != nil {
		t.Errorf("second Restore: %v", err)
	}
}

// checkOriginal checks the function is as newGateway deployed it, with one
// replica.
func checkOriginal(t *testing.T, g *openfaasfake.Gateway) {
	t.Helper()
	st, _ := g.Status(fn)
	_, hasMin := (*st.Labels)[openfaas.LabelMinScale]
	if st.Limits == nil || st.Limits.Memory != "128Mi" || st.Requests != nil || hasMin || st.Replicas != 1 || st.AvailableReplicas != 1 {
		t.Errorf("after Restore: limits %+v requests %+v labels %v, %d/%d replicas; want 128Mi, no requests, no min scale, 1/1",
			st.Limits, st.Requests, *st.Labels, st.AvailableReplicas, st.Replicas)
	}
}

// TestRestoreAfterFailure injects API failures midway through a tuning
// sequence and during Restore itself; the original settings come back.
func TestRestoreAfterFailure(t *testing.T) {
	g := newGateway(t, openfaasfake.Options{}, 1)
	d := open(t, config(g))
	ctx := context.Background()
	if err := d.Configure(ctx, drivers.Settings{MemoryMB: 512, Prewarm: 2}); err != nil {
		t.Fatal(err)
	}
	g.FailNext(http.MethodPut, "/system/functions", http.StatusInternalServerError, "error updating deployment")
	err := d.Configure(ctx, drivers.Settings{MemoryMB: 1024, Prewarm: 1})
	want := "openfaas fn-echo: PUT /system/functions: 500 internal server error: error updating deployment"
	if err == nil || err.Error() != want {
		t.Fatalf("Configure with a failing update: %v, want %q", err, want)
	}
	if err := d.ForceCold(ctx); err != nil {
		t.Fatal(err)
	}
	g.FailNext(http.MethodPost, "/system/scale-function/"+fn, http.StatusTooManyRequests, "slow down")
	if err := d.Restore(ctx); err == nil || !strings.Contains(err.Error(), "POST /system/scale-function/fn-echo: 429 too many requests") {
		t.Fatalf("Restore with a failing scale: %v", err)
	}
	if err := d.Restore(ctx); err != nil {
		t.Fatalf("Restore again: %v", err)
	}
	checkOriginal(t, g)
}

// TestErrors checks that platform errors reach the user as one line naming
// the function and the API call.
func TestErrors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tests := []struct {
		name string
		run  func(t *testing.T) error
		want string
	}{
		// Wrong credentials: Open fails on its status call.
		{"unauthorized", func(t *testing.T) error {
			g := newGateway(t, openfaasfake.Options{}, 1)
			c := config(g)
			c.Password = "wrong"
			_, err := openfaas.Open(ctx, c)
			return err
		}, "openfaas fn-echo: GET /system/function/fn-echo: 401 unauthorized: Unauthorized"},
		// No such function.
		{"not found", func(t *testing.T) error {
			g := newGateway(t, openfaasfake.Options{}, 1)
			c := config(g)
			c.Function = "nope"
			_, err := openfaas.Open(ctx, c)
			return err
		}, "openfaas nope: GET /system/function/nope: 404 not found: Not Found"},
		// OpenFaaS CE cannot scale to zero.
		{"CE scale to zero", func(t *testing.T) error {
			g := newGateway(t, openfaasfake.Options{CE: true}, 1)
			return open(t, config(g)).ForceCold(ctx)
		}, "openfaas fn-echo: POST /system/scale-function/fn-echo: 400 bad request: replicas cannot be set to 0 in OpenFaaS CE"},
		// An update in conflict.
		{"conflict", func(t *testing.T) error {
			g := newGateway(t, openfaasfake.Options{}, 1)
			d := open(t, config(g))
			g.FailNext(http.MethodPut, "/system/functions", http.StatusConflict, "the object has been modified")
			return d.Configure(ctx, drivers.Settings{MemoryMB: 256})
		}, "openfaas fn-echo: PUT /system/functions: 409 conflict: the object has been modified"},
		// Replicas that never become available.
		{"ready timeout", func(t *testing.T) error {
			g := newGateway(t, openfaasfake.Options{ColdStart: time.Hour}, 1)
			c := config(g)
			c.ReadyTimeout = 200 * time.Millisecond
			return open(t, c).Configure(ctx, drivers.Settings{MemoryMB: 256, Prewarm: 2})
		}, "openfaas fn-echo: waiting for 2 available replicas: not done after"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.run(t)
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q, want one line starting %q", err, tt.want)
			}
		})
	}
}

// TestInvokeOnly checks a driver without credentials: it invokes (with a
// namespace) and leaves the temperature to the engine.
func TestInvokeOnly(t *testing.T) {
	t.Parallel()
	g := openfaasfake.New(openfaasfake.Options{Username: user, Password: password})
	defer g.Close()
	g.Deploy(openfaasfake.FunctionDeployment{Service: fn, Image: "img", Namespace: "team-a"}, 1)
	c := openfaas.DefaultConfig()
	c.Gateway, c.Function, c.Namespace = g.URL, fn, "team-a"
	d := open(t, c)
	call := invoke(t, d, "anon")
	if call.Temp != drivers.Unknown || call.Source != drivers.SourceNone {
		t.Errorf("without credentials: %s from %s, want unknown", call.Temp, call.Source)
	}
	if truth, ok := g.TruthByID("anon"); !ok || truth.Function != fn+".team-a" {
		t.Errorf("truth %+v, want an invocation of %s.team-a", truth, fn)
	}
	if err := d.Configure(context.Background(), drivers.Settings{MemoryMB: 256}); err == nil || !strings.Contains(err.Error(), "401 unauthorized") {
		t.Errorf("Configure without credentials: %v, want 401", err)
	}
}

// TestValidate checks that settings errors name their field.
func TestValidate(t *testing.T) {
	t.Parallel()
	c := openfaas.DefaultConfig()
	c.Gateway, c.Function, c.Password, c.PasswordFile, c.Timeout = "ftp://x", "a/b", "p", "/nonexistent", 0
	err := c.Validate()
	for _, field := range []string{"gateway:", "function:", "password_file:", "timeout:"} {
		if err == nil || !strings.Contains(err.Error(), field) {
			t.Errorf("Validate() = %v, want an error on %s", err, field)
		}
	}
}
