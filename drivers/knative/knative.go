// Package knative is the driver for a Knative Service. It invokes the
// Service at its URL with the http driver, and through client-go's dynamic
// client on serving.knative.dev/v1 sets the container's memory and the
// autoscaling.knative.dev/min-scale annotation, waits for rollouts on the
// Service's Ready condition, forces cold starts by waiting for the serving
// revision to scale to zero (or rolling a new revision when min-scale keeps
// pods), describes the Service, and puts its settings back afterwards.
//
// Knative sets no cold-start header. The driver watches the serving
// revision's status.actualReplicas instead: a request that starts while it
// is 0 waits for the activator's scale from zero and is reported cold with
// the platform as the source (see revisionGate). Without permission to
// watch revisions the temperature is left unknown and the engine infers it.
package knative

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/coldbench/coldbench/drivers"
	httpdriver "github.com/coldbench/coldbench/drivers/http"
)

func init() {
	drivers.RegisterConfig("knative", DefaultConfig, Open)
}

// Driver invokes one Knative Service and controls it through the
// Kubernetes API.
type Driver struct {
	*httpdriver.Driver
	cfg       Config
	ns, name  string
	services  dynamic.ResourceInterface
	revisions dynamic.ResourceInterface
	gate      revisionGate

	store     cache.Store // revisions of the Service, kept by an informer; nil without a watch
	stopWatch func()

	mu       sync.Mutex // serialises Configure, ForceCold and Restore
	original *original  // the Service as the first change found it; nil when nothing changed
}

var _ drivers.Manager = (*Driver)(nil)

// Open reads the Service, starts a watch on its revisions (when allowed)
// and a driver that invokes it at its URL.
func Open(ctx context.Context, cfg *Config) (*Driver, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	client, ns, err := cfg.client()
	if err != nil {
		return nil, err
	}
	d := &Driver{
		cfg:       *cfg,
		ns:        ns,
		name:      cfg.Service,
		services:  client.Resource(ServicesResource).Namespace(ns),
		revisions: client.Resource(RevisionsResource).Namespace(ns),
		stopWatch: func() {},
	}
	svc, err := d.get(ctx)
	if err != nil {
		return nil, err
	}
	st := stateOf(svc)
	target := cfg.URL
	if target == "" {
		if target = st.URL; target == "" {
			return nil, fmt.Errorf("knative %s: the Service has no status.url yet (%s); set url to invoke it elsewhere", d, st)
		}
	}
	hc, err := cfg.HTTP(target)
	if err != nil {
		return nil, err
	}
	if d.Driver, err = httpdriver.New(hc); err != nil {
		return nil, err
	}
	if err := d.watch(ctx, client); err == nil && st.LatestReady != "" {
		if n, ok := d.storeReplicas(st.LatestReady); ok {
			d.gate.follow(st.LatestReady, n) // a fresh list: 0 means at zero
		}
	}
	return d, nil
}

// client makes the dynamic client and resolves the namespace.
func (c *Config) client() (dynamic.Interface, string, error) {
	if c.Client != nil {
		ns := c.Namespace
		if ns == "" {
			ns = "default"
		}
		return c.Client, ns, nil
	}
	rules := clientcmd.NewDefaultClientConfigLoadingRules() // $KUBECONFIG, ~/.kube/config
	if c.Kubeconfig != "" {
		rules.ExplicitPath = c.Kubeconfig
	}
	kc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: c.Context})
	rc, err := kc.ClientConfig() // falls back to the in-cluster config
	if err != nil {
		return nil, "", fmt.Errorf("knative: kubeconfig: %w", err)
	}
	ns := c.Namespace
	if ns == "" {
		if ns, _, err = kc.Namespace(); err != nil || ns == "" {
			ns = "default"
		}
	}
	rc.UserAgent = "coldbench"
	dc, err := dynamic.NewForConfig(rc)
	if err != nil {
		return nil, "", fmt.Errorf("knative: client: %w", err)
	}
	return dc, ns, nil
}

