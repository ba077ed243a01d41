// Package knativefake is a fake Knative Serving cluster for tests: client-go's
// fake dynamic client with the API server semantics a controller client
// relies on, a reconciler goroutine that plays the Knative controller and
// autoscaler (revisions per generation, the Ready condition, pods that
// start, scale from zero on a request and scale to zero when idle), and a
// loopback HTTP server as every Service's URL, with ground truth about
// which pod served each request and whether it waited for one to start.
package knativefake

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/fake"
)

var (
	services  = schema.GroupVersionResource{Group: "serving.knative.dev", Version: "v1", Resource: "services"}
	revisions = schema.GroupVersionResource{Group: "serving.knative.dev", Version: "v1", Resource: "revisions"}
)

// Options configure a fake cluster.
type Options struct {
	// ColdStart is how long a pod takes to start: for a new revision and
	// for a scale from zero. Default 50ms.
	ColdStart time.Duration
	// IdleAfter is how long a revision with min-scale 0 keeps its pods
	// without requests before it scales to zero (Knative's stable window
	// plus grace period); 0 never scales to zero.
	IdleAfter time.Duration
}

// Cluster is a running fake. Its methods are safe for concurrent use.
type Cluster struct {
	// URL is the base of every Service's status.url: {URL}/{namespace}/{name}.
	URL string

	opts   Options
	client *fake.FakeDynamicClient
	api    *apiServer
	srv    *httptest.Server
	kube   *httptest.Server // the Kubernetes API, once WriteKubeconfig started it
	stop   chan struct{}
	done   chan struct{}

	mu       sync.Mutex
	revs     map[string]*revision // by namespace/name
	serving  map[string]string    // Service namespace/name → its ready revision's namespace/name
	truth    map[string]Truth     // by X-Request-Id
	requests map[string]int       // by Service namespace/name
}

// Truth is what the fake knows about one request.
type Truth struct {
	Service  string // namespace/name
	Revision string
	Pod      string
	Cold     bool // it waited for a pod to start (a scale from zero)
}

// revision is the controller's and autoscaler's view of one revision.
type revision struct {
	ns, name, service string
	minScale          int
	failed            string // a message when the revision cannot start
	readyAt           time.Time
	ready             bool
	pods              []string
	next, rr          int
	inflight          int
	lastRequest       time.Time
	starting          chan struct{} // closed when a scale from zero is done
}

// New starts a fake cluster.
func New(opts Options) *Cluster {
	if opts.ColdStart <= 0 {
		opts.ColdStart = 50 * time.Millisecond
	}
	scheme := runtime.NewScheme()
	client := fake.NewSimpleDynamicClientWithCustomListKinds(scheme, map[schema.GroupVersionResource]string{
		services:  "ServiceList",
		revisions: "RevisionList",
	})
	c := &Cluster{
		opts:     opts,
		client:   client,
		api:      newAPIServer(client),
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
		revs:     map[string]*revision{},
		serving:  map[string]string{},
		truth:    map[string]Truth{},
		requests: map[string]int{},
	}
	c.srv = httptest.NewServer(c.dataPlane())
	c.URL = c.srv.URL
	go c.reconcile()
	return c
}

// Client is the dynamic client to give the driver.
func (c *Cluster) Client() dynamic.Interface { return c.client }

// Close stops the reconciler and the data plane.
func (c *Cluster) Close() {
	close(c.stop)
	<-c.done
	c.srv.Close()
	c.mu.Lock()
	kube := c.kube
	c.mu.Unlock()
	if kube != nil {
		kube.Close()
	}
}

// FailNext makes the next call of verb ("get", "update", ...) on resource
// ("services", "revisions") fail with err.
func (c *Cluster) FailNext(verb, resource string, err error) { c.api.failNext(verb, resource, err) }

// Service describes a Knative Service to create.
type Service struct {
	Namespace, Name string
	Image           string
	Memory          string // the container's memory limit; empty for none
	MinScale        string // the min-scale annotation; empty for none
	// AtZero scales the first revision to zero once it is ready.
	AtZero bool
}

