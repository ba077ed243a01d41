package knativefake

import (
	"errors"
	"strconv"
	"sync"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic/fake"
	k8stesting "k8s.io/client-go/testing"
)

// apiServer gives client-go's fake dynamic client the API server semantics
// a controller client relies on, which its object tracker leaves out:
// metadata.generation bumped on spec changes, resourceVersion bumped on
// every write and checked on update (409 Conflict), status written only
// through the status subresource and spec only through the main resource.
// It also injects failures.
type apiServer struct {
	client *fake.FakeDynamicClient

	mu    sync.Mutex
	rv    int64
	fails []failure
}

type failure struct {
	verb, resource string
	err            error
}

func newAPIServer(client *fake.FakeDynamicClient) *apiServer {
	a := &apiServer{client: client}
	client.PrependReactor("create", "*", a.create)
	client.PrependReactor("update", "*", a.update)
	client.PrependReactor("*", "*", a.fail) // prepended last: runs first
	return a
}

// failNext queues err as the answer to the next call of verb on resource
// ("get", "update", "list", ... on "services" or "revisions").
func (a *apiServer) failNext(verb, resource string, err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.fails = append(a.fails, failure{verb, resource, err})
}

func (a *apiServer) fail(action k8stesting.Action) (bool, runtime.Object, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for i, f := range a.fails {
		if action.Matches(f.verb, f.resource) && action.GetSubresource() == "" {
			a.fails = append(a.fails[:i], a.fails[i+1:]...)
			return true, nil, f.err
		}
	}
	return false, nil, nil
}

func (a *apiServer) nextRV() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.rv++
	return strconv.FormatInt(a.rv, 10)
}

func (a *apiServer) create(action k8stesting.Action) (bool, runtime.Object, error) {
	ca := action.(k8stesting.CreateAction)
	obj, ok := ca.GetObject().(*unstructured.Unstructured)
	if !ok {
		return false, nil, nil
	}
	obj = obj.DeepCopy()
	obj.SetGeneration(1)
	obj.SetResourceVersion(a.nextRV())
	if err := a.client.Tracker().Create(ca.GetResource(), obj, ca.GetNamespace()); err != nil {
		return true, nil, err
	}
	return true, obj, nil
}

func (a *apiServer) update(action k8stesting.Action) (bool, runtime.Object, error) {
	ua := action.(k8stesting.UpdateAction)
	obj, ok := ua.GetObject().(*unstructured.Unstructured)
	if !ok {
		return false, nil, nil
	}
	gvr, ns := ua.GetResource(), ua.GetNamespace()
	cur, err := a.client.Tracker().Get(gvr, ns, obj.GetName())
	if err != nil {
		return true, nil, err
	}
	old := cur.(*unstructured.Unstructured)
	if rv := obj.GetResourceVersion(); rv != "" && rv != old.GetResourceVersion() {
		return true, nil, apierrors.NewConflict(gvr.GroupResource(), obj.GetName(),
			errors.New("the object has been modified; please apply your changes to the latest version and try again"))
	}
	next := obj.DeepCopy()
	if ua.GetSubresource() == "status" {
		next.Object["spec"] = old.Object["spec"]
		next.Object["metadata"] = old.DeepCopy().Object["metadata"]
	} else {
		if st, ok := old.Object["status"]; ok {
			next.Object["status"] = st
		} else {
			delete(next.Object, "status")
		}
		next.SetGeneration(old.GetGeneration())
		if !equality.Semantic.DeepEqual(next.Object["spec"], old.Object["spec"]) {
			next.SetGeneration(old.GetGeneration() + 1)
		}
	}
	next.SetResourceVersion(a.nextRV())
	if err := a.client.Tracker().Update(gvr, next, ns); err != nil {
		return true, nil, err
	}
	return true, next.DeepCopy(), nil
}

// The controller's own access, straight to the tracker with the same
// semantics, so that injected failures only ever hit the driver.

// list lists every object of gvr, whose kind is kind.
func (a *apiServer) list(gvr schema.GroupVersionResource, kind string) []*unstructured.Unstructured {
	obj, err := a.client.Tracker().List(gvr, gvr.GroupVersion().WithKind(kind), "")
	if err != nil {
		return nil
	}
	l, ok := obj.(*unstructured.UnstructuredList)
	if !ok {
		return nil
	}
	out := make([]*unstructured.Unstructured, len(l.Items))
	for i := range l.Items {
		out[i] = &l.Items[i]
	}
	return out
}

// add creates obj as the API server would.
func (a *apiServer) add(gvr schema.GroupVersionResource, obj *unstructured.Unstructured) {
	obj.SetGeneration(1)
	obj.SetResourceVersion(a.nextRV())
	a.client.Tracker().Create(gvr, obj, obj.GetNamespace())
}

// writeStatus replaces an object's status, as an update of the status
// subresource does.
func (a *apiServer) writeStatus(gvr schema.GroupVersionResource, ns, name string, status map[string]any) {
	cur, err := a.client.Tracker().Get(gvr, ns, name)
	if err != nil {
		return
	}
	u := cur.(*unstructured.Unstructured).DeepCopy()
	u.Object["status"] = status
	u.SetResourceVersion(a.nextRV())
	a.client.Tracker().Update(gvr, u, ns)
}
