package drivers

import "context"

// Restorer is implemented by drivers whose Configure or ForceCold change
// state on the platform that outlives the run: a memory size, environment
// variables, an alias, provisioned concurrency. The driver remembers what
// it found the first time it changed anything, and Restore puts that back.
//
// Restore is meant to be called once a tuning run is over, whether it
// succeeded, failed midway or was interrupted, typically with a fresh
// context (the run's own may already be cancelled). It is best-effort and
// idempotent: it tries every step, reports all the ones that failed
// together, and a second call after a failed one tries again. With nothing
// changed it does nothing and returns nil. A driver documents anything it
// cannot put back.
type Restorer interface {
	Restore(ctx context.Context) error
}

// Manager is a driver that manages a deployed function end to end: it
// invokes, configures, forces cold starts, describes and restores what it
// changed. The platform drivers (cloudrun, knative, lambda, openfaas)
// assert it in one line instead of listing the five interfaces.
type Manager interface {
	Driver
	Configurer
	ColdForcer
	Describer
	Restorer
}
