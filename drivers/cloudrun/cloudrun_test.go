package cloudrun_test

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/auth"

	"github.com/coldbench/coldbench/drivers"
	"github.com/coldbench/coldbench/drivers/cloudrun"
	"github.com/coldbench/coldbench/drivers/cloudrun/cloudrunfake"
	"github.com/coldbench/coldbench/drivers/drivertest"
	"github.com/coldbench/coldbench/internal/runner"
	"github.com/coldbench/coldbench/results"
	"github.com/coldbench/coldbench/scenarios"
)

const svc = "hello"

// newFake starts a fake Cloud Run with the service hello (512Mi, one CPU,
// no minimum instances) and writes credentials for it.
func newFake(t *testing.T, opts cloudrunfake.Options, concurrency int) (*cloudrunfake.Fake, string) {
	t.Helper()
	f := cloudrunfake.New(opts)
	t.Cleanup(f.Close)
	f.CreateService(cloudrunfake.Service{Name: svc, Image: "us-docker.pkg.dev/cloudrun/container/hello", Concurrency: concurrency})
	creds, err := f.WriteCredentials(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return f, creds
}

func config(f *cloudrunfake.Fake, creds string) *cloudrun.Config {
	c := cloudrun.DefaultConfig()
	c.Project, c.Region, c.Service = "bench-project", "us-central1", svc
	c.Endpoint, c.CredentialsFile = f.URL, creds
	c.PollInterval = 10 * time.Millisecond
	c.ReadyTimeout = 10 * time.Second
	c.Timeout = 10 * time.Second
	return c
}

func open(t *testing.T, c *cloudrun.Config) *cloudrun.Driver {
	t.Helper()
	d, err := cloudrun.Open(context.Background(), c)
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
		f, creds := newFake(t, cloudrunfake.Options{}, 0)
		d, err := cloudrun.Open(context.Background(), config(f, creds))
		if err != nil {
			t.Fatal(err)
		}
		return d
	}))
}

