package knative

import (
	"sync"

	"github.com/coldbench/coldbench/drivers"
)

// revisionGate tells a request's temperature from the actual replica count
// of the revision that serves the Service, as a watch on revisions reports
// it.
//
// Knative routes a request to a pod only once the pod is ready; when a
// revision has no pod, the activator holds the request and scales the
// revision from zero. So a request that starts while the serving revision
// has 0 actual replicas, and before any response came back since, is cold;
// one that starts while it has pods is warm; with no count known the
// temperature is unknown and the engine infers it.
//
// Subtleness ahead: a revision's status lags its pods (the activator
// forwards as soon as a pod is ready, the status follows), so after a cold
// response the watch may still say 0. Only a change from a positive count
// to 0 arms the gate (the revision went to zero), and follow arms it when
// the driver has just seen the revision at zero itself (ForceCold). Counts
// are read from the informer's store, always the newest, so an event
// delivered late cannot bring back an old count.
type revisionGate struct {
	mu    sync.Mutex
	rev   string // the revision requests go to
	known bool   // a count has been read for it
	last  int    // the last count read
	zero  bool   // armed: at zero, and nothing served since
	epoch uint64 // bumped by follow, so that older requests cannot disarm
}

// follow points the gate at rev with n actual replicas, as the driver has
// just read them after its own wait for the revision to be ready: 0 arms
// the gate.
func (g *revisionGate) follow(rev string, n int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.rev, g.last, g.epoch = rev, n, g.epoch+1
	g.known, g.zero = true, n == 0
}

// revision is the revision the gate follows.
func (g *revisionGate) revision() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.rev
}

// observe records the current count of rev, as the watch reports it.
func (g *revisionGate) observe(rev string, n int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if rev != g.rev {
		return
	}
	switch {
	case n > 0:
		g.zero = false
	case !g.known || g.last > 0:
		g.zero = true
	}
	g.known, g.last = true, n
}

// served records a response to a request started in epoch.
func (g *revisionGate) served(epoch uint64) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if epoch == g.epoch {
		g.zero = false
	}
}

// temperature is the temperature of a request starting now, and the epoch
// to pass to served.
func (g *revisionGate) temperature() (drivers.Temperature, uint64) {
	g.mu.Lock()
	defer g.mu.Unlock()
	switch {
	case !g.known:
		return drivers.Unknown, g.epoch
	case g.zero:
		return drivers.Cold, g.epoch
	}
	return drivers.Warm, g.epoch
}
