package knative_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/coldbench/coldbench/drivers"
	"github.com/coldbench/coldbench/drivers/drivertest"
	"github.com/coldbench/coldbench/drivers/knative"
	"github.com/coldbench/coldbench/drivers/knative/knativefake"
	"github.com/coldbench/coldbench/internal/runner"
	"github.com/coldbench/coldbench/results"
	"github.com/coldbench/coldbench/scenarios"
)

const svc = "hello"

// newCluster starts a fake cluster with the Service hello at 128Mi, its
// first revision scaled to zero.
func newCluster(t *testing.T, opts knativefake.Options) *knativefake.Cluster {
	t.Helper()
	c := knativefake.New(opts)
	t.Cleanup(c.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.CreateService(ctx, knativefake.Service{Name: svc, Image: "ghcr.io/knative/helloworld-go:latest", Memory: "128Mi", AtZero: true}); err != nil {
		t.Fatal(err)
	}
	return c
}

func config(c *knativefake.Cluster) *knative.Config {
	cfg := knative.DefaultConfig()
	cfg.Service, cfg.Client = svc, c.Client()
	cfg.PollInterval = 10 * time.Millisecond
	cfg.ReadyTimeout = 10 * time.Second
	cfg.Timeout = 10 * time.Second
	return cfg
}

func open(t *testing.T, cfg *knative.Config) *knative.Driver {
	t.Helper()
	d, err := knative.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
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

func TestConformance(t *testing.T) {
	drivertest.RunConformanceTests(t, drivertest.HarnessFunc(func(t *testing.T) drivers.Driver {
		c := newCluster(t, knativefake.Options{IdleAfter: time.Second})
		d, err := knative.Open(context.Background(), config(c))
		if err != nil {
			t.Fatal(err)
		}
		return d
	}))
}

// TestScenario runs a scenario through the runner against the fake, all
// from YAML: the fake's Kubernetes API by kubeconfig, as a real cluster. A
// cold burst on a revision at zero, then warm traffic: every request must
// reach the Service and be classified as the fake's ground truth says, by
// the platform signal.
func TestScenario(t *testing.T) {
	c := newCluster(t, knativefake.Options{ColdStart: 200 * time.Millisecond})
	kubeconfig, err := c.WriteKubeconfig(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	src := fmt.Sprintf(`
name: knative-e2e
target:
  driver: knative
  service: %s
  kubeconfig: %s
  method: POST
  poll_interval: 10ms
  timeout: 5s
  body: '{"seq": {{.Seq}}}'
phases:
  - name: cold-burst
    duration: 700ms
    burst: {requests: 8, within: 50ms}
  - name: warm
    duration: 1s
    rate: 20/s
`, svc, kubeconfig)
	s, err := scenarios.Parse("knative.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	var colds, warms int
	observe := func(call *drivers.Call, smp results.Sample) {
		truth, ok := c.Truth(call.ID)
		if !ok {
			t.Errorf("request %s never reached the Service", call.ID)
			return
		}
		if smp.Source != drivers.SourcePlatform || (smp.Temp == drivers.Cold) != truth.Cold {
			t.Errorf("request %s (%s): %s from %s, truth cold=%v", call.ID, call.Phase, smp.Temp, smp.Source, truth.Cold)
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
	if got := c.Requests("default/" + svc); int64(got) != res.Run.Totals.OK || got != colds+warms {
		t.Errorf("Service saw %d requests, run.json says %d ok", got, res.Run.Totals.OK)
	}
}

// TestKubeconfigCapabilities drives Configure, ForceCold and Restore
// through the fake's Kubernetes API by kubeconfig, watch included.
func TestKubeconfigCapabilities(t *testing.T) {
	t.Parallel()
	c := newCluster(t, knativefake.Options{IdleAfter: 200 * time.Millisecond})
	kubeconfig, err := c.WriteKubeconfig(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	cfg := config(c)
	cfg.Client, cfg.Kubeconfig = nil, kubeconfig
	d := open(t, cfg)
	ctx := context.Background()
	if err := d.Configure(ctx, drivers.Settings{MemoryMB: 512}); err != nil {
		t.Fatal(err)
	}
	invoke(t, d, "warm")
	if err := d.ForceCold(ctx); err != nil {
		t.Fatal(err)
	}
	if call := invoke(t, d, "cold"); call.Temp != drivers.Cold {
		t.Errorf("after ForceCold: %s, want cold", call.Temp)
	}
	if err := d.Restore(ctx); err != nil {
		t.Fatal(err)
	}
	checkOriginal(t, c, d)
}

// service reads the fake's Service: its memory limit and request and its
// template annotations.
func service(t *testing.T, c *knativefake.Cluster) (limit, request any, annotations map[string]string) {
	t.Helper()
	u, err := c.Get("services", "default", svc)
	if err != nil {
		t.Fatal(err)
	}
	cs, _, _ := unstructured.NestedSlice(u.Object, "spec", "template", "spec", "containers")
	limit, _, _ = unstructured.NestedFieldCopy(cs[0].(map[string]any), "resources", "limits", "memory")
	request, _, _ = unstructured.NestedFieldCopy(cs[0].(map[string]any), "resources", "requests", "memory")
	annotations, _, _ = unstructured.NestedStringMap(u.Object, "spec", "template", "metadata", "annotations")
	if img := cs[0].(map[string]any)["image"]; img != "ghcr.io/knative/helloworld-go:latest" {
		t.Errorf("image %v: the driver changed it", img)
	}
	return limit, request, annotations
}

// TestConfigureForceColdRestore walks the capabilities a tuning run uses
// and checks each against the fake's state.
func TestConfigureForceColdRestore(t *testing.T) {
	c := newCluster(t, knativefake.Options{IdleAfter: 300 * time.Millisecond})
	cfg := config(c)
	cfg.SetColdHeaders(nil, "X-Fake-Pod")
	d := open(t, cfg)
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
	if limit, request, ann := service(t, c); limit != "256Mi" || request != "256Mi" || ann[knative.AnnotationMinScale] != "2" {
		t.Errorf("Service has limit %v request %v annotations %v, want 256Mi, 256Mi, min-scale 2", limit, request, ann)
	}

	// With a prewarm level, ForceCold rolls a new revision of new pods.
	before := invoke(t, d, "prewarmed-before")
	if err := d.ForceCold(ctx); err != nil {
		t.Fatal(err)
	}
	after := invoke(t, d, "prewarmed-after")
	tb, _ := c.Truth("prewarmed-before")
	ta, _ := c.Truth("prewarmed-after")
	if ta.Revision == tb.Revision || after.InstanceID == before.InstanceID || after.Temp != drivers.Warm {
		t.Errorf("after ForceCold with prewarm: %s on %s/%s, before %s/%s; want warm on a new revision's pod", after.Temp, ta.Revision, ta.Pod, tb.Revision, tb.Pod)
	}

	// Without one, it waits for the revision to scale to zero.
	if err := d.Configure(ctx, drivers.Settings{MemoryMB: 256}); err != nil {
		t.Fatal(err)
	}
	before = invoke(t, d, "before")
	if before.Temp != drivers.Warm {
		t.Errorf("request on a running revision: %s, want warm", before.Temp)
	}
	if err := d.ForceCold(ctx); err != nil {
		t.Fatal(err)
	}
	after = invoke(t, d, "after")
	truth, _ := c.Truth("after")
	if after.Temp != drivers.Cold || after.Source != drivers.SourcePlatform || !truth.Cold || after.InstanceID == before.InstanceID {
		t.Errorf("first request after ForceCold: %s from %s on %q (truth cold=%v, before on %q), want cold from platform on a new pod",
			after.Temp, after.Source, after.InstanceID, truth.Cold, before.InstanceID)
	}
	if again := invoke(t, d, "again"); again.Temp != drivers.Warm {
		t.Errorf("second request after ForceCold: %s, want warm", again.Temp)
	}

	if err := d.Restore(ctx); err != nil {
		t.Fatal(err)
	}
	checkOriginal(t, c, d)
	if err := d.Restore(ctx); err != nil {
		t.Errorf("second Restore: %v", err)
	}
}

// checkOriginal checks the Service is as newCluster created it.
func checkOriginal(t *testing.T, c *knativefake.Cluster, d *knative.Driver) {
	t.Helper()
	if limit, request, ann := service(t, c); limit != "128Mi" || request != nil || len(ann) != 0 {
		t.Errorf("after Restore: limit %v request %v annotations %v; want 128Mi, none, none", limit, request, ann)
	}
	desc, err := d.Describe(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if want := (drivers.Settings{MemoryMB: 128}); desc.Settings != want || !desc.Ready {
		t.Errorf("Describe after Restore = %+v, want %+v ready", desc, want)
	}
}

var servicesGR = schema.GroupResource{Group: "serving.knative.dev", Resource: "services"}

// TestRestoreAfterFailure injects API failures midway through a tuning
// sequence and during Restore itself; the original settings come back.
func TestRestoreAfterFailure(t *testing.T) {
	c := newCluster(t, knativefake.Options{})
	d := open(t, config(c))
	ctx := context.Background()
	if err := d.Configure(ctx, drivers.Settings{MemoryMB: 512, Prewarm: 1}); err != nil {
		t.Fatal(err)
	}
	c.FailNext("update", "services", apierrors.NewForbidden(servicesGR, svc, errors.New(`User "bench" cannot update resource "services"`)))
	err := d.Configure(ctx, drivers.Settings{MemoryMB: 1024, Prewarm: 2})
	want := `knative default/hello: update services.serving.knative.dev: services.serving.knative.dev "hello" is forbidden: User "bench" cannot update resource "services"`
	if err == nil || err.Error() != want {
		t.Fatalf("Configure with a forbidden update: %v, want %q", err, want)
	}
	// A conflict is retried; throttling is not.
	c.FailNext("update", "services", apierrors.NewConflict(servicesGR, svc, errors.New("the object has been modified")))
	if err := d.Configure(ctx, drivers.Settings{MemoryMB: 1024, Prewarm: 1}); err != nil {
		t.Fatalf("Configure after a conflict: %v", err)
	}
	c.FailNext("update", "services", apierrors.NewTooManyRequests("slow down", 1))
	if err := d.Restore(ctx); err == nil || !strings.Contains(err.Error(), "knative default/hello: update services.serving.knative.dev: slow down") {
		t.Fatalf("Restore while throttled: %v", err)
	}
	if err := d.Restore(ctx); err != nil {
		t.Fatalf("Restore again: %v", err)
	}
	checkOriginal(t, c, d)
}

// TestErrors checks that platform errors reach the user as one line naming
// the Service and the API call.
func TestErrors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tests := []struct {
		name string
		run  func(t *testing.T) error
		want string
	}{
		// No such Service.
		{"not found", func(t *testing.T) error {
			c := newCluster(t, knativefake.Options{})
			cfg := config(c)
			cfg.Service = "nope"
			_, err := knative.Open(ctx, cfg)
			return err
		}, `knative default/nope: get services.serving.knative.dev: services.serving.knative.dev "nope" not found`},
		// A revision that cannot start.
		{"revision failed", func(t *testing.T) error {
			c := newCluster(t, knativefake.Options{})
			d := open(t, config(c))
			u, _ := c.Get("services", "default", svc)
			cs, _, _ := unstructured.NestedSlice(u.Object, "spec", "template", "spec", "containers")
			cs[0].(map[string]any)["image"] = "example.com/invalid:1"
			unstructured.SetNestedSlice(u.Object, cs, "spec", "template", "spec", "containers")
			if _, err := c.Client().Resource(knative.ServicesResource).Namespace("default").Update(ctx, u, metav1.UpdateOptions{}); err != nil {
				t.Fatal(err)
			}
			return d.Configure(ctx, drivers.Settings{MemoryMB: 256})
		}, `knative default/hello: revision hello-00003 not ready: RevisionFailed: Revision "hello-00003" failed with message: Unable to fetch image "example.com/invalid:1".`},
		// A revision that never scales to zero.
		{"scale to zero timeout", func(t *testing.T) error {
			c := newCluster(t, knativefake.Options{}) // never idles
			cfg := config(c)
			cfg.ReadyTimeout = 200 * time.Millisecond
			d := open(t, cfg)
			invoke(t, d, "wake")
			return d.ForceCold(ctx)
		}, "knative default/hello: waiting for revision hello-00001 to scale to zero (is traffic still reaching it?): not done after"},
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

// TestKubeconfig opens the driver through a kubeconfig against a loopback
// API server that serves the Service but refuses to list revisions: the
// driver invokes the Service's URL and leaves temperatures to the engine.
func TestKubeconfig(t *testing.T) {
	t.Parallel()
	fn := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "ok") }))
	defer fn.Close()
	var paths []string
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		paths = append(paths, r.Method+" "+r.URL.Path)
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/apis/serving.knative.dev/v1/namespaces/bench/services/hello":
			fmt.Fprintf(w, `{"apiVersion":"serving.knative.dev/v1","kind":"Service","metadata":{"name":"hello","namespace":"bench","generation":1},
				"status":{"observedGeneration":1,"url":%q,"latestReadyRevisionName":"hello-00001","latestCreatedRevisionName":"hello-00001",
				"conditions":[{"type":"Ready","status":"True"}]}}`, fn.URL)
		default:
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprint(w, `{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"Forbidden","code":403,"message":"revisions.serving.knative.dev is forbidden"}`)
		}
	}))
	defer api.Close()
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	os.WriteFile(kubeconfig, []byte(fmt.Sprintf(`apiVersion: v1
kind: Config
clusters: [{name: fake, cluster: {server: %q}}]
users: [{name: bench, user: {token: t0ken}}]
contexts: [{name: bench, context: {cluster: fake, user: bench, namespace: bench}}]
current-context: bench
`, api.URL)), 0o600)
	cfg := knative.DefaultConfig()
	cfg.Service, cfg.Kubeconfig = svc, kubeconfig
	d := open(t, cfg)
	if c := invoke(t, d, "kc"); c.Temp != drivers.Unknown {
		t.Errorf("without a revisions watch: %s, want unknown", c.Temp)
	}
	if len(paths) == 0 || paths[0] != "GET /apis/serving.knative.dev/v1/namespaces/bench/services/hello" {
		t.Errorf("API calls %v: want the Service read in the kubeconfig context's namespace", paths)
	}
}

// TestValidate checks that settings errors name their field.
func TestValidate(t *testing.T) {
	t.Parallel()
	c := knative.DefaultConfig()
	c.Service, c.Namespace, c.URL, c.Kubeconfig, c.Timeout = "Bad_Name", "x/y", "ftp://h", "/nonexistent", 0
	err := c.Validate()
	for _, field := range []string{"service:", "namespace:", "url:", "kubeconfig:", "timeout:"} {
		if err == nil || !strings.Contains(err.Error(), field) {
			t.Errorf("Validate() = %v, want an error on %s", err, field)
		}
	}
}
