package lambdafake

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"strconv"
	"time"
)

// config is the part of a function's configuration the fake models.
type config struct {
	memory    int
	env       map[string]string
	logFormat string
}

func (c config) equal(o config) bool {
	return c.memory == o.memory && c.logFormat == o.logFormat && maps.Equal(c.env, o.env)
}

func (c config) clone() config {
	c.env = maps.Clone(c.env)
	return c
}

// function is one function's control-plane state and its instances. All
// of it is guarded by Server.mu.
type function struct {
	name, arn string
	opts      FunctionOptions

	// latest is $LATEST as configured, what GetFunctionConfiguration
	// shows; running is what new $LATEST instances get, which catches up
	// with latest when an update completes. gen counts completed updates:
	// a $LATEST instance of an older generation is never reused, which is
	// why a configuration change forces cold starts.
	latest, running config
	gen             int

	status, statusReason, statusCode string // LastUpdateStatus and its reason
	updateDone                       time.Time
	prev                             config            // put back if the update fails
	updateFails                      string            // the in-progress update will fail with this reason
	failUpdate, failPC               []*pendingFailure // injected: an update / allocation that fails
	revision                         string
	revisions                        int
	lastModified                     time.Time

	versions  []*version
	aliases   map[string]*alias
	pcs       map[string]*provisioned // by qualifier (alias or version)
	instances []*instance
}

// version is a published, immutable version.
type version struct {
	number   string
	cfg      config
	revision string
	modified time.Time
}

// alias points a name at a version, optionally routing a share of
// requests to additional versions.
type alias struct {
	name, version, description string
	weights                    map[string]float64
	revision                   string
}

// provisioned is a provisioned-concurrency configuration on a qualifier.
type provisioned struct {
	requested int
	status    string // IN_PROGRESS, READY, FAILED
	reason    string
	readyAt   time.Time
	fail      string // the allocation in progress will fail with this reason
	modified  time.Time
}

// instance is one execution environment.
type instance struct {
	id       string
	version  string
	gen      int    // for $LATEST: the generation it was started in
	pc       string // the qualifier whose provisioned concurrency it belongs to, or ""
	memory   int
	busy     bool
	lastUsed time.Time
}

// revise gives $LATEST a new revision id and modification time.
func (f *function) revise() {
	f.revisions++
	f.revision = fmt.Sprintf("%08x-c01d-4000-8000-%012x", f.revisions, f.revisions)
	f.lastModified = time.Now()
}

// tick brings lazily modelled state up to now: an update that is due
// completes (or fails), provisioned concurrency that is due becomes ready
// (its instances start, pre-initialized) or fails, and idle on-demand
// instances past their keep-alive go away.
func (f *function) tick(now time.Time, o Options) {
	if f.status == "InProgress" && !now.Before(f.updateDone) {
		if f.updateFails != "" {
			f.status, f.statusReason, f.statusCode = "Failed", f.updateFails, "InternalError"
			f.latest = f.prev
			f.revise()
		} else {
			f.status, f.statusReason, f.statusCode = "Successful", "", ""
			f.running = f.latest.clone()
			f.gen++
		}
		f.updateFails = ""
	}
	for q, p := range f.pcs {
		if p.status != "IN_PROGRESS" || now.Before(p.readyAt) {
			continue
		}
		if p.fail != "" {
			p.status, p.reason, p.fail = "FAILED", p.fail, ""
			continue
		}
		p.status, p.reason = "READY", ""
		v := q
		if a := f.aliases[q]; a != nil {
			v = a.version
		}
		for range p.requested {
			f.instances = append(f.instances, &instance{id: newID(), version: v, pc: q, memory: f.configOf(v).memory, lastUsed: now})
		}
	}
	keep := f.instances[:0]
	for _, in := range f.instances {
		stale := in.version == "$LATEST" && in.gen != f.gen
		expired := in.pc == "" && now.Sub(in.lastUsed) > f.opts.KeepAlive
		if in.busy || !(stale || expired) {
			keep = append(keep, in)
		}
	}
	clear(f.instances[len(keep):])
	f.instances = keep
}

// resolve maps a qualifier to the version it runs and the qualifier whose
// provisioned concurrency serves it. Weighted alias routing picks a
// version at random.
func (f *function) resolve(q string) (ver, pcKey string, ok bool) {
	switch {
	case q == "" || q == "$LATEST":
		return "$LATEST", "", true
	case isNumber(q):
		n, _ := strconv.Atoi(q)
		return q, q, n >= 1 && n <= len(f.versions)
	}
	a := f.aliases[q]
	if a == nil {
		return "", "", false
	}
	r := rand.Float64()
	for v, w := range a.weights {
		if r < w {
			return v, q, true
		}
		r -= w
	}
	return a.version, q, true
}

// configOf is the configuration a new instance of a version gets.
func (f *function) configOf(ver string) config {
	if ver == "$LATEST" {
		return f.running
	}
	n, _ := strconv.Atoi(ver)
	return f.versions[n-1].cfg
}

// dropProvisioned removes the idle instances of a qualifier's provisioned
// concurrency; busy ones finish their request and then live on as
// on-demand instances until their keep-alive runs out.
func (f *function) dropProvisioned(q string) {
	keep := f.instances[:0]
	for _, in := range f.instances {
		if in.pc != q {
			keep = append(keep, in)
		} else if in.busy {
			in.pc = ""
			keep = append(keep, in)
		}
	}
	clear(f.instances[len(keep):])
	f.instances = keep
}

// acquire finds an idle instance for a version, preferring provisioned
// ones, and marks it busy; cold reports that it was started for this
// request. It returns nil when the concurrency limit is reached.
func (f *function) acquire(ver, pcKey string, now time.Time) (in *instance, cold bool) {
	if p := f.pcs[pcKey]; pcKey != "" && p != nil && p.status == "READY" {
		for _, in := range f.instances {
			if in.pc == pcKey && !in.busy && in.version == ver {
				in.busy = true
				return in, false
			}
		}
	}
	busy := 0
	for _, in := range f.instances {
		if in.busy {
			busy++
			continue
		}
		if in.pc == "" && in.version == ver && (ver != "$LATEST" || in.gen == f.gen) && now.Sub(in.lastUsed) <= f.opts.KeepAlive {
			in.busy = true
			return in, false
		}
	}
	if f.opts.ConcurrencyLimit > 0 && busy >= f.opts.ConcurrencyLimit {
		return nil, false
	}
	in = &instance{id: newID(), version: ver, gen: f.gen, memory: f.configOf(ver).memory, busy: true}
	f.instances = append(f.instances, in)
	return in, true
}

func isNumber(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