// CreateService creates a Service and waits for its first revision to be
// ready.
func (c *Cluster) CreateService(ctx context.Context, s Service) error {
	if s.Namespace == "" {
		s.Namespace = "default"
	}
	container := map[string]any{"name": "user-container", "image": s.Image}
	if s.Memory != "" {
		container["resources"] = map[string]any{"limits": map[string]any{"memory": s.Memory}}
	}
	template := map[string]any{"spec": map[string]any{"containers": []any{container}}}
	if s.MinScale != "" {
		template["metadata"] = map[string]any{"annotations": map[string]any{"autoscaling.knative.dev/min-scale": s.MinScale}}
	}
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "serving.knative.dev/v1",
		"kind":       "Service",
		"metadata":   map[string]any{"name": s.Name, "namespace": s.Namespace},
		"spec":       map[string]any{"template": template},
	}}
	if _, err := c.client.Resource(services).Namespace(s.Namespace).Create(ctx, u, metav1.CreateOptions{}); err != nil {
		return err
	}
	key := s.Namespace + "/" + s.Name
	for {
		c.mu.Lock()
		rk, ok := c.serving[key]
		if ok && s.AtZero {
			r := c.revs[rk]
			r.pods = nil
			c.writeRevision(r)
		}
		c.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("service %s not ready: %w", key, ctx.Err())
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// Truth is the ground truth of the request that carried X-Request-Id id.
func (c *Cluster) Truth(id string) (Truth, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t, ok := c.truth[id]
	return t, ok
}

// Requests is how many requests reached the Service namespace/name.
func (c *Cluster) Requests(service string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.requests[service]
}

// Get reads an object as the API has it.
func (c *Cluster) Get(resource, namespace, name string) (*unstructured.Unstructured, error) {
	gvr := services
	if resource == "revisions" {
		gvr = revisions
	}
	obj, err := c.client.Tracker().Get(gvr, namespace, name)
	if err != nil {
		return nil, err
	}
	return obj.(*unstructured.Unstructured).DeepCopy(), nil
}

// reconcile plays the Knative controller and autoscaler until Close.
func (c *Cluster) reconcile() {
	defer close(c.done)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-tick.C:
		}
		list := c.api.list(services, "Service")
		c.mu.Lock()
		for _, svc := range list {
			c.reconcileService(svc)
		}
		c.autoscale(time.Now())
		c.mu.Unlock()
	}
}

// reconcileService creates the revision of a new generation, and once its
// pods have started marks it ready and routes the Service to it. Called
// with mu held.
func (c *Cluster) reconcileService(svc *unstructured.Unstructured) {
	ns, name, gen := svc.GetNamespace(), svc.GetName(), svc.GetGeneration()
	revName := fmt.Sprintf("%s-%05d", name, gen)
	key := ns + "/" + revName
	r, ok := c.revs[key]
	if !ok {
		r = c.createRevision(svc, revName)
		c.revs[key] = r
		c.writeService(svc, gen, revName, c.readyRevision(ns, name), "Unknown", "RevisionMissing", "Configuration is waiting for a Revision to become ready.")
		return
	}
	switch now := time.Now(); {
	case r.ready:
		return
	case r.failed != "":
		c.writeService(svc, gen, revName, c.readyRevision(ns, name), "False", "RevisionFailed", r.failed)
		r.ready = true // reported; nothing more to do
		return
	case now.Before(r.readyAt):
		return
	}
	r.ready = true
	for range max(1, r.minScale) { // Knative's initial scale is 1
		r.addPod()
	}
	r.lastRequest = time.Now()
	c.writeRevision(r)
	svcKey := ns + "/" + name
	if old, ok := c.revs[c.serving[svcKey]]; ok && old != r {
		old.pods = nil // drained once traffic moved
		c.writeRevision(old)
	}
	c.serving[svcKey] = key
	c.writeService(svc, gen, revName, revName, "True", "", "")
}

