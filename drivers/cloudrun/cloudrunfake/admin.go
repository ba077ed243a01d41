package cloudrunfake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// svc is one service: its resource as the API returns it, its rollout
// and its instances.
type svc struct {
	name      string         // short name
	res       map[string]any // google.cloud.run.v2.Service, JSON
	gen       int64
	revisions int
	serving   string // short name of the serving revision
	pending   *rollout
	instances []*instance
	requests  int
}

// rollout is a revision on its way to ready.
type rollout struct {
	rev     string
	readyAt time.Time
	op      *op
	fail    string
}

// op is a google.longrunning.Operation.
type op struct {
	name     string
	done     bool
	metadata map[string]any
	response map[string]any
	err      map[string]any
}

func (o *op) json() map[string]any {
	m := map[string]any{"name": o.name, "metadata": o.metadata, "done": o.done}
	switch {
	case o.err != nil:
		m["error"] = o.err
	case o.response != nil:
		m["response"] = o.response
	}
	return m
}

const serviceType = "type.googleapis.com/google.cloud.run.v2.Service"

// Service describes a service to create.
type Service struct {
	Name         string
	Image        string
	Memory, CPU  string // limits; Cloud Run's defaults (512Mi, 1000m) if empty
	MinInstances int
	// Concurrency is the maximum concurrent requests per instance; 80 if 0.
	Concurrency int
}

// CreateService creates a service with its first revision ready and no
// instances beyond MinInstances.
func (f *Fake) CreateService(spec Service) {
	if spec.Memory == "" {
		spec.Memory = "512Mi"
	}
	if spec.CPU == "" {
		spec.CPU = "1000m"
	}
	if spec.Concurrency <= 0 {
		spec.Concurrency = 80
	}
	scaling := map[string]any{"maxInstanceCount": 100}
	if spec.MinInstances > 0 {
		scaling["minInstanceCount"] = spec.MinInstances
	}
	now := time.Now().UTC().Format(time.RFC3339Nano)
	uri := f.URL + "/run/" + spec.Name
	s := &svc{name: spec.Name, gen: 1}
	s.res = deepCopy(map[string]any{
		"name":         f.parent() + "services/" + spec.Name,
		"uid":          fmt.Sprintf("0b6c1d2e-0000-4000-8000-%012d", len(spec.Name)),
		"generation":   "1",
		"createTime":   now,
		"updateTime":   now,
		"creator":      clientEmail,
		"lastModifier": clientEmail,
		"ingress":      "INGRESS_TRAFFIC_ALL",
		"launchStage":  "GA",
		"template": map[string]any{
			"scaling":        scaling,
			"timeout":        "300s",
			"serviceAccount": "123456789012-compute@developer.gserviceaccount.com",
			"containers": []any{map[string]any{
				"image":     spec.Image,
				"resources": map[string]any{"limits": map[string]any{"cpu": spec.CPU, "memory": spec.Memory}, "cpuIdle": true, "startupCpuBoost": true},
				"ports":     []any{map[string]any{"name": "http1", "containerPort": 8080}},
			}},
			"maxInstanceRequestConcurrency": spec.Concurrency,
		},
		"traffic": []any{map[string]any{"type": "TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST", "percent": 100}},
		"uri":     uri,
		"urls":    []any{uri},
	}).(map[string]any)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.services[spec.Name] = s
	rev := f.newRevision(s)
	f.setReady(s, rev, time.Now())
}

func (f *Fake) parent() string {
	return "projects/" + f.opts.Project + "/locations/" + f.opts.Region + "/"
}

// newRevision names the next revision and records it as created.
func (f *Fake) newRevision(s *svc) string {
	s.revisions++
	rev := fmt.Sprintf("%s-%05d-%s", s.name, s.revisions, strconv.FormatInt(int64(s.revisions*7919%46656), 36))
	s.res["latestCreatedRevision"] = f.parent() + "services/" + s.name + "/revisions/" + rev
	s.res["etag"] = fmt.Sprintf(`"%d"`, s.gen)
	return rev
}

// setReady makes rev the serving revision: its instances replace the old
// ones, the minimum instances started.
func (f *Fake) setReady(s *svc, rev string, now time.Time) {
	s.serving = rev
	s.res["latestReadyRevision"] = f.parent() + "services/" + s.name + "/revisions/" + rev
	s.res["observedGeneration"] = strconv.FormatInt(s.gen, 10)
	s.res["reconciling"] = false
	f.condition(s, "CONDITION_SUCCEEDED", "")
	s.res["trafficStatuses"] = []any{map[string]any{"type": "TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST", "percent": 100}}
	var kept []*instance
	for _, in := range s.instances {
		if in.busy > 0 {
			in.retired = true // finishes its requests, then goes
			kept = append(kept, in)
		}
	}
	s.instances = kept
	for range minInstances(s.res) {
		s.instances = append(s.instances, f.newInstance(s, now))
	}
}

