// Package openfaas is the driver for a function on an OpenFaaS gateway. It
// invokes the function through the gateway's /function/ route with the http
// driver, and uses the gateway's /system REST API (basic auth) to set the
// function's memory and minimum replicas, scale it to zero to force cold
// starts, describe it, and put its settings back afterwards.
//
// OpenFaaS sets no cold-start header. The driver follows the function's
// available replica count instead: a request that arrives while none is
// available waits for a scale from zero, and is reported cold with the
// platform as the source (see drivers.ReplicaGate). Without API credentials the
// temperature is left unknown and the engine infers it.
package openfaas

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coldbench/coldbench/drivers"
	httpdriver "github.com/coldbench/coldbench/drivers/http"
)

func init() {
	drivers.RegisterConfig("openfaas", DefaultConfig, Open)
}

// Driver invokes one OpenFaaS function and controls it through the gateway.
type Driver struct {
	*httpdriver.Driver
	cfg  Config
	gw   *gateway
	gate drivers.ReplicaGate

	stopPoll context.CancelFunc
	polling  sync.WaitGroup

	mu       sync.Mutex      // serialises Configure, ForceCold and Restore
	original *functionStatus // the function as the first change found it; nil when nothing changed
}

var _ drivers.Manager = (*Driver)(nil)

// Open checks that the function exists and starts a driver for it. Without
// credentials, a gateway that refuses the status call is not an error: the
// driver then only invokes.
func Open(ctx context.Context, cfg *Config) (*Driver, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	user, pass, auth, err := cfg.credentials()
	if err != nil {
		return nil, err
	}
	hc, err := cfg.HTTP(cfg.invokeURL())
	if err != nil {
		return nil, err
	}
	hd, err := httpdriver.New(hc)
	if err != nil {
		return nil, err
	}
	d := &Driver{
		Driver: hd,
		cfg:    *cfg,
		gw: &gateway{
			base:      strings.TrimRight(cfg.Gateway, "/"),
			function:  cfg.Function,
			namespace: cfg.Namespace,
			user:      user,
			pass:      pass,
			auth:      auth,
			client:    &http.Client{Timeout: cfg.Timeout},
		},
		stopPoll: func() {},
	}
	st, err := d.gw.status(ctx)
	switch {
	case err == nil:
		d.gate.Arm(int(st.AvailableReplicas))
		if cfg.PollInterval > 0 {
			pctx, cancel := context.WithCancel(context.Background())
			d.stopPoll = cancel
			d.polling.Add(1)
			go d.poll(pctx)
		}
	case isAuthError(err) && !auth:
		// Invoke-only: the /system API needs credentials.
	default:
		hd.Close()
		return nil, err
	}
	return d, nil
}

// Invoke implements drivers.Driver: the gate decides the temperature
// (drivers.ReplicaGate.Invoke).
func (d *Driver) Invoke(ctx context.Context, c *drivers.Call) error {
	return d.gate.Invoke(ctx, d.Driver, c)
}

// poll follows the function's replica count until ctx ends. After three
// failed reads in a row the gate forgets, and requests go unknown until a
// read succeeds again.
func (d *Driver) poll(ctx context.Context) {
	defer d.polling.Done()
	tick := time.NewTicker(d.cfg.PollInterval)
	defer tick.Stop()
	failed := 0
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		epoch := d.gate.Epoch()
		st, err := d.gw.status(ctx)
		if err != nil {
			if failed++; failed == 3 {
				d.gate.Forget()
			}
			continue
		}
		failed = 0
		d.gate.Observe(int(st.AvailableReplicas), epoch)
	}
}

