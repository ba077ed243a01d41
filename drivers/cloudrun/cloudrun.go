// Package cloudrun is the driver for a Google Cloud Run service. It invokes
// the service at its URL with the http driver and an identity token from
// the standard credential chain, and through the Cloud Run Admin API v2
// (plain JSON REST, long-running operations) sets the container's memory
// (and CPU where the memory needs it) and the template's minimum instance
// count, forces cold starts by rolling a new revision, describes the
// service, and puts its settings back afterwards.
//
// Cloud Run reports no cold start: the temperature is left unknown, for a
// header the function sets (the scenario's cold: block) or the engine's
// inference.
package cloudrun

import (
	"context"
	"fmt"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coldbench/coldbench/drivers"
)

func init() {
	drivers.RegisterConfig("cloudrun", DefaultConfig, Open)
}

// AnnotationNonce is the template annotation ForceCold changes to roll a
// new revision.
const AnnotationNonce = "coldbench.dev/force-cold"

// Driver invokes one Cloud Run service and controls it through the Admin
// API.
type Driver struct {
	inv    *invoker
	cfg    Config
	api    *admin // nil without Admin API credentials
	noAPI  error  // why api is nil
	mu     sync.Mutex
	origin *original // the template as the first change found it; nil when nothing changed
}

// original is what the driver changes, as it first found it.
type original struct {
	containers  any // template.containers, raw
	minimum     int // template.scaling.minInstanceCount
	annotations any // template.annotations, raw; nil when absent
}

var _ drivers.Manager = (*Driver)(nil)

// Open reads the service (for its URL) and starts a driver that invokes it
// with identity tokens. With url set, a service the credentials may not
// read is not an error: the driver then only invokes.
func Open(ctx context.Context, cfg *Config) (*Driver, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	d := &Driver{cfg: *cfg}
	var svc *service
	tokens, err := adminTokens(cfg)
	if err == nil {
		d.api = &admin{
			endpoint: strings.TrimRight(cfg.Endpoint, "/"),
			name:     cfg.name(),
			short:    cfg.Service,
			tokens:   tokens,
			client:   &http.Client{Timeout: cfg.Timeout},
			every:    cfg.PollInterval,
		}
		if svc, _, err = d.api.get(ctx); err != nil && cfg.URL == "" {
			return nil, err
		}
	} else if cfg.URL == "" {
		return nil, fmt.Errorf("cloudrun %s: Admin API credentials: %w", cfg.Service, err)
	}
	if err != nil {
		d.api, d.noAPI = nil, err
	}
	target, aud := cfg.URL, cfg.Audience
	if svc != nil {
		if target == "" {
			target = svc.URI
		}
		if aud == "" {
			aud = svc.URI
		}
	}
	if target == "" {
		return nil, fmt.Errorf("cloudrun %s: the service has no uri yet; set url", cfg.Service)
	}
	if aud == "" {
		aud = target
	}
	hc, err := cfg.HTTP(target)
	if err != nil {
		return nil, err
	}
	idp := cfg.IDTokens
	if !cfg.Unauthenticated && idp == nil {
		if idp, err = idTokens(cfg, aud); err != nil {
			return nil, fmt.Errorf("cloudrun %s: identity token for %s: %w (a user's own login cannot mint one: use a service account, impersonation, or unauthenticated: true for a public service)", cfg.Service, aud, err)
		}
	}
	if cfg.Unauthenticated {
		idp = nil
	}
	if d.inv, err = newInvoker(ctx, *hc, idp); err != nil {
		return nil, fmt.Errorf("cloudrun %s: identity token for %s: %w", cfg.Service, aud, err)
	}
	return d, nil
}

// Invoke implements drivers.Driver.
func (d *Driver) Invoke(ctx context.Context, c *drivers.Call) error { return d.inv.Invoke(ctx, c) }

// Close implements drivers.Driver.
func (d *Driver) Close() error {
	if d.api != nil {
		d.api.client.CloseIdleConnections()
	}
	return d.inv.Close()
}

// control returns the Admin API client, or why there is none.
func (d *Driver) control() (*admin, error) {
	if d.api == nil {
		return nil, fmt.Errorf("cloudrun %s: no Admin API access: %w", d.cfg.Service, d.noAPI)
	}
	return d.api, nil
}

// bounded bounds a change and its wait by the ready timeout.
func (d *Driver) bounded(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, d.cfg.ReadyTimeout)
}