func (f *Fake) condition(s *svc, state, msg string) {
	c := map[string]any{"type": "Ready", "state": state, "lastTransitionTime": time.Now().UTC().Format(time.RFC3339Nano)}
	if msg != "" {
		c["message"] = msg
	}
	s.res["terminalCondition"] = c
}

func minInstances(res map[string]any) int {
	t, _ := res["template"].(map[string]any)
	sc, _ := t["scaling"].(map[string]any)
	n, _ := sc["minInstanceCount"].(float64)
	return int(n)
}

// advance completes a rollout whose time has come. Called with mu held.
func (f *Fake) advance(s *svc, now time.Time) {
	p := s.pending
	if p == nil || now.Before(p.readyAt) {
		return
	}
	s.pending = nil
	if p.fail != "" {
		s.res["reconciling"] = false
		s.res["observedGeneration"] = strconv.FormatInt(s.gen, 10)
		msg := fmt.Sprintf("Revision '%s' is not ready and cannot serve traffic. %s", p.rev, p.fail)
		f.condition(s, "CONDITION_FAILED", msg)
		p.op.done, p.op.err = true, map[string]any{"code": 9, "message": msg}
		return
	}
	f.setReady(s, p.rev, now)
	p.op.done = true
	p.op.response = withType(s.res)
}

func withType(res map[string]any) map[string]any {
	m := deepCopy(res).(map[string]any)
	m["@type"] = serviceType
	return m
}

// admin wraps an Admin API handler: the access token, the call log, the
// project and location, injected failures.
func (f *Fake) admin(h func(w http.ResponseWriter, r *http.Request)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !f.authorized(r, "") {
			rpcError(w, http.StatusUnauthorized, "UNAUTHENTICATED", "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.")
			return
		}
		f.mu.Lock()
		f.calls = append(f.calls, r.Method+" "+r.URL.Path)
		for i, fl := range f.fails {
			if fl.method == r.Method && strings.HasSuffix(r.URL.Path, fl.path) {
				f.fails = append(f.fails[:i], f.fails[i+1:]...)
				f.mu.Unlock()
				rpcError(w, fl.code, fl.status, fl.msg)
				return
			}
		}
		f.mu.Unlock()
		if r.PathValue("project") != f.opts.Project || r.PathValue("location") != f.opts.Region {
			rpcError(w, http.StatusNotFound, "NOT_FOUND", fmt.Sprintf("Location %s in project %s is not served by this fake.", r.PathValue("location"), r.PathValue("project")))
			return
		}
		h(w, r)
	}
}

// lookup finds the service of a request, or answers 404.
func (f *Fake) lookup(w http.ResponseWriter, r *http.Request) *svc {
	s, ok := f.services[r.PathValue("service")]
	if !ok {
		rpcError(w, http.StatusNotFound, "NOT_FOUND", fmt.Sprintf("Resource '%s' of kind 'SERVICE' in region '%s' in project '%s' does not exist.",
			r.PathValue("service"), f.opts.Region, f.opts.Project))
	}
	return s
}

func (f *Fake) getService(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if s := f.lookup(w, r); s != nil {
		f.advance(s, time.Now())
		writeJSON(w, s.res)
	}
}

// updatable are the update mask paths the fake applies.
var updatable = map[string]bool{
	"template.containers": true, "template.scaling": true, "template.scaling.minInstanceCount": true,
	"template.scaling.maxInstanceCount": true, "template.annotations": true, "template.labels": true,
}

// patchService applies the fields named by updateMask from the body; a
// changed template is a new generation and revision, rolled out by an
// operation.
func (f *Fake) patchService(w http.ResponseWriter, r *http.Request) {
	var body map[string]any
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		rpcError(w, http.StatusBadRequest, "INVALID_ARGUMENT", "Invalid JSON payload received. "+err.Error())
		return
	}
	mask := r.URL.Query().Get("updateMask")
	if mask == "" {
		rpcError(w, http.StatusBadRequest, "INVALID_ARGUMENT", "this fake needs an update_mask")
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.lookup(w, r)
	if s == nil {
		return
	}
	now := time.Now()
	f.advance(s, now)
	old := s.res["template"]
	tmpl := deepCopy(old).(map[string]any)
	for _, path := range strings.Split(mask, ",") {
		if !updatable[path] {
			rpcError(w, http.StatusBadRequest, "INVALID_ARGUMENT", fmt.Sprintf("Invalid field mask path %q.", path))
			return
		}
		setPath(tmpl, strings.Split(strings.TrimPrefix(path, "template."), "."), getPath(body, strings.Split(path, ".")))
	}
	if msg := validate(tmpl); msg != "" {
		rpcError(w, http.StatusBadRequest, "INVALID_ARGUMENT", msg)
		return
	}
	f.nextID++
	o := &op{name: fmt.Sprintf("%soperations/%08x-0000-4000-8000-%012d", f.parent(), f.nextID, f.nextID)}
	if reflect.DeepEqual(tmpl, old) {
		o.done, o.response = true, withType(s.res)
	} else {
		if s.pending != nil { // superseded
			s.pending.op.done, s.pending.op.err = true, map[string]any{"code": 10, "message": "superseded by a newer update"}
		}
		s.res["template"] = tmpl
		s.gen++
		s.res["generation"] = strconv.FormatInt(s.gen, 10)
		s.res["updateTime"] = now.UTC().Format(time.RFC3339Nano)
		s.res["reconciling"] = true
		f.condition(s, "CONDITION_RECONCILING", "")
		rev := f.newRevision(s)
		s.pending = &rollout{rev: rev, readyAt: now.Add(f.opts.Rollout), op: o, fail: f.failOp}
		f.failOp = ""
	}
	o.metadata = withType(s.res)
	f.ops[o.name] = o
	writeJSON(w, o.json())
}

