// Package drivers defines how coldbench talks to a FaaS platform: a small
// Driver interface that does only I/O, a registry of drivers by name, and
// optional capabilities (Configurer, ColdForcer, Describer) found by type
// assertion, in the manner of database/sql and go-cloud.
//
// The portable layer (this package and internal/engine) owns timing,
// sequencing and error classes; a driver fills in what the platform said.
package drivers

import (
	"context"
	"time"
)

// Driver invokes a function once per call. Implementations must be safe for
// concurrent use: the engine calls Invoke from many goroutines.
type Driver interface {
	// Invoke sends one request described by c and fills in c's response
	// fields. It returns an error only when no response was received
	// (timeout, refused connection, TLS failure, ...); a response with a
	// bad status is data in c, not an error.
	Invoke(ctx context.Context, c *Call) error
	// Close releases connections and anything the driver started.
	Close() error
}

// Call is one invocation: what the engine asks for and what the driver saw.
// The engine reuses Calls, so a driver must not keep a reference after
// Invoke returns.
type Call struct {
	// Set by the engine.
	Seq   uint64 // sequence number within the run, from 0
	ID    string // random request id, unique in the run, sent to the target when the driver can
	Phase string // name of the scenario phase
	// Trace is the W3C trace context to send (zero when trace context is off).
	Trace TraceContext
	// Request, when not nil, overrides for this call what the driver's
	// configuration says to send (trace and request-log replay). It is
	// shared between calls: a driver reads it and must not change it.
	// Drivers that do not send HTTP-shaped requests ignore it.
	Request *Request

	// Set by the driver.
	Sent          time.Time     // when the request went on the wire, if the driver can tell; else the engine uses when Invoke began
	Status        int           // protocol status (HTTP status code; 0 when the protocol has none)
	Code          string        // the platform's own code for a failure, when it has one beyond Status (gRPC "UNAVAILABLE", Lambda's function error type)
	FunctionError bool          // the platform says the function itself failed (Lambda's X-Amz-Function-Error)
	Throttled     bool          // the platform refused for lack of capacity (beyond a 429 status)
	Temp          Temperature   // Unknown unless the platform or a header said cold or warm
	Source        ColdSource    // where Temp came from
	InstanceID    string        // the instance that served the request, when known
	Init          time.Duration // platform-reported init (cold start) duration
	Billed        time.Duration // platform-reported billed duration
	MemoryMB      int           // platform-reported memory size
	MaxMemoryMB   int           // platform-reported memory used, when known
	BytesIn       int64         // response body bytes read
	Net           NetTimings    // network phases, for HTTP-based drivers
}

// Reset clears c for reuse.
func (c *Call) Reset() { *c = Call{} }

// Request is one call's own method, path, headers and body. Empty fields
// leave the driver's configuration in force. The http driver and the
// drivers built on it (sim, knative, openfaas, cloudrun) honour it; lambda
// and grpc ignore it.
type Request struct {
	Method string
	Path   string            // path and query, replacing the target URL's
	Header map[string]string // added to the configured headers; these win
	Body   []byte            // nil: the configured body
}

// NetTimings are the network phases of one HTTP request, from httptrace.
// Zero durations mean the phase did not happen (a reused connection has no
// DNS, connect or TLS phase).
type NetTimings struct {
	DNS       time.Duration
	Connect   time.Duration
	TLS       time.Duration
	FirstByte time.Duration // from the request written to the first response byte
	NewConn   bool          // the request opened a new connection
}

// Temperature says whether a request was served by a cold or a warm instance.
type Temperature uint8

const (
	Unknown Temperature = iota
	Warm
	Cold
)

func (t Temperature) String() string {
	switch t {
	case Warm:
		return "warm"
	case Cold:
		return "cold"
	}
	return "unknown"
}

// ColdSource records what decided a request's temperature, strongest first.
type ColdSource uint8

const (
	SourceNone     ColdSource = iota
	SourcePlatform            // the platform's own signal (Lambda REPORT Init Duration, emulator headers)
	SourceHeader              // a header the function sets
	SourceInstance            // first request seen for an instance id
	SourceBody                // a marker in the response body: a cold flag, or the first request seen for an instance id there
	SourceInferred            // the latency-gap classifier
)

// NumSources is the number of ColdSource values, for arrays indexed by source.
const NumSources = 6

func (s ColdSource) String() string {
	switch s {
	case SourcePlatform:
		return "platform"
	case SourceHeader:
		return "header"
	case SourceInstance:
		return "instance"
	case SourceBody:
		return "body"
	case SourceInferred:
		return "inferred"
	}
	return "none"
}

// Settings are the knobs a tuning run turns.
type Settings struct {
	MemoryMB int `json:"memory_mb"`
	Prewarm  int `json:"prewarm"` // provisioned concurrency or min instances
}

// Configurer is implemented by drivers that can change a function's memory
// and prewarm level. Configure returns once the platform reports the new
// setting ready.
type Configurer interface {
	Configure(ctx context.Context, s Settings) error
}

// ColdForcer is implemented by drivers that can make the next request land
// on a new instance.
type ColdForcer interface {
	ForceCold(ctx context.Context) error
}

// Describer is implemented by drivers that can report the function's current
// settings and instance counts.
type Describer interface {
	Describe(ctx context.Context) (Description, error)
}

// ControlChecker is implemented by drivers whose control plane may be
// missing, such as a Lambda emulator that serves only invocations.
// ControlPlane returns nil when Configure, ForceCold and Describe can work,
// else an error that says in one sentence why not and what would work:
// tune and plan check it before sending anything.
type ControlChecker interface {
	ControlPlane() error
}

// Description is what a Describer reports.
type Description struct {
	Settings
	Platform  string `json:"platform"`
	Instances int    `json:"instances"` // live instances, busy or idle
	Ready     bool   `json:"ready"`     // the last Configure has taken effect
}