// readyRevision is the name of the Service's serving revision, or "".
func (c *Cluster) readyRevision(ns, name string) string {
	if k, ok := c.serving[ns+"/"+name]; ok {
		return c.revs[k].name
	}
	return ""
}

func (c *Cluster) createRevision(svc *unstructured.Unstructured, name string) *revision {
	annotations, _, _ := unstructured.NestedStringMap(svc.Object, "spec", "template", "metadata", "annotations")
	spec, _, _ := unstructured.NestedMap(svc.Object, "spec", "template", "spec")
	r := &revision{ns: svc.GetNamespace(), name: name, service: svc.GetName(), readyAt: time.Now().Add(c.opts.ColdStart)}
	r.minScale, _ = strconv.Atoi(annotations["autoscaling.knative.dev/min-scale"])
	if image, _, _ := unstructured.NestedSlice(spec, "containers"); len(image) > 0 {
		if img, _ := image[0].(map[string]any)["image"].(string); strings.Contains(img, "invalid") {
			r.failed = fmt.Sprintf("Revision %q failed with message: Unable to fetch image %q.", name, img)
		}
	}
	obj := map[string]any{
		"apiVersion": "serving.knative.dev/v1",
		"kind":       "Revision",
		"metadata": map[string]any{
			"name":      name,
			"namespace": r.ns,
			"labels":    map[string]any{"serving.knative.dev/service": r.service, "serving.knative.dev/configuration": r.service},
		},
		"spec":   spec,
		"status": map[string]any{"actualReplicas": int64(0), "desiredReplicas": int64(0)},
	}
	if len(annotations) > 0 {
		a := map[string]any{}
		for k, v := range annotations {
			a[k] = v
		}
		obj["metadata"].(map[string]any)["annotations"] = a
	}
	c.api.add(revisions, &unstructured.Unstructured{Object: obj})
	return r
}

// autoscale scales idle revisions without min-scale to zero and keeps
// min-scale pods up. Called with mu held.
func (c *Cluster) autoscale(now time.Time) {
	for _, r := range c.revs {
		switch {
		case !r.ready || r.failed != "" || c.serving[r.ns+"/"+r.service] != r.ns+"/"+r.name:
		case len(r.pods) < r.minScale:
			for len(r.pods) < r.minScale {
				r.addPod()
			}
			c.writeRevision(r)
		case r.minScale == 0 && len(r.pods) > 0 && r.inflight == 0 && c.opts.IdleAfter > 0 && now.Sub(r.lastRequest) > c.opts.IdleAfter:
			r.pods = nil
			c.writeRevision(r)
		}
	}
}

func (r *revision) addPod() {
	r.next++
	r.pods = append(r.pods, fmt.Sprintf("%s-deployment-%d", r.name, r.next))
}

// writeRevision writes a revision's replica counts to its status.
func (c *Cluster) writeRevision(r *revision) {
	n := int64(len(r.pods))
	status := map[string]any{"actualReplicas": n, "desiredReplicas": n}
	if r.ready && r.failed == "" {
		status["conditions"] = []any{map[string]any{"type": "Ready", "status": "True"}}
	}
	c.api.writeStatus(revisions, r.ns, r.name, status)
}

// writeService writes a Service's status.
func (c *Cluster) writeService(svc *unstructured.Unstructured, gen int64, created, ready, readyStatus, reason, msg string) {
	cond := map[string]any{"type": "Ready", "status": readyStatus}
	if reason != "" {
		cond["reason"], cond["message"] = reason, msg
	}
	status := map[string]any{
		"observedGeneration":        gen,
		"latestCreatedRevisionName": created,
		"conditions":                []any{cond},
	}
	if ready != "" {
		status["latestReadyRevisionName"] = ready
		status["url"] = c.URL + "/" + svc.GetNamespace() + "/" + svc.GetName()
		status["traffic"] = []any{map[string]any{"revisionName": ready, "latestRevision": true, "percent": int64(100)}}
	}
	c.api.writeStatus(services, svc.GetNamespace(), svc.GetName(), status)
}