func (f *Fake) getOperation(w http.ResponseWriter, r *http.Request) {
	name := f.parent() + "operations/" + r.PathValue("operation")
	f.mu.Lock()
	defer f.mu.Unlock()
	o, ok := f.ops[name]
	if !ok {
		rpcError(w, http.StatusNotFound, "NOT_FOUND", "Operation "+name+" not found.")
		return
	}
	for _, s := range f.services {
		f.advance(s, time.Now())
	}
	writeJSON(w, o.json())
}

// validate checks a template as Cloud Run does: a container with an image,
// and memory and CPU limits that go together.
func validate(t map[string]any) string {
	cs, _ := t["containers"].([]any)
	if len(cs) == 0 {
		return "template.containers: at least one container is required."
	}
	c, _ := cs[0].(map[string]any)
	if img, _ := c["image"].(string); img == "" {
		return "template.containers[0].image: an image is required."
	}
	res, _ := c["resources"].(map[string]any)
	limits, _ := res["limits"].(map[string]any)
	mem, cpu := 512, 1000
	if m, ok := limits["memory"].(string); ok {
		mem = mebibytes(m)
	}
	if v, ok := limits["cpu"].(string); ok {
		cpu = millicores(v)
	}
	switch {
	case mem < 128 || mem > 32<<10:
		return "template.containers[0].resources.limits.memory: Invalid value specified for memory. Memory must be between 128Mi and 32Gi."
	case mem > 512 && cpu < 500, mem > 1<<10 && cpu < 1000, mem > 4<<10 && cpu < 2000, mem > 8<<10 && cpu < 4000, mem > 16<<10 && cpu < 6000, mem > 24<<10 && cpu < 8000:
		return fmt.Sprintf("template.containers[0].resources.limits.memory: Invalid value specified for memory. %dMi requires more than %s CPU.", mem, limits["cpu"])
	case cpu >= 4000 && mem < 2<<10, cpu >= 6000 && mem < 4<<10:
		return fmt.Sprintf("template.containers[0].resources.limits.cpu: Invalid value specified for cpu. %s CPU requires more memory than %dMi.", limits["cpu"], mem)
	}
	return ""
}

// mebibytes reads "512Mi", "1Gi", "1G" or "1000M"; 0 when unreadable.
func mebibytes(s string) int {
	for suffix, mul := range map[string]float64{"Mi": 1, "Gi": 1024, "M": 1e6 / (1 << 20), "G": 1e9 / (1 << 20)} {
		if v, ok := strings.CutSuffix(s, suffix); ok {
			if n, err := strconv.ParseFloat(v, 64); err == nil && !strings.HasSuffix(v, "i") {
				return int(n*mul + 0.5)
			}
		}
	}
	return 0
}

// millicores reads "1", "2", "1000m" or "0.5".
func millicores(s string) int {
	if v, ok := strings.CutSuffix(s, "m"); ok {
		n, _ := strconv.Atoi(v)
		return n
	}
	f, _ := strconv.ParseFloat(s, 64)
	return int(f*1000 + 0.5)
}

// getPath reads a dotted path from a JSON object; nil when absent.
func getPath(m map[string]any, path []string) any {
	var v any = m
	for _, k := range path {
		o, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = o[k]
	}
	return v
}

// setPath writes (or, for a proto3 default value, removes) a dotted path
// in a JSON object.
func setPath(m map[string]any, path []string, v any) {
	for _, k := range path[:len(path)-1] {
		next, ok := m[k].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[k] = next
		}
		m = next
	}
	last := path[len(path)-1]
	if isDefault(v) {
		delete(m, last) // proto3 JSON leaves default values out
		return
	}
	m[last] = deepCopy(v)
}

// isDefault reports whether v is a proto3 default: absent, zero, empty.
func isDefault(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case float64:
		return x == 0
	case string:
		return x == ""
	case bool:
		return !x
	case map[string]any:
		return len(x) == 0
	case []any:
		return len(x) == 0
	}
	return false
}
