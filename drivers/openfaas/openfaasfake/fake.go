package openfaasfake

import (
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Options configure a fake gateway.
type Options struct {
	// Username and Password protect /system/* with basic auth, as the
	// gateway's basic_auth does; empty leaves it open.
	Username, Password string
	// Namespace is the default function namespace; "openfaas-fn" if empty.
	Namespace string
	// ColdStart is how long a new replica takes to become available.
	ColdStart time.Duration
	// CE refuses to scale a function to zero, as OpenFaaS CE does.
	CE bool
}

// Gateway is a running fake gateway. Its methods are safe for concurrent
// use.
type Gateway struct {
	// URL is the gateway's base URL, such as http://127.0.0.1:41234.
	URL string

	srv  *httptest.Server
	opts Options

	mu    sync.Mutex
	fns   map[string]*function // by name.namespace
	fails []failure
	calls []string
	truth map[string]Truth // by X-Request-Id
}

type failure struct {
	method, path string
	status       int
	msg          string
}

// New starts a fake gateway on 127.0.0.1.
func New(opts Options) *Gateway {
	if opts.Namespace == "" {
		opts.Namespace = "openfaas-fn"
	}
	g := &Gateway{opts: opts, fns: map[string]*function{}, truth: map[string]Truth{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /system/functions", g.system(g.list))
	mux.HandleFunc("POST /system/functions", g.system(g.deploy))
	mux.HandleFunc("PUT /system/functions", g.system(g.update))
	mux.HandleFunc("GET /system/function/{name}", g.system(g.get))
	mux.HandleFunc("POST /system/scale-function/{name}", g.system(g.scaleFunction))
	mux.HandleFunc("/function/{fn}", g.invoke)
	mux.HandleFunc("/function/{fn}/{rest...}", g.invoke)
	g.srv = httptest.NewServer(mux)
	g.URL = g.srv.URL
	return g
}

// Close stops the gateway.
func (g *Gateway) Close() { g.srv.Close() }

// Deploy adds (or replaces) a function with replicas already available.
func (g *Gateway) Deploy(d FunctionDeployment, replicas int) {
	if d.Namespace == "" {
		d.Namespace = g.opts.Namespace
	}
	now := time.Now()
	f := &function{spec: d, created: now}
	for range replicas {
		f.newReplica(now)
	}
	f.desired = replicas
	g.mu.Lock()
	g.fns[d.Service+"."+d.Namespace] = f
	g.mu.Unlock()
}

// Status is the function's status as the API reports it; ok is false for
// an unknown function.
func (g *Gateway) Status(name string) (s FunctionStatus, ok bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	f, ok := g.fns[g.key(name, "")]
	if !ok {
		return FunctionStatus{}, false
	}
	b, _ := json.Marshal(f.status(time.Now())) // a deep copy
	json.Unmarshal(b, &s)
	return s, true
}

// Invocations is how many invocations reached the function.
func (g *Gateway) Invocations(name string) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	if f, ok := g.fns[g.key(name, "")]; ok {
		return f.invocations
	}
	return 0
}

// TruthByID is the ground truth of the invocation that carried the
// X-Request-Id header id.
func (g *Gateway) TruthByID(id string) (Truth, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	t, ok := g.truth[id]
	return t, ok
}

// FailNext makes the next /system call with this method and path answer
// status with msg instead, after authentication. Failures queue up.
func (g *Gateway) FailNext(method, path string, status int, msg string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.fails = append(g.fails, failure{method, path, status, msg})
}

// key resolves name.namespace, the default namespace filling in.
func (g *Gateway) key(name, ns string) string {
	if i := strings.IndexByte(name, '.'); i >= 0 {
		name, ns = name[:i], name[i+1:]
	}
	if ns == "" {
		ns = g.opts.Namespace
	}
	return name + "." + ns
}

// system wraps a /system handler with basic auth, the call log and
// injected failures.
func (g *Gateway) system(h func(w http.ResponseWriter, r *http.Request)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if g.opts.Username != "" || g.opts.Password != "" {
			u, p, ok := r.BasicAuth()
			if !ok || subtle.ConstantTimeCompare([]byte(u), []byte(g.opts.Username)) != 1 ||
				subtle.ConstantTimeCompare([]byte(p), []byte(g.opts.Password)) != 1 {
				w.Header().Set("WWW-Authenticate", `Basic realm="Restricted"`)
				http.Error(w, "Unauthorized", http.StatusUnauthorized)
				return
			}
		}
		g.mu.Lock()
		g.calls = append(g.calls, r.Method+" "+r.URL.Path)
		for i, f := range g.fails {
			if f.method == r.Method && f.path == r.URL.Path {
				g.fails = append(g.fails[:i], g.fails[i+1:]...)
				g.mu.Unlock()
				http.Error(w, f.msg, f.status)
				return
			}
		}
		g.mu.Unlock()
		h(w, r)
	}
}

func (g *Gateway) list(w http.ResponseWriter, r *http.Request) {
	ns := r.URL.Query().Get("namespace")
	if ns == "" {
		ns = g.opts.Namespace
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	out := []FunctionStatus{}
	now := time.Now()
	for _, f := range g.fns {
		if f.spec.Namespace == ns {
			out = append(out, f.status(now))
		}
	}
	writeJSON(w, out)
}

func (g *Gateway) get(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	defer g.mu.Unlock()
	f, ok := g.fns[g.key(r.PathValue("name"), r.URL.Query().Get("namespace"))]
	if !ok {
		http.Error(w, "Not Found", http.StatusNotFound)
		return
	}
	writeJSON(w, f.status(time.Now()))
}

func (g *Gateway) deploy(w http.ResponseWriter, r *http.Request) {
	var d FunctionDeployment
	if err := json.NewDecoder(r.Body).Decode(&d); err != nil || d.Service == "" || d.Image == "" {
		http.Error(w, fmt.Sprintf("validation failed: service and image are required (%v)", err), http.StatusBadRequest)
		return
	}
	replicas := 1
	if d.Labels != nil {
		if n, err := strconv.Atoi((*d.Labels)["com.openfaas.scale.min"]); err == nil && n > 0 {
			replicas = n
		}
	}
	g.Deploy(d, replicas)
	w.WriteHeader(http.StatusAccepted)
}

// update replaces a function's spec, like faas-netes: the min-scale label
// sets the replica count, and every replica is rolled.
func (g *Gateway) update(w http.ResponseWriter, r *http.Request) {
	var d FunctionDeployment
	if err := json.NewDecoder(r.Body).Decode(&d); err != nil {
		http.Error(w, "unable to unmarshal request: "+err.Error(), http.StatusBadRequest)
		return
	}
	if d.Service == "" || d.Image == "" {
		http.Error(w, "validation failed: service and image are required", http.StatusBadRequest)
		return
	}
	key := g.key(d.Service, d.Namespace)
	g.mu.Lock()
	defer g.mu.Unlock()
	f, ok := g.fns[key]
	if !ok {
		http.Error(w, fmt.Sprintf("unable update Deployment: %s, error: deployments.apps %q not found", key, d.Service), http.StatusNotFound)
		return
	}
	d.Namespace = f.spec.Namespace
	f.spec = d
	if n := f.minScale(); n > 0 {
		f.desired = n
	}
	f.roll(time.Now(), g.opts.ColdStart)
	w.WriteHeader(http.StatusAccepted)
}

func (g *Gateway) scaleFunction(w http.ResponseWriter, r *http.Request) {
	var req ScaleServiceRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		http.Error(w, "Cannot parse request. Please pass valid JSON.", http.StatusBadRequest)
		return
	}
	if req.Replicas == 0 && g.opts.CE {
		http.Error(w, "replicas cannot be set to 0 in OpenFaaS CE", http.StatusBadRequest)
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	name := r.PathValue("name")
	f, ok := g.fns[g.key(name, r.URL.Query().Get("namespace"))]
	if !ok {
		http.Error(w, "Unable to lookup function deployment "+name, http.StatusNotFound)
		return
	}
	f.scale(int(req.Replicas), time.Now(), g.opts.ColdStart)
	w.WriteHeader(http.StatusAccepted)
}

// invoke serves /function/{name}[.{namespace}]: it waits for an available
// replica, scaling from zero when there is none, and answers with the
// request body, the replica that served it and whether it was cold.
func (g *Gateway) invoke(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	key := g.key(r.PathValue("fn"), "")
	cold := false
	var served *replica
	for served == nil {
		g.mu.Lock()
		f, ok := g.fns[key]
		if !ok {
			g.mu.Unlock()
			http.Error(w, "error finding function "+key+": not found", http.StatusNotFound)
			return
		}
		now := time.Now()
		if avail := f.available(now); len(avail) > 0 {
			f.rr++
			served = avail[f.rr%len(avail)]
			f.invocations++
			g.mu.Unlock()
			break
		}
		// Scale from zero: hold the request until a replica is up.
		cold = true
		if f.desired == 0 {
			f.scale(1, now, g.opts.ColdStart)
		}
		wait := time.Millisecond
		for _, rep := range f.replicas {
			if rep.live() && rep.readyAt.After(now) {
				wait = max(wait, rep.readyAt.Sub(now))
				break
			}
		}
		g.mu.Unlock()
		select {
		case <-r.Context().Done():
			return
		case <-time.After(wait):
		}
	}
	if id := r.Header.Get("X-Request-Id"); id != "" {
		g.mu.Lock()
		g.truth[id] = Truth{Function: key, Replica: served.id, Cold: cold}
		g.mu.Unlock()
	}
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	h := w.Header()
	h.Set("X-Fake-Replica", served.id)
	h.Set("X-Fake-Cold", strconv.FormatBool(cold))
	h.Set("X-Duration-Seconds", strconv.FormatFloat(time.Since(start).Seconds(), 'f', 6, 64))
	h.Set("Content-Type", "text/plain")
	if len(body) == 0 {
		body = []byte("ok")
	}
	w.Write(body)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}