// watch starts an informer on the Service's revisions and waits for its
// first list. A list the API refuses leaves the driver without a watch.
func (d *Driver) watch(ctx context.Context, client dynamic.Interface) error {
	selector := LabelService + "=" + d.name
	lctx, cancel := context.WithTimeout(ctx, d.cfg.Timeout)
	defer cancel()
	if _, err := d.revisions.List(lctx, metav1.ListOptions{LabelSelector: selector, Limit: 1}); err != nil {
		return err
	}
	factory := dynamicinformer.NewFilteredDynamicSharedInformerFactory(client, 0, d.ns, func(o *metav1.ListOptions) {
		o.LabelSelector = selector
	})
	inf := factory.ForResource(RevisionsResource).Informer()
	if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    d.onRevision,
		UpdateFunc: func(_, obj any) { d.onRevision(obj) },
	}); err != nil {
		return err
	}
	stop := make(chan struct{})
	factory.Start(stop)
	d.stopWatch = func() {
		close(stop)
		factory.Shutdown()
	}
	if !cache.WaitForCacheSync(lctx.Done(), inf.HasSynced) {
		d.stopWatch()
		d.stopWatch = func() {}
		return errors.New("revisions watch did not sync")
	}
	d.store = inf.GetStore()
	return nil
}

// onRevision feeds the gate the newest count of the revision it follows,
// read from the store rather than the event.
func (d *Driver) onRevision(obj any) {
	u, ok := obj.(*unstructured.Unstructured)
	if !ok {
		return
	}
	if rev := d.gate.revision(); u.GetName() == rev && d.store != nil {
		if n, ok := d.storeReplicas(rev); ok {
			d.gate.observe(rev, n)
		}
	}
}

func (d *Driver) storeReplicas(rev string) (int, bool) {
	obj, exists, err := d.store.GetByKey(d.ns + "/" + rev)
	if err != nil || !exists {
		return 0, false
	}
	u, ok := obj.(*unstructured.Unstructured)
	if !ok {
		return 0, false
	}
	return actualReplicas(u)
}

// replicas reads rev's actual replica count: from the watch's store when
// there is one, else from the API.
func (d *Driver) replicas(ctx context.Context, rev string) (int, bool, error) {
	if d.store != nil {
		n, ok := d.storeReplicas(rev)
		return n, ok, nil
	}
	ctx, cancel := context.WithTimeout(ctx, d.cfg.Timeout)
	defer cancel()
	u, err := d.revisions.Get(ctx, rev, metav1.GetOptions{})
	if err != nil {
		return 0, false, fmt.Errorf("knative %s: get revisions.serving.knative.dev %s: %w", d, rev, err)
	}
	n, ok := actualReplicas(u)
	return n, ok, nil
}

// Invoke implements drivers.Driver: the gate decides the temperature
// (drivers.ReplicaGate.Invoke).
func (d *Driver) Invoke(ctx context.Context, c *drivers.Call) error {
	return d.gate.Invoke(ctx, d.Driver, c)
}

// get reads the Service.
func (d *Driver) get(ctx context.Context) (*unstructured.Unstructured, error) {
	ctx, cancel := context.WithTimeout(ctx, d.cfg.Timeout)
	defer cancel()
	svc, err := d.services.Get(ctx, d.name, metav1.GetOptions{})
	if err != nil {
		return nil, fmt.Errorf("knative %s: get services.serving.knative.dev: %w", d, err)
	}
	return svc, nil
}

// fatal reports whether an API error will not go away by waiting.
func fatal(err error) bool {
	return apierrors.IsForbidden(err) || apierrors.IsUnauthorized(err) || apierrors.IsNotFound(err) || apierrors.IsBadRequest(err) || apierrors.IsInvalid(err)
}

// String names the Service as namespace/name, for messages.
func (d *Driver) String() string { return d.ns + "/" + d.name }

// Close stops the watch and the http driver.
func (d *Driver) Close() error {
	d.stopWatch()
	if d.Driver == nil {
		return nil
	}
	return d.Driver.Close()
}

// every returns the poll interval of waits.
func (d *Driver) every() time.Duration { return d.cfg.PollInterval }