// TestScenario runs a scenario through the runner against the fake, all
// from YAML (the credentials file drives the real Google auth library
// against the fake's token endpoint). Cloud Run has no cold-start signal;
// the function's own header (X-Cold-Start, named in cold:) is the one,
// and every request must be classified as the fake's ground truth says.
func TestScenario(t *testing.T) {
	f, creds := newFake(t, cloudrunfake.Options{ColdStart: 200 * time.Millisecond}, 1)
	src := fmt.Sprintf(`
name: cloudrun-e2e
target:
  driver: cloudrun
  project: bench-project
  region: us-central1
  service: %s
  endpoint: %s
  credentials_file: %s
  method: POST
  body: '{"seq": {{.Seq}}}'
  poll_interval: 10ms
  timeout: 5s
cold:
  headers: [X-Cold-Start]
phases:
  - name: cold-burst
    duration: 700ms
    burst: {requests: 8, within: 50ms}
  - name: warm
    duration: 1s
    rate: 20/s
`, svc, f.URL, creds)
	s, err := scenarios.Parse("cloudrun.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	var colds, warms int
	observe := func(c *drivers.Call, smp results.Sample) {
		truth, ok := f.Truth(c.ID)
		if !ok {
			t.Errorf("request %s never reached the service", c.ID)
			return
		}
		if smp.Source != drivers.SourceHeader || (smp.Temp == drivers.Cold) != truth.Cold {
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
	if got := f.Requests(svc); int64(got) != res.Run.Totals.OK || got != colds+warms {
		t.Errorf("service saw %d requests, run.json says %d ok", got, res.Run.Totals.OK)
	}
}

// limits reads the fake's first container's limits.
func limits(f *cloudrunfake.Fake) map[string]any {
	c := f.Template(svc)["containers"].([]any)[0].(map[string]any)
	return c["resources"].(map[string]any)["limits"].(map[string]any)
}

// TestConfigureForceColdRestore walks the capabilities a tuning run uses
// and checks each against the fake's state.
func TestConfigureForceColdRestore(t *testing.T) {
	f, creds := newFake(t, cloudrunfake.Options{}, 0)
	before := f.Template(svc)
	cfg := config(f, creds)
	cfg.SetColdHeaders([]string{"X-Cold-Start"}, "X-Fake-Instance")
	d := open(t, cfg)
	ctx := context.Background()

	tests := []struct {
		set      drivers.Settings
		wantCPU  string
		wantDesc drivers.Settings
	}{
		{drivers.Settings{MemoryMB: 256, Prewarm: 2}, "1000m", drivers.Settings{MemoryMB: 256, Prewarm: 2}}, // fits one CPU: kept
		{drivers.Settings{MemoryMB: 8192}, "2", drivers.Settings{MemoryMB: 8192}},                           // more than 4 GiB needs 2 CPUs
		{drivers.Settings{MemoryMB: 1024}, "2", drivers.Settings{MemoryMB: 1024}},                           // 2 CPUs still allowed at 1 GiB
	}
	for _, tt := range tests {
		if err := d.Configure(ctx, tt.set); err != nil {
			t.Fatalf("Configure(%+v): %v", tt.set, err)
		}
		desc, err := d.Describe(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if desc.Settings != tt.wantDesc || !desc.Ready {
			t.Errorf("Describe after %+v = %+v, want %+v ready", tt.set, desc, tt.wantDesc)
		}
		if l := limits(f); l["cpu"] != tt.wantCPU || l["memory"] != fmt.Sprintf("%dMi", tt.set.MemoryMB) {
			t.Errorf("after %+v: limits %v, want cpu %s", tt.set, l, tt.wantCPU)
		}
	}
	if tmpl := f.Template(svc); tmpl["maxInstanceRequestConcurrency"] == nil || tmpl["containers"].([]any)[0].(map[string]any)["ports"] == nil {
		t.Errorf("the update lost part of the template: %v", tmpl)
	}

	first := invoke(t, d, "before")
	if err := d.ForceCold(ctx); err != nil {
		t.Fatal(err)
	}
	after := invoke(t, d, "after")
	tb, _ := f.Truth("before")
	ta, _ := f.Truth("after")
	if ta.Revision == tb.Revision || after.InstanceID == first.InstanceID || !ta.Cold || after.Temp != drivers.Cold {
		t.Errorf("after ForceCold: %s on %s/%s (truth cold=%v), before on %s/%s; want cold on a new revision's instance",
			after.Temp, ta.Revision, ta.Instance, ta.Cold, tb.Revision, tb.Instance)
	}
	if ann, _ := f.Template(svc)["annotations"].(map[string]any); ann[cloudrun.AnnotationNonce] == nil {
		t.Errorf("ForceCold left no nonce: annotations %v", ann)
	}

	if err := d.Restore(ctx); err != nil {
		t.Fatal(err)
	}
	if got := f.Template(svc); !reflect.DeepEqual(got, before) {
		t.Errorf("template after Restore:\n%v\nwant\n%v", got, before)
	}
	if err := d.Restore(ctx); err != nil {
		t.Errorf("second Restore: %v", err)
	}
}

// TestRestoreAfterFailure injects a failed rollout midway through a tuning
// sequence and a throttled call during Restore itself; the original
// template comes back.
func TestRestoreAfterFailure(t *testing.T) {
	f, creds := newFake(t, cloudrunfake.Options{}, 0)
	before := f.Template(svc)
	d := open(t, config(f, creds))
	ctx := context.Background()
	if err := d.Configure(ctx, drivers.Settings{MemoryMB: 1024, Prewarm: 1}); err != nil {
		t.Fatal(err)
	}
	f.FailRollout("The user-provided container failed to start and listen on the port defined by PORT=8080.")
	err := d.Configure(ctx, drivers.Settings{MemoryMB: 2048, Prewarm: 1})
	if err == nil || !strings.HasPrefix(err.Error(), "cloudrun hello: operation ") || !strings.Contains(err.Error(), "failed: FAILED_PRECONDITION: Revision 'hello-00003-") {
		t.Fatalf("Configure with a failing rollout: %v", err)
	}
	f.FailNext(http.MethodPatch, "/services/hello", http.StatusTooManyRequests, "RESOURCE_EXHAUSTED", "Quota exceeded for quota metric 'Write requests'.")
	want := "cloudrun hello: PATCH /v2/projects/bench-project/locations/us-central1/services/hello: 429 too many requests: RESOURCE_EXHAUSTED: Quota exceeded"
	if err := d.Restore(ctx); err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("Restore while throttled: %v, want %q", err, want)
	}
	if err := d.Restore(ctx); err != nil {
		t.Fatalf("Restore again: %v", err)
	}
	if got := f.Template(svc); !reflect.DeepEqual(got, before) {
		t.Errorf("template after Restore:\n%v\nwant\n%v", got, before)
	}
}

// TestErrors checks that platform errors reach the user as one line naming
// the service and the API call.
func TestErrors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	base := "/v2/projects/bench-project/locations/us-central1/services/"
	tests := []struct {
		name string
		run  func(t *testing.T) error
		want string
	}{
		// The credentials may not read the service.
		{"permission denied", func(t *testing.T) error {
			f, creds := newFake(t, cloudrunfake.Options{}, 0)
			f.FailNext(http.MethodGet, "/services/hello", http.StatusForbidden, "PERMISSION_DENIED", "Permission 'run.services.get' denied on resource 'hello' (or resource may not exist).")
			_, err := cloudrun.Open(ctx, config(f, creds))
			return err
		}, "cloudrun hello: GET " + base + "hello: 403 forbidden: PERMISSION_DENIED: Permission 'run.services.get' denied"},
		// No such service.
		{"not found", func(t *testing.T) error {
			f, creds := newFake(t, cloudrunfake.Options{}, 0)
			c := config(f, creds)
			c.Service = "nope"
			_, err := cloudrun.Open(ctx, c)
			return err
		}, "cloudrun nope: GET " + base + "nope: 404 not found: NOT_FOUND: Resource 'nope' of kind 'SERVICE'"},
		// An update in conflict with another.
		{"conflict", func(t *testing.T) error {
			f, creds := newFake(t, cloudrunfake.Options{}, 0)
			d := open(t, config(f, creds))
			f.FailNext(http.MethodPatch, "/services/hello", http.StatusConflict, "ABORTED", "Conflict for resource 'hello': version '3' was specified but current version is '4'.")
			return d.Configure(ctx, drivers.Settings{MemoryMB: 1024})
		}, "cloudrun hello: PATCH " + base + "hello: 409 conflict: ABORTED: Conflict for resource 'hello'"},
		// A rollout that does not finish in time.
		{"operation timeout", func(t *testing.T) error {
			f, creds := newFake(t, cloudrunfake.Options{Rollout: time.Hour}, 0)
			c := config(f, creds)
			c.ReadyTimeout = 200 * time.Millisecond
			return open(t, c).ForceCold(ctx)
		}, "cloudrun hello: waiting for operation "},
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

// TestTokenRefresh invokes for longer than identity tokens live: the
// driver must switch to fresh ones before the old ones expire.
func TestTokenRefresh(t *testing.T) {
	t.Parallel()
	f, creds := newFake(t, cloudrunfake.Options{TokenLifetime: 3 * time.Second}, 0)
	d := open(t, config(f, creds))
	for i := 0; i < 20; i++ {
		invoke(t, d, fmt.Sprintf("refresh-%d", i))
		time.Sleep(250 * time.Millisecond)
	}
}

// TestUnauthenticated invokes a public service without credentials for
// the Admin API: with url set, the driver only invokes.
func TestUnauthenticated(t *testing.T) {
	t.Parallel()
	f, _ := newFake(t, cloudrunfake.Options{AllowUnauthenticated: true}, 0)
	c := config(f, "")
	c.Unauthenticated = true
	c.URL = f.URL + "/run/" + svc
	c.AdminTokens = staticTokens("not-a-token") // the API refuses it
	d := open(t, c)
	invoke(t, d, "anon")
	if err := d.Configure(context.Background(), drivers.Settings{MemoryMB: 1024}); err == nil || !strings.Contains(err.Error(), "401 unauthorized: UNAUTHENTICATED") {
		t.Errorf("Configure without Admin API access: %v", err)
	}
}

// TestValidate checks that settings errors name their field.
func TestValidate(t *testing.T) {
	t.Parallel()
	c := cloudrun.DefaultConfig()
	c.Project, c.Region, c.Service, c.Endpoint, c.CredentialsFile, c.Timeout = "", "Mars", "Hello_World", "run.googleapis.com", "/nonexistent", 0
	err := c.Validate()
	for _, field := range []string{"project:", "region:", "service:", "endpoint:", "credentials_file:", "timeout:"} {
		if err == nil || !strings.Contains(err.Error(), field) {
			t.Errorf("Validate() = %v, want an error on %s", err, field)
		}
	}
}

// staticTokens is a token provider that always gives the same token.
type staticTokens string

func (s staticTokens) Token(context.Context) (*auth.Token, error) {
	return &auth.Token{Value: string(s), Type: "Bearer", Expiry: time.Now().Add(time.Hour)}, nil
}
