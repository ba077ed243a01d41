package drivers

import (
	"context"
	"net/http"
	"sync"
)

// ReplicaGate tells a request's temperature from a function's replica
// count, for platforms whose only cold-start signal is that count
// (OpenFaaS, Knative).
//
// Such platforms route only to ready replicas, so a request waits for one
// to start only when it arrives while none is up: the platform then scales
// from zero and holds the request. A request that starts while the last
// count read was 0, and before any response came back since, is cold; one
// that starts once a replica is known to be up is warm; with no count read
// the temperature is unknown and the engine infers it.
//
// Subtleness ahead: counts come from polls or watches that lag the
// replicas, so a stale 0 can arrive after a request was served. It must
// not re-arm the gate: only a change from a positive count to 0 arms it
// (the function went to zero), and Arm does it when the driver itself has
// just seen the function at zero (ForceCold). Each Arm starts a new epoch;
// reads begun and requests started before it cannot undo it.
//
// The zero value knows no count.
type ReplicaGate struct {
	mu    sync.Mutex
	known bool   // a count has been read
	last  int    // the last count read
	zero  bool   // armed: at zero, and nothing served since
	epoch uint64 // bumped by Arm
}

// Arm records a count the driver knows to be current, as after its own
// wait for the function to reach it.
func (g *ReplicaGate) Arm(n int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.known, g.last, g.zero = true, n, n == 0
	g.epoch++
}

// Epoch is the epoch to pass to Observe for a read about to begin.
func (g *ReplicaGate) Epoch() uint64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.epoch
}

// Observe records a count read in the background by a read begun in epoch.
func (g *ReplicaGate) Observe(n int, epoch uint64) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if epoch != g.epoch {
		return // begun before the driver's own, newer knowledge
	}
	switch {
	case n > 0:
		g.zero = false
	case !g.known || g.last > 0:
		g.zero = true
	}
	g.known, g.last = true, n
}

// Forget drops what the gate knew, when counts can no longer be read.
func (g *ReplicaGate) Forget() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.known, g.zero = false, false
}

// Served records a response to a request started in epoch: the function
// is up.
func (g *ReplicaGate) Served(epoch uint64) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if epoch == g.epoch {
		g.zero = false
	}
}

// Temperature is the temperature of a request starting now, and the epoch
// to pass to Served when its response comes.
func (g *ReplicaGate) Temperature() (Temperature, uint64) {
	g.mu.Lock()
	defer g.mu.Unlock()
	switch {
	case !g.known:
		return Unknown, g.epoch
	case g.zero:
		return Cold, g.epoch
	}
	return Warm, g.epoch
}

// Invoke sends c through inner, with c's temperature decided when the
// request starts, from the count known then. A request the platform's
// front answered instead of a replica (an error, or a status no replica
// can be told to have sent) keeps no temperature and tells the gate
// nothing.
func (g *ReplicaGate) Invoke(ctx context.Context, inner Driver, c *Call) error {
	t, epoch := g.Temperature()
	if t != Unknown {
		c.Temp, c.Source = t, SourcePlatform
	}
	err := inner.Invoke(ctx, c)
	if err != nil || !servedByReplica(c.Status) {
		if c.Source == SourcePlatform {
			c.Temp, c.Source = Unknown, SourceNone
		}
		return err
	}
	g.Served(epoch)
	return nil
}

// servedByReplica tells a function's answer from its platform front's: a
// gateway or ingress answers 404 for an unknown function and 5xx when it
// cannot reach a replica (502, 503, 504; Knative's activator too); a
// function's own 5xx cannot be told apart, so no 5xx counts.
func servedByReplica(status int) bool {
	return status >= 200 && status < 500 && status != http.StatusNotFound
}
