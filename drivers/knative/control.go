package knative

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/util/retry"

	"github.com/coldbench/coldbench/drivers"
)

// managedAnnotations are the template annotations the driver may change.
var managedAnnotations = []string{AnnotationMinScale, annotationMinScaleOld, AnnotationNonce}

// original is what the driver changes, as it first found it.
type original struct {
	limit, request       string
	hasLimit, hasRequest bool
	annotations          map[string]string // the managed annotations that were set
}

// remember keeps the Service's settings as first found, for Restore.
func (d *Driver) remember(svc *unstructured.Unstructured) {
	if d.original != nil {
		return
	}
	o := &original{annotations: map[string]string{}}
	o.limit, o.request, o.hasLimit, o.hasRequest = containerMemory(svc)
	ann := templateAnnotations(svc)
	for _, k := range managedAnnotations {
		if v, ok := ann[k]; ok {
			o.annotations[k] = v
		}
	}
	d.original = o
}

// Configure implements drivers.Configurer: it sets the first container's
// memory limit and request and the min-scale annotation, waits for the new
// revision to be ready and serving, then for it to have at least prewarm
// pods.
func (d *Driver) Configure(ctx context.Context, s drivers.Settings) error {
	if s.MemoryMB <= 0 || s.Prewarm < 0 {
		return fmt.Errorf("knative %s: configure %d MB, prewarm %d: want a positive memory and a prewarm of 0 or more", d, s.MemoryMB, s.Prewarm)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	mem := strconv.Itoa(s.MemoryMB) + "Mi"
	svc, err := d.update(ctx, func(svc *unstructured.Unstructured) error {
		d.remember(svc)
		if err := setContainerMemory(svc, mem, mem, true, true); err != nil {
			return err
		}
		if err := setTemplateAnnotation(svc, annotationMinScaleOld, "", false); err != nil {
			return err
		}
		return setTemplateAnnotation(svc, AnnotationMinScale, strconv.Itoa(s.Prewarm), true)
	})
	if err != nil {
		return err
	}
	rev, err := d.waitRollout(ctx, svc.GetGeneration())
	if err != nil {
		return err
	}
	n, err := d.waitReplicas(ctx, rev, fmt.Sprintf("to have %d pods", s.Prewarm), func(n int) bool { return n >= s.Prewarm })
	if err != nil {
		return err
	}
	d.gate.follow(rev, n)
	return nil
}

// ForceCold implements drivers.ColdForcer. With min-scale 0 it waits until
// the serving revision has scaled to zero, so that the next request waits
// for a new pod; the Service must get no traffic meanwhile, and Knative
// takes its stable window plus grace period (about 90 s by default). With a
// min-scale it rolls a new revision instead (a nonce annotation), whose
// pods are all new, and waits for them: those pods are prewarmed, so the
// next request lands on a new but initialised pod.
func (d *Driver) ForceCold(ctx context.Context) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	svc, err := d.get(ctx)
	if err != nil {
		return err
	}
	d.remember(svc)
	st := stateOf(svc)
	if n := minScale(templateAnnotations(svc)); n > 0 {
		nonce := strconv.FormatInt(time.Now().UnixNano(), 36)
		svc, err := d.update(ctx, func(svc *unstructured.Unstructured) error {
			return setTemplateAnnotation(svc, AnnotationNonce, nonce, true)
		})
		if err != nil {
			return err
		}
		rev, err := d.waitRollout(ctx, svc.GetGeneration())
		if err != nil {
			return err
		}
		got, err := d.waitReplicas(ctx, rev, fmt.Sprintf("to have %d pods", n), func(got int) bool { return got >= n })
		if err != nil {
			return err
		}
		d.gate.follow(rev, got)
		return nil
	}
	if st.LatestReady == "" {
		return fmt.Errorf("knative %s: force cold: no ready revision (%s)", d, st)
	}
	if _, err := d.waitReplicas(ctx, st.LatestReady, "to scale to zero (is traffic still reaching it?)", func(n int) bool { return n == 0 }); err != nil {
		return err
	}
	d.gate.follow(st.LatestReady, 0)
	return nil
}

// Describe implements drivers.Describer: memory from the first container's
// limit, prewarm from min-scale, instances from the serving revision's
// actual replicas.
func (d *Driver) Describe(ctx context.Context) (drivers.Description, error) {
	svc, err := d.get(ctx)
	if err != nil {
		return drivers.Description{}, err
	}
	desc := drivers.Description{Platform: "knative"}
	if limit, _, ok, _ := containerMemory(svc); ok {
		desc.MemoryMB = memoryMiB(limit)
	}
	desc.Prewarm = minScale(templateAnnotations(svc))
	st := stateOf(svc)
	if st.LatestReady != "" {
		n, _, err := d.replicas(ctx, st.LatestReady)
		if err != nil {
			return drivers.Description{}, err
		}
		desc.Instances = n
	}
	desc.Ready = st.rolledOut(svc.GetGeneration()) && desc.Instances >= desc.Prewarm
	return desc, nil
}