// Configure implements drivers.Configurer: it redeploys the function with
// the memory as its limit and request and the prewarm level as its
// com.openfaas.scale.min label (removed for 0), everything else as it was,
// then waits until the gateway reports the new spec and at least prewarm
// available replicas.
func (d *Driver) Configure(ctx context.Context, s drivers.Settings) error {
	if s.MemoryMB <= 0 || s.Prewarm < 0 {
		return fmt.Errorf("openfaas %s: configure %d MB, prewarm %d: want a positive memory and a prewarm of 0 or more", d.gw.name(), s.MemoryMB, s.Prewarm)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	st, err := d.current(ctx)
	if err != nil {
		return err
	}
	dep := st.deployment()
	mem := strconv.Itoa(s.MemoryMB) + "Mi"
	if dep.Limits == nil {
		dep.Limits = &functionResources{}
	}
	if dep.Requests == nil {
		dep.Requests = &functionResources{}
	}
	dep.Limits.Memory, dep.Requests.Memory = mem, mem
	if dep.Labels == nil {
		dep.Labels = &map[string]string{}
	}
	if s.Prewarm > 0 {
		(*dep.Labels)[LabelMinScale] = strconv.Itoa(s.Prewarm)
	} else {
		delete(*dep.Labels, LabelMinScale)
	}
	if err := d.gw.update(ctx, dep); err != nil {
		return err
	}
	what := fmt.Sprintf("%d MB with prewarm %d", s.MemoryMB, s.Prewarm)
	st, err = d.waitFor(ctx, what, func(st *functionStatus) bool {
		return st.memoryMB() == s.MemoryMB && st.minScale() == s.Prewarm
	})
	if err != nil {
		return err
	}
	if int(st.Replicas) < s.Prewarm {
		if err := d.gw.scale(ctx, s.Prewarm); err != nil {
			return err
		}
	}
	st, err = d.waitFor(ctx, fmt.Sprintf("%d available replicas", s.Prewarm), func(st *functionStatus) bool {
		return int(st.AvailableReplicas) >= s.Prewarm
	})
	if err != nil {
		return err
	}
	d.gate.Arm(int(st.AvailableReplicas))
	return nil
}

// ForceCold implements drivers.ColdForcer: it scales the function to zero
// and waits until no replica is available, so that the next request waits
// for a new one. A function with a prewarm level is then scaled back up to
// it, with new replicas. OpenFaaS CE refuses to scale to zero; that
// refusal is the error.
func (d *Driver) ForceCold(ctx context.Context) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	st, err := d.current(ctx)
	if err != nil {
		return err
	}
	if err := d.gw.scale(ctx, 0); err != nil {
		return err
	}
	if _, err := d.waitFor(ctx, "0 available replicas", func(st *functionStatus) bool {
		return st.AvailableReplicas == 0
	}); err != nil {
		return err
	}
	d.gate.Arm(0)
	if n := st.minScale(); n > 0 {
		if err := d.gw.scale(ctx, n); err != nil {
			return err
		}
		st, err := d.waitFor(ctx, fmt.Sprintf("%d available replicas", n), func(st *functionStatus) bool {
			return int(st.AvailableReplicas) >= n
		})
		if err != nil {
			return err
		}
		d.gate.Arm(int(st.AvailableReplicas))
	}
	return nil
}

// Describe implements drivers.Describer from GET /system/function/{name}:
// memory from the memory limit, prewarm from the min-scale label,
// instances from the available replicas.
func (d *Driver) Describe(ctx context.Context) (drivers.Description, error) {
	epoch := d.gate.Epoch()
	st, err := d.gw.status(ctx)
	if err != nil {
		return drivers.Description{}, err
	}
	d.gate.Observe(int(st.AvailableReplicas), epoch)
	return drivers.Description{
		Settings:  drivers.Settings{MemoryMB: st.memoryMB(), Prewarm: st.minScale()},
		Platform:  "openfaas",
		Instances: int(st.AvailableReplicas),
		Ready:     st.AvailableReplicas >= st.Replicas && int(st.AvailableReplicas) >= st.minScale(),
	}, nil
}