// Configure implements drivers.Configurer: it patches the first
// container's memory limit (and its CPU limit when Cloud Run requires
// another for that memory) and the template's minimum instance count,
// and waits for the operation and the new revision.
func (d *Driver) Configure(ctx context.Context, s drivers.Settings) error {
	if s.MemoryMB <= 0 || s.Prewarm < 0 {
		return fmt.Errorf("cloudrun %s: configure %d MB, prewarm %d: want a positive memory and a prewarm of 0 or more", d.cfg.Service, s.MemoryMB, s.Prewarm)
	}
	return d.change(ctx, func(raw map[string]any) (map[string]any, []string, error) {
		containers, _ := templateField(raw, "containers").([]any)
		if err := sizeContainer(containers, s.MemoryMB); err != nil {
			return nil, nil, fmt.Errorf("cloudrun %s: %w", d.cfg.Service, err)
		}
		body := map[string]any{"template": map[string]any{
			"containers": containers,
			"scaling":    map[string]any{"minInstanceCount": s.Prewarm},
		}}
		return body, []string{"template.containers", "template.scaling.minInstanceCount"}, nil
	})
}

// ForceCold implements drivers.ColdForcer: it rolls a new revision (a nonce
// annotation on the template) and waits for it. Traffic moves to the new
// revision and the old one's instances go, so the next request lands on a
// new instance. The minimum instance count stays as configured: with one,
// that new instance is prewarmed. Cloud Run may also start an instance of
// the new revision for the deployment's own start-up check, which can then
// serve the next request without a visible cold start.
func (d *Driver) ForceCold(ctx context.Context) error {
	return d.change(ctx, func(raw map[string]any) (map[string]any, []string, error) {
		ann, _ := templateField(raw, "annotations").(map[string]any)
		if ann == nil {
			ann = map[string]any{}
		}
		ann[AnnotationNonce] = strconv.FormatInt(time.Now().UnixNano(), 36)
		return map[string]any{"template": map[string]any{"annotations": ann}}, []string{"template.annotations"}, nil
	})
}

// change is how Configure and ForceCold patch the service: with d.mu held
// and within the driver's time bound, it reads the service, remembers it
// for Restore (the first time), and patches the fields in mask with the
// body edit makes from the service as read.
func (d *Driver) change(ctx context.Context, edit func(raw map[string]any) (body map[string]any, mask []string, err error)) error {
	api, err := d.control()
	if err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	ctx, cancel := d.bounded(ctx)
	defer cancel()
	_, raw, err := api.get(ctx)
	if err != nil {
		return err
	}
	d.remember(raw)
	body, mask, err := edit(raw)
	if err != nil {
		return err
	}
	_, err = api.patch(ctx, body, mask...)
	return err
}

// Describe implements drivers.Describer: memory from the first container's
// limit, prewarm from the template's minimum instance count. The Admin API
// does not report instances, so Instances is always 0.
func (d *Driver) Describe(ctx context.Context) (drivers.Description, error) {
	api, err := d.control()
	if err != nil {
		return drivers.Description{}, err
	}
	svc, _, err := api.get(ctx)
	if err != nil {
		return drivers.Description{}, err
	}
	return drivers.Description{
		Settings: drivers.Settings{MemoryMB: svc.memoryMiB(), Prewarm: svc.minInstances()},
		Platform: "cloudrun",
		Ready:    svc.ready(),
	}, nil
}

// Restore implements drivers.Restorer: it patches back the template's
// containers, minimum instance count and annotations as the driver first
// found them, when they differ, and waits. That is a new revision with the
// old settings; the earlier revision itself does not get traffic again.
func (d *Driver) Restore(ctx context.Context) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	o := d.origin
	if o == nil {
		return nil
	}
	api, err := d.control()
	if err != nil {
		return err
	}
	ctx, cancel := d.bounded(ctx)
	defer cancel()
	svc, raw, err := api.get(ctx)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	if reflect.DeepEqual(templateField(raw, "containers"), o.containers) && svc.minInstances() == o.minimum &&
		reflect.DeepEqual(templateField(raw, "annotations"), o.annotations) {
		d.origin = nil
		return nil
	}
	ann := o.annotations
	if ann == nil {
		ann = map[string]any{}
	}
	body := map[string]any{"template": map[string]any{
		"containers":  o.containers,
		"scaling":     map[string]any{"minInstanceCount": o.minimum},
		"annotations": ann,
	}}
	if _, err := api.patch(ctx, body, "template.containers", "template.scaling.minInstanceCount", "template.annotations"); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	d.origin = nil
	return nil
}

// remember keeps the template's changed parts as first found.
func (d *Driver) remember(raw map[string]any) {
	if d.origin != nil {
		return
	}
	o := &original{containers: templateField(raw, "containers"), annotations: templateField(raw, "annotations")}
	if sc, ok := templateField(raw, "scaling").(map[string]any); ok {
		if n, ok := sc["minInstanceCount"].(float64); ok {
			o.minimum = int(n)
		}
	}
	d.origin = o
}
