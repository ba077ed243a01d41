package openfaas

import (
	"sync"

	"github.com/coldbench/coldbench/drivers"
)

// replicaGate tells a request's temperature from the function's available
// replica count, the one cold-start signal OpenFaaS gives.
//
// The gateway routes only to ready replicas (Kubernetes readiness), so a
// request waits for a replica to start only when it arrives while none is
// available: the gateway then scales the function from zero and holds the
// request. So a request that starts while the last count read was 0, and
// before any response came back since, is cold; one that starts once a
// replica is known to be up is warm; without any count read (no API
// credentials) the temperature is unknown and the engine infers it.
//
// Subtleness ahead: counts come from polling, and a poll sent before a
// scale-up can answer after a request was served. A stale 0 must not
// re-arm the gate, so only a change from a positive count to 0 arms it
// (the function went to zero), and arm does it when the driver itself
// has just seen the function at zero (ForceCold). Each arm starts a new
// epoch: polls sent and requests started before it cannot undo it.
type replicaGate struct {
	mu    sync.Mutex
	known bool   // a count has been read
	last  int    // the last count read
	zero  bool   // armed: at zero, and nothing served since
	epoch uint64 // bumped by arm
}

// arm records a count the driver knows to be current, as after its own wait
// for the function to reach it.
func (g *replicaGate) arm(n int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.known, g.last, g.zero = true, n, n == 0
	g.epoch++
}

// current is the epoch to pass to observe for a poll about to be sent.
func (g *replicaGate) current() uint64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.epoch
}

// observe records a count read in the background by a poll sent in epoch.
func (g *replicaGate) observe(n int, epoch uint64) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if epoch != g.epoch {
		return // sent before the driver's own, newer knowledge
	}
	switch {
	case n > 0:
		g.zero = false
	case !g.known || g.last > 0:
		g.zero = true
	}
	g.known, g.last = true, n
}

// forget drops what the gate knew, when counts can no longer be read.
func (g *replicaGate) forget() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.known, g.zero = false, false
}

// served records a response from a replica to a request started in epoch:
// the function is up.
func (g *replicaGate) served(epoch uint64) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if epoch == g.epoch {
		g.zero = false
	}
}

// temperature is the temperature of a request starting now, and the epoch
// to pass to served when its response comes.
func (g *replicaGate) temperature() (drivers.Temperature, uint64) {
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