// Restore implements drivers.Restorer: it redeploys the function's original
// limits, requests and min-scale label if they changed, scales it back to
// its original replica count, and waits for both. Everything else the
// update sends is what the function had; a redeploy rolls its replicas.
func (d *Driver) Restore(ctx context.Context) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	orig := d.original
	if orig == nil {
		return nil
	}
	cur, err := d.gw.status(ctx)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	var errs []error
	if !sameSpec(cur, orig) {
		if err := d.gw.update(ctx, orig.deployment()); err != nil {
			errs = append(errs, err)
		} else if st, err := d.waitFor(ctx, "the original spec", func(st *functionStatus) bool { return sameSpec(st, orig) }); err != nil {
			errs = append(errs, err)
		} else {
			cur = st // an update may change the replica count (min scale)
		}
	}
	if cur.Replicas != orig.Replicas {
		if err := d.gw.scale(ctx, int(orig.Replicas)); err != nil {
			errs = append(errs, err)
		}
	}
	// Settled: as many available as desired (no rollout or scaling under
	// way), and at least as many as before.
	want := orig.Replicas
	if _, err := d.waitFor(ctx, fmt.Sprintf("%d replicas as before", want), func(st *functionStatus) bool {
		return st.AvailableReplicas == st.Replicas && (st.Replicas >= want && want > 0 || st.Replicas == 0 && want == 0)
	}); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return fmt.Errorf("restore: %w", joined(errs))
	}
	d.original = nil
	return nil
}

// joined is several errors on one line, for errors.Is and errors.As as
// errors.Join is.
type joined []error

func (j joined) Error() string {
	msgs := make([]string, len(j))
	for i, err := range j {
		msgs[i] = err.Error()
	}
	return strings.Join(msgs, "; ")
}

func (j joined) Unwrap() []error { return j }

// current reads the function's status for Configure and ForceCold (with
// d.mu held), keeping the first one read for Restore.
func (d *Driver) current(ctx context.Context) (*functionStatus, error) {
	st, err := d.gw.status(ctx)
	if err != nil {
		return nil, err
	}
	if d.original == nil {
		c := *st
		dep := st.deployment() // deep copies of the maps and resources
		c.Labels, c.Annotations, c.Limits, c.Requests = dep.Labels, dep.Annotations, dep.Limits, dep.Requests
		d.original = &c
	}
	return st, nil
}

// sameSpec compares what Configure changes: memory limit and request and
// the min-scale label.
func sameSpec(a, b *functionStatus) bool {
	res := func(r *functionResources) functionResources {
		if r == nil {
			return functionResources{}
		}
		return *r
	}
	label := func(s *functionStatus) (string, bool) {
		if s.Labels == nil {
			return "", false
		}
		v, ok := (*s.Labels)[LabelMinScale]
		return v, ok
	}
	la, oka := label(a)
	lb, okb := label(b)
	return res(a.Limits).Memory == res(b.Limits).Memory && res(a.Requests).Memory == res(b.Requests).Memory && la == lb && oka == okb
}

// waitFor reads the function's status until ok says yes, within the
// configured ready timeout. Refusals (4xx) end the wait at once; other
// failures are retried until the time runs out.
func (d *Driver) waitFor(ctx context.Context, what string, ok func(*functionStatus) bool) (*functionStatus, error) {
	ctx, cancel := context.WithTimeout(ctx, d.cfg.ReadyTimeout)
	defer cancel()
	every := d.cfg.PollInterval
	if every <= 0 {
		every = time.Second
	}
	start := time.Now()
	last := "nothing yet"
	for {
		st, err := d.gw.status(ctx)
		var ae *APIError
		switch {
		case err == nil && ok(st):
			return st, nil
		case err == nil:
			last = describeStatus(st)
		case errors.As(err, &ae) && ae.Status >= 400 && ae.Status < 500:
			return nil, err
		case ctx.Err() == nil:
			last = err.Error()
		}
		select {
		case <-ctx.Done():
			return nil, waitError(d.gw.name(), what, time.Since(start).Round(time.Millisecond), last, ctx.Err())
		case <-time.After(every):
		}
	}
}

func describeStatus(st *functionStatus) string {
	mem := "none"
	if st.Limits != nil && st.Limits.Memory != "" {
		mem = st.Limits.Memory
	}
	return fmt.Sprintf("%d of %d replicas available, memory limit %s, min scale %d", st.AvailableReplicas, st.Replicas, mem, st.minScale())
}

// Close stops the background status reads and the http driver.
func (d *Driver) Close() error {
	d.stopPoll()
	d.polling.Wait()
	d.gw.client.CloseIdleConnections()
	return d.Driver.Close()
}
