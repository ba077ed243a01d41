package knativefake

import (
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
)

// kubeToken is the bearer token the kubeconfig carries and the API checks.
const kubeToken = "knativefake-token"

// WriteKubeconfig starts (once) a Kubernetes API endpoint for the fake's
// Knative resources on loopback, over TLS with a bearer token as a real
// one, and writes a kubeconfig for it into dir,
// with "default" as the context's namespace. It returns the file's path.
// A scenario can then name the fake by kubeconfig alone, as a real cluster.
//
// The endpoint serves serving.knative.dev/v1 services and revisions in a
// namespace: get, update (and the status subresource), list and watch
// with label selectors, including the watch-list protocol (initial events
// closed by a bookmark) that client-go's informers use; all through the
// fake's client, so injected failures apply.
func (c *Cluster) WriteKubeconfig(dir string) (string, error) {
	c.mu.Lock()
	if c.kube == nil {
		c.kube = httptest.NewTLSServer(c.kubeAPI()) // client-go sends tokens over TLS only
	}
	url := c.kube.URL
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.kube.Certificate().Raw})
	c.mu.Unlock()
	path := filepath.Join(dir, "kubeconfig")
	cfg := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: knativefake
  cluster: {server: %q, certificate-authority-data: %s}
users:
- name: coldbench
  user: {token: %q}
contexts:
- name: knativefake
  context: {cluster: knativefake, user: coldbench, namespace: default}
current-context: knativefake
`, url, base64.StdEncoding.EncodeToString(ca), kubeToken)
	return path, os.WriteFile(path, []byte(cfg), 0o600)
}

func (c *Cluster) kubeAPI() http.Handler {
	mux := http.NewServeMux()
	base := "/apis/serving.knative.dev/v1/namespaces/{ns}/{resource}"
	mux.HandleFunc("GET "+base, c.kubeList)
	mux.HandleFunc("GET "+base+"/{name}", c.kubeGet)
	mux.HandleFunc("PUT "+base+"/{name}", c.kubeUpdate)
	mux.HandleFunc("PUT "+base+"/{name}/status", c.kubeUpdate)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+kubeToken {
			kubeError(w, apierrors.NewUnauthorized("Unauthorized"))
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// resource resolves the {resource} of a path, or answers 404.
func kubeResource(w http.ResponseWriter, r *http.Request) (schema.GroupVersionResource, bool) {
	switch r.PathValue("resource") {
	case "services":
		return services, true
	case "revisions":
		return revisions, true
	}
	kubeError(w, apierrors.NewNotFound(schema.GroupResource{Group: "serving.knative.dev", Resource: r.PathValue("resource")}, ""))
	return schema.GroupVersionResource{}, false
}

func (c *Cluster) kubeGet(w http.ResponseWriter, r *http.Request) {
	gvr, ok := kubeResource(w, r)
	if !ok {
		return
	}
	u, err := c.client.Resource(gvr).Namespace(r.PathValue("ns")).Get(r.Context(), r.PathValue("name"), metav1.GetOptions{})
	kubeReply(w, u, err)
}

// kubeReply answers with obj, or with err when there is one.
func kubeReply(w http.ResponseWriter, obj *unstructured.Unstructured, err error) {
	if err != nil {
		kubeError(w, err)
		return
	}
	kubeJSON(w, http.StatusOK, obj.Object)
}

func (c *Cluster) kubeUpdate(w http.ResponseWriter, r *http.Request) {
	gvr, ok := kubeResource(w, r)
	if !ok {
		return
	}
	var u unstructured.Unstructured
	if err := json.NewDecoder(r.Body).Decode(&u.Object); err != nil {
		kubeError(w, apierrors.NewBadRequest(err.Error()))
		return
	}
	if u.GetName() != r.PathValue("name") {
		kubeError(w, apierrors.NewBadRequest("the name of the object does not match the name on the URL"))
		return
	}
	ri := c.client.Resource(gvr).Namespace(r.PathValue("ns"))
	var out *unstructured.Unstructured
	var err error
	if strings.HasSuffix(r.URL.Path, "/status") {
		out, err = ri.UpdateStatus(r.Context(), &u, metav1.UpdateOptions{})
	} else {
		out, err = ri.Update(r.Context(), &u, metav1.UpdateOptions{})
	}
	kubeReply(w, out, err)
}

// kubeList lists, or with watch=true streams watch events: first, when
// sendInitialEvents asks for them, every current object and a bookmark
// that closes them.
func (c *Cluster) kubeList(w http.ResponseWriter, r *http.Request) {
	gvr, ok := kubeResource(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	sel, err := labels.Parse(q.Get("labelSelector"))
	if err != nil {
		kubeError(w, apierrors.NewBadRequest(err.Error()))
		return
	}
	ri := c.client.Resource(gvr).Namespace(r.PathValue("ns"))
	list, err := ri.List(r.Context(), metav1.ListOptions{})
	if err != nil {
		kubeError(w, err)
		return
	}
	var items []any
	for _, it := range list.Items {
		if sel.Matches(labels.Set(it.GetLabels())) {
			items = append(items, it.Object)
		}
	}
	kind := "Service"
	if gvr == revisions {
		kind = "Revision"
	}
	if watching := q.Get("watch"); watching != "true" && watching != "1" {
		if items == nil {
			items = []any{}
		}
		kubeJSON(w, http.StatusOK, map[string]any{
			"apiVersion": "serving.knative.dev/v1", "kind": kind + "List",
			"metadata": map[string]any{"resourceVersion": list.GetResourceVersion()}, "items": items,
		})
		return
	}

	// Watch from the list's version: the tracker replays what changed
	// since, then streams.
	wi, err := ri.Watch(r.Context(), metav1.ListOptions{ResourceVersion: list.GetResourceVersion()})
	if err != nil {
		kubeError(w, err)
		return
	}
	defer wi.Stop()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	flusher, _ := w.(http.Flusher)
	send := func(typ watch.EventType, obj any) bool {
		b, _ := json.Marshal(map[string]any{"type": typ, "object": obj})
		if _, err := w.Write(append(b, '\n')); err != nil {
			return false
		}
		if flusher != nil {
			flusher.Flush()
		}
		return true
	}
	if initial, _ := strconv.ParseBool(q.Get("sendInitialEvents")); initial {
		for _, it := range items {
			if !send(watch.Added, it) {
				return
			}
		}
		if !send(watch.Bookmark, map[string]any{
			"apiVersion": "serving.knative.dev/v1", "kind": kind,
			"metadata": map[string]any{"resourceVersion": list.GetResourceVersion(), "annotations": map[string]any{metav1.InitialEventsAnnotationKey: "true"}},
		}) {
			return
		}
	}
	for {
		select {
		case <-r.Context().Done():
			return
		case <-c.stop:
			return
		case ev, ok := <-wi.ResultChan():
			if !ok {
				return
			}
			u, isU := ev.Object.(*unstructured.Unstructured)
			if !isU || !sel.Matches(labels.Set(u.GetLabels())) {
				continue
			}
			if !send(ev.Type, u.Object) {
				return
			}
		}
	}
}

// kubeError answers with the error's metav1.Status, as the API server does.
func kubeError(w http.ResponseWriter, err error) {
	var st apierrors.APIStatus
	if !errors.As(err, &st) {
		st = apierrors.NewInternalError(err)
	}
	s := st.Status()
	s.Kind, s.APIVersion = "Status", "v1"
	kubeJSON(w, int(s.Code), s)
}

func kubeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}
