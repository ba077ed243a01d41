// Package openfaasfake is a fake OpenFaaS gateway on loopback, for tests:
// the /system REST API with its exact paths, basic auth and JSON shapes
// (github.com/openfaas/faas-provider/types), and /function/ routes whose
// functions scale from zero on demand, so that cold starts have a known
// ground truth.
//
// Replicas follow a small model of faas-netes on Kubernetes: a new replica
// becomes available after the configured cold-start time; a request that
// finds no available replica scales the function to one and waits for it
// (the gateway's scale from zero); an update rolls every replica, keeping
// the old ones until the new ones are available; a scale takes effect at
// once going down and after the cold-start time going up.
package openfaasfake

import (
	"strconv"
	"time"
)

// The gateway's JSON shapes, kept apart from the driver's own so that the
// fake checks the wire format rather than sharing its mistakes.

// FunctionDeployment is the body of POST and PUT /system/functions.
type FunctionDeployment struct {
	Service                string             `json:"service"`
	Image                  string             `json:"image"`
	Namespace              string             `json:"namespace,omitempty"`
	EnvProcess             string             `json:"envProcess,omitempty"`
	EnvVars                map[string]string  `json:"envVars,omitempty"`
	Constraints            []string           `json:"constraints,omitempty"`
	Secrets                []string           `json:"secrets,omitempty"`
	Labels                 *map[string]string `json:"labels,omitempty"`
	Annotations            *map[string]string `json:"annotations,omitempty"`
	Limits                 *FunctionResources `json:"limits,omitempty"`
	Requests               *FunctionResources `json:"requests,omitempty"`
	ReadOnlyRootFilesystem bool               `json:"readOnlyRootFilesystem,omitempty"`
}

// FunctionResources are memory and CPU in Kubernetes quantities.
type FunctionResources struct {
	Memory string `json:"memory,omitempty"`
	CPU    string `json:"cpu,omitempty"`
}

// FunctionStatus is the answer of GET /system/function/{name} and the
// items of GET /system/functions.
type FunctionStatus struct {
	Name                   string             `json:"name"`
	Image                  string             `json:"image"`
	Namespace              string             `json:"namespace,omitempty"`
	EnvProcess             string             `json:"envProcess,omitempty"`
	EnvVars                map[string]string  `json:"envVars,omitempty"`
	Constraints            []string           `json:"constraints,omitempty"`
	Secrets                []string           `json:"secrets,omitempty"`
	Labels                 *map[string]string `json:"labels,omitempty"`
	Annotations            *map[string]string `json:"annotations,omitempty"`
	Limits                 *FunctionResources `json:"limits,omitempty"`
	Requests               *FunctionResources `json:"requests,omitempty"`
	ReadOnlyRootFilesystem bool               `json:"readOnlyRootFilesystem,omitempty"`
	InvocationCount        float64            `json:"invocationCount,omitempty"`
	Replicas               uint64             `json:"replicas,omitempty"`
	AvailableReplicas      uint64             `json:"availableReplicas,omitempty"`
	CreatedAt              time.Time          `json:"createdAt,omitempty"`
}

// ScaleServiceRequest is the body of POST /system/scale-function/{name}.
type ScaleServiceRequest struct {
	ServiceName string `json:"serviceName"`
	Replicas    uint64 `json:"replicas"`
	Namespace   string `json:"namespace,omitempty"`
}

// Truth is what the fake knows about one invocation.
type Truth struct {
	Function string // name.namespace
	Replica  string // the replica that served it
	Cold     bool   // it waited for a replica to start (scale from zero)
}

// function is one deployed function and its replicas.
type function struct {
	spec        FunctionDeployment
	desired     int
	replicas    []*replica
	invocations int
	created     time.Time
	next        int // replica ids
	rr          int // round robin over available replicas
}

// replica is one instance. It serves from readyAt until retireAt (zero:
// no end).
type replica struct {
	id       string
	readyAt  time.Time
	retireAt time.Time
}

func (r *replica) available(now time.Time) bool {
	return !now.Before(r.readyAt) && (r.retireAt.IsZero() || now.Before(r.retireAt))
}

// live reports whether r is neither retired nor retiring.
func (r *replica) live() bool { return r.retireAt.IsZero() }

func (f *function) newReplica(readyAt time.Time) {
	f.next++
	f.replicas = append(f.replicas, &replica{id: f.spec.Service + "-" + strconv.Itoa(f.next), readyAt: readyAt})
}

// prune drops replicas past their retirement.
func (f *function) prune(now time.Time) {
	kept := f.replicas[:0]
	for _, r := range f.replicas {
		if r.retireAt.IsZero() || now.Before(r.retireAt) {
			kept = append(kept, r)
		}
	}
	f.replicas = kept
}

func (f *function) available(now time.Time) []*replica {
	f.prune(now)
	var out []*replica
	for _, r := range f.replicas {
		if r.available(now) {
			out = append(out, r)
		}
	}
	return out
}

// scale sets the desired count: extra live replicas go at once, missing
// ones start and are available after start.
func (f *function) scale(n int, now time.Time, start time.Duration) {
	f.prune(now)
	f.desired = n
	var live []*replica
	for _, r := range f.replicas {
		if r.live() {
			live = append(live, r)
		}
	}
	for i := n; i < len(live); i++ {
		live[i].retireAt = now
	}
	for i := len(live); i < n; i++ {
		f.newReplica(now.Add(start))
	}
	f.prune(now)
}

// roll replaces every replica with a new one, keeping the old ones until
// the new ones are available, as a Kubernetes rolling update does.
func (f *function) roll(now time.Time, start time.Duration) {
	f.prune(now)
	for _, r := range f.replicas {
		if r.live() {
			r.retireAt = now.Add(start)
		}
	}
	for range f.desired {
		f.newReplica(now.Add(start))
	}
}

// minScale reads the com.openfaas.scale.min label: 0 when absent or not a
// positive number.
func (f *function) minScale() int {
	if f.spec.Labels == nil {
		return 0
	}
	n, err := strconv.Atoi((*f.spec.Labels)["com.openfaas.scale.min"])
	if err != nil || n < 1 {
		return 0
	}
	return n
}

func (f *function) status(now time.Time) FunctionStatus {
	s := f.spec
	return FunctionStatus{
		Name:                   s.Service,
		Image:                  s.Image,
		Namespace:              s.Namespace,
		EnvProcess:             s.EnvProcess,
		EnvVars:                s.EnvVars,
		Constraints:            s.Constraints,
		Secrets:                s.Secrets,
		Labels:                 s.Labels,
		Annotations:            s.Annotations,
		Limits:                 s.Limits,
		Requests:               s.Requests,
		ReadOnlyRootFilesystem: s.ReadOnlyRootFilesystem,
		InvocationCount:        float64(f.invocations),
		Replicas:               uint64(f.desired),
		AvailableReplicas:      uint64(len(f.available(now))),
		CreatedAt:              f.created,
	}
}
