package knative

import (
	"sync"

	"github.com/coldbench/coldbench/drivers"
)

// revisionGate is a drivers.ReplicaGate on the actual replica count of the
// revision that serves the Service, as a watch on revisions reports it.
// Knative's activator holds a request while the revision has no pod and
// scales it from zero, so the replica-count rule holds.
//
// Counts are read from the informer's store, always the newest, so an
// event delivered late cannot bring back an old count; only a change of
// revision (follow) starts a new epoch.
type revisionGate struct {
	drivers.ReplicaGate
	mu  sync.Mutex
	rev string // the revision requests go to
}

// follow points the gate at rev with n actual replicas, as the driver has
// just read them after its own wait for the revision to be ready: 0 arms
// the gate.
func (g *revisionGate) follow(rev string, n int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.rev = rev
	g.Arm(n)
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
	if rev == g.rev {
		g.Observe(n, g.Epoch())
	}
}