// Restore implements drivers.Restorer: it puts back the first container's
// memory limit and request and the min-scale (and nonce) annotations as the
// driver first found them, and waits for the rollout. Knative makes that a
// new revision with the old settings; the old revision itself is not
// routed to again.
func (d *Driver) Restore(ctx context.Context) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	o := d.original
	if o == nil {
		return nil
	}
	svc, err := d.update(ctx, func(svc *unstructured.Unstructured) error {
		if err := setContainerMemory(svc, o.limit, o.request, o.hasLimit, o.hasRequest); err != nil {
			return err
		}
		for _, k := range managedAnnotations {
			v, ok := o.annotations[k]
			if err := setTemplateAnnotation(svc, k, v, ok); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	rev, err := d.waitRollout(ctx, svc.GetGeneration())
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	n, err := d.waitReplicas(ctx, rev, "to be ready", func(int) bool { return true })
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	d.gate.follow(rev, n)
	d.original = nil
	return nil
}

// update reads the Service, lets mutate change it and writes it back,
// again on a conflict with another writer (the Knative controller writes
// its status).
func (d *Driver) update(ctx context.Context, mutate func(*unstructured.Unstructured) error) (*unstructured.Unstructured, error) {
	var out *unstructured.Unstructured
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		svc, err := d.get(ctx)
		if err != nil {
			return err
		}
		if err := mutate(svc); err != nil {
			return fmt.Errorf("knative %s: %w", d, err)
		}
		uctx, cancel := context.WithTimeout(ctx, d.cfg.Timeout)
		defer cancel()
		if out, err = d.services.Update(uctx, svc, metav1.UpdateOptions{}); err != nil {
			return fmt.Errorf("knative %s: update services.serving.knative.dev: %w", d, err)
		}
		return nil
	})
	return out, err
}

// waitRollout waits until the Service's generation gen is observed, Ready,
// and served by its latest created revision, which it returns. A revision
// the controller gives up on (Ready=False) ends the wait at once.
func (d *Driver) waitRollout(ctx context.Context, gen int64) (string, error) {
	var rev string
	err := d.wait(ctx, fmt.Sprintf("generation %d to be ready", gen), func(ctx context.Context) (bool, string, error) {
		svc, err := d.get(ctx)
		if err != nil {
			return false, "", err
		}
		st := stateOf(svc)
		if st.failed(gen) {
			return false, "", &finalError{fmt.Errorf("knative %s: revision %s not ready: %s: %s", d, st.Created, st.Reason, st.Message)}
		}
		rev = st.LatestReady
		return st.rolledOut(gen), st.String(), nil
	})
	return rev, err
}

// waitReplicas waits until ok accepts revision rev's actual replicas, and
// returns them. what completes "waiting for revision rev ...".
func (d *Driver) waitReplicas(ctx context.Context, rev, what string, ok func(int) bool) (int, error) {
	var n int
	err := d.wait(ctx, "revision "+rev+" "+what, func(ctx context.Context) (bool, string, error) {
		var known bool
		var err error
		if n, known, err = d.replicas(ctx, rev); err != nil {
			return false, "", err
		}
		if !known {
			return false, "not Ready, or no status.actualReplicas", nil
		}
		return ok(n), fmt.Sprintf("%d actual replicas", n), nil
	})
	return n, err
}

// wait polls check until it says done, within the ready timeout. Errors
// that waiting cannot cure end it at once; others are retried.
func (d *Driver) wait(ctx context.Context, what string, check func(context.Context) (bool, string, error)) error {
	ctx, cancel := context.WithTimeout(ctx, d.cfg.ReadyTimeout)
	defer cancel()
	start := time.Now()
	last := "nothing yet"
	tick := time.NewTicker(d.every())
	defer tick.Stop()
	for {
		done, seen, err := check(ctx)
		switch {
		case err == nil && done:
			return nil
		case err == nil:
			last = seen
		case fatal(err) || isFinal(err):
			return err
		case ctx.Err() == nil:
			last = err.Error()
		}
		select {
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return fmt.Errorf("knative %s: waiting for %s: not done after %v (last seen: %s)", d, what, time.Since(start).Round(time.Millisecond), last)
			}
			return fmt.Errorf("knative %s: waiting for %s: %w", d, what, ctx.Err())
		case <-tick.C:
		}
	}
}

// isFinal tells the driver's own verdicts (a failed revision) from API
// errors worth retrying.
func isFinal(err error) bool {
	var fe *finalError
	return errors.As(err, &fe)
}

// finalError marks an error that ends a wait.
type finalError struct{ error }
