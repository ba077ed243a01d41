// Package lambdafake is a local stand-in for the AWS Lambda API, for tests:
// an httptest server that speaks Lambda's REST wire protocol (the paths,
// headers, JSON shapes and error codes the SDK for Go v2 sends and reads),
// verifies the SigV4 signature of every request, and models what
// coldbench measures: cold starts (a new instance when none is idle),
// keep-alive, memory, published versions, aliases, provisioned concurrency
// (instances prewarmed, then warm), and a configuration update that goes
// InProgress → Successful after a short delay. Invocations answer with
// real-format X-Amz-Log-Result tails, in Lambda's text log format or its
// JSON one.
//
// The fake keeps its own ground truth (Truth) and lets a test inspect the
// control-plane state (Function), count API calls (Calls) and inject
// failures (FailCall, FailUpdate, FailProvisioning).
//
// Point an SDK client at URL with the credentials from Credentials or Env
// and the fake's Region.
package lambdafake

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// TestCredentials are the static credentials the fake accepts by default.
var TestCredentials = aws.Credentials{
	AccessKeyID:     "AKIDCOLDBENCHFAKE",
	SecretAccessKey: "coldbench-fake-secret-key",
	Source:          "lambdafake",
}

// Options configure a Server. Zero fields take the defaults shown.
type Options struct {
	Region      string          // "us-east-1"
	Account     string          // "123456789012"
	Credentials aws.Credentials // TestCredentials
	// UpdateDelay is how long a configuration update stays InProgress
	// (30ms).
	UpdateDelay time.Duration
	// ProvisionDelay is how long provisioned concurrency stays
	// IN_PROGRESS before its instances are ready (30ms).
	ProvisionDelay time.Duration
	// InvokeOnly serves the Invoke API alone, as Lambda emulators do:
	// every other call answers 404 with a plain-text "404 page not found"
	// body, which is not a Lambda error document.
	InvokeOnly bool
}

// FunctionOptions describe one function. Zero fields take the defaults
// shown.
type FunctionOptions struct {
	MemoryMB  int               // 128
	Env       map[string]string // none
	LogFormat string            // "Text" or "JSON" (Text)
	Init      time.Duration     // cold-start init time (40ms)
	Handler   time.Duration     // handler time per request (2ms)
	KeepAlive time.Duration     // how long an idle on-demand instance lives (1m)
	// ConcurrencyLimit answers 429 TooManyRequestsException beyond this
	// many requests in flight (0: no limit).
	ConcurrencyLimit int
	// SnapStart makes cold starts of published versions restore from a
	// snapshot: their REPORT shows Restore Duration instead of Init
	// Duration.
	SnapStart bool
	// LogBytes is how much the function logs per invocation, so that the
	// 4 KB tail can be made to cut off everything but the end.
	LogBytes int
	// Handle runs the function on a payload; an error is an unhandled
	// function error (X-Amz-Function-Error: Unhandled). Nil answers
	// {"ok":true}. It may be called concurrently.
	Handle func(payload []byte) ([]byte, error)
	// HandleInvocation, when set, replaces Handle and is told which
	// instance runs the request and whether it is a cold start, for
	// functions that report both in their payload as benchmark functions
	// do. The Invocation has RequestID, Function, Version, Instance and
	// Cold set.
	HandleInvocation func(inv Invocation, payload []byte) ([]byte, error)
	// NoTail answers without X-Amz-Log-Result even when the caller asks
	// for the tail, as Lambda emulators do: there is no REPORT line.
	NoTail bool
}

// Failure is an API error the fake answers with instead of doing the call.
type Failure struct {
	Status  int    // HTTP status
	Code    string // error code, as in X-Amzn-ErrorType
	Message string
}

// Ready-made failures.
var (
	AccessDenied   = Failure{http.StatusForbidden, "AccessDeniedException", "User: arn:aws:iam::123456789012:user/coldbench is not authorized to perform this action"}
	Throttle       = Failure{http.StatusTooManyRequests, "TooManyRequestsException", "Rate exceeded"}
	NotFound       = Failure{http.StatusNotFound, "ResourceNotFoundException", "Function not found"}
	UpdateConflict = Failure{http.StatusConflict, "ResourceConflictException", "The operation cannot be performed at this time. An update is in progress for resource"}
	ServiceError   = Failure{http.StatusInternalServerError, "ServiceException", "internal service error"}
)

// Server is a running fake Lambda API.
type Server struct {
	// URL is the endpoint, http://127.0.0.1:port.
	URL string

	srv  *httptest.Server
	opts Options

	mu        sync.Mutex
	functions map[string]*function
	truth     []Invocation
	calls     map[string]int
	failures  map[string][]*pendingFailure
}

type pendingFailure struct {
	left int
	f    Failure
}

// New starts a fake with no functions; add them with AddFunction. It is
// closed when the test ends.
func New(t interface{ Cleanup(func()) }, opts Options) *Server {
	if opts.Region == "" {
		opts.Region = "us-east-1"
	}
	if opts.Account == "" {
		opts.Account = "123456789012"
	}
	if opts.Credentials.AccessKeyID == "" {
		opts.Credentials = TestCredentials
	}
	if opts.UpdateDelay <= 0 {
		opts.UpdateDelay = 30 * time.Millisecond
	}
	if opts.ProvisionDelay <= 0 {
		opts.ProvisionDelay = 30 * time.Millisecond
	}
	s := &Server{
		opts:      opts,
		functions: map[string]*function{},
		calls:     map[string]int{},
		failures:  map[string][]*pendingFailure{},
	}
	s.srv = httptest.NewServer(RequireSigV4(s.routes(), opts.Credentials, opts.Region, "lambda"))
	s.URL = s.srv.URL
	t.Cleanup(s.Close)
	return s
}

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

// Region is the region the fake signs for.
func (s *Server) Region() string { return s.opts.Region }

// Credentials returns a provider of the credentials the fake accepts.
func (s *Server) Credentials() aws.CredentialsProvider {
	c := s.opts.Credentials
	return aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) { return c, nil })
}

// Env is the environment that makes the SDK's default credential chain
// find the fake's credentials and region, and never look for instance
// metadata: for t.Setenv or a child process.
func (s *Server) Env() []string {
	c := s.opts.Credentials
	env := []string{
		"AWS_ACCESS_KEY_ID=" + c.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY=" + c.SecretAccessKey,
		"AWS_REGION=" + s.opts.Region,
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_CONFIG_FILE=/nonexistent/coldbench-lambdafake",
		"AWS_SHARED_CREDENTIALS_FILE=/nonexistent/coldbench-lambdafake",
	}
	if c.SessionToken != "" {
		env = append(env, "AWS_SESSION_TOKEN="+c.SessionToken)
	}
	return env
}

// FunctionARN is the unqualified ARN of a function name.
func (s *Server) FunctionARN(name string) string {
	return fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s", s.opts.Region, s.opts.Account, name)
}

// AddFunction creates a function with its $LATEST version, no published
// versions, no aliases and no instances.
func (s *Server) AddFunction(name string, o FunctionOptions) {
	if o.MemoryMB == 0 {
		o.MemoryMB = 128
	}
	if o.LogFormat == "" {
		o.LogFormat = "Text"
	}
	if o.Init == 0 {
		o.Init = 40 * time.Millisecond
	}
	if o.Handler == 0 {
		o.Handler = 2 * time.Millisecond
	}
	if o.KeepAlive == 0 {
		o.KeepAlive = time.Minute
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	f := &function{
		name:    name,
		arn:     s.FunctionARN(name),
		opts:    o,
		latest:  config{memory: o.MemoryMB, env: maps.Clone(o.Env), logFormat: o.LogFormat},
		status:  "Successful",
		aliases: map[string]*alias{},
		pcs:     map[string]*provisioned{},
	}
	f.running = f.latest.clone()
	f.revise()
	s.functions[name] = f
}

// Snapshot is the control-plane state of a function, for assertions.
type Snapshot struct {
	MemoryMB         int
	Env              map[string]string // nil when the function has none
	LastUpdateStatus string            // Successful, InProgress or Failed
	Versions         []string          // published versions, "1", "2", ...
	Aliases          map[string]AliasSnapshot
	// Provisioned is the requested provisioned concurrency by qualifier.
	Provisioned map[string]int
}

// AliasSnapshot is one alias in a Snapshot.
type AliasSnapshot struct {
	Version     string
	Description string
	Weights     map[string]float64 // routing to additional versions
}

// Function reports a function's state, or false when it does not exist.
func (s *Server) Function(name string) (Snapshot, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, ok := s.functions[name]
	if !ok {
		return Snapshot{}, false
	}
	f.tick(time.Now(), s.opts)
	snap := Snapshot{
		MemoryMB:         f.latest.memory,
		Env:              maps.Clone(f.latest.env),
		LastUpdateStatus: f.status,
		Aliases:          map[string]AliasSnapshot{},
		Provisioned:      map[string]int{},
	}
	if len(snap.Env) == 0 {
		snap.Env = nil
	}
	for _, v := range f.versions {
		snap.Versions = append(snap.Versions, v.number)
	}
	for n, a := range f.aliases {
		snap.Aliases[n] = AliasSnapshot{Version: a.version, Description: a.description, Weights: maps.Clone(a.weights)}
	}
	for q, p := range f.pcs {
		snap.Provisioned[q] = p.requested
	}
	return snap, true
}

// Invocation is the ground truth of one synchronous invocation.
type Invocation struct {
	RequestID   string
	Function    string
	Version     string // the version that ran: "$LATEST", "1", ...
	Instance    string
	Cold        bool // a new instance was started for it (init or restore)
	Provisioned bool // served by a provisioned-concurrency instance
	Throttled   bool // answered 429 without running
	FuncError   bool // the handler failed
	// ClientCustom is the "custom" map of the client context the caller
	// sent (where coldbench puts traceparent), nil without one.
	ClientCustom map[string]string
}

// Truth lists every invocation so far, in the order they were answered.
func (s *Server) Truth() []Invocation {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Invocation(nil), s.truth...)
}

// Calls counts the API calls of one operation so far, by its API name
// ("Invoke", "UpdateFunctionConfiguration", ...), failed ones included.
func (s *Server) Calls(op string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[op]
}

// ControlCalls counts the API calls other than Invoke so far: the
// control plane's, answered or not.
func (s *Server) ControlCalls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for op, c := range s.calls {
		if op != "Invoke" {
			n += c
		}
	}
	return n
}

// FailCall makes the nth call of op from now on (1 is the next one) fail
// with f instead of doing anything.
func (s *Server) FailCall(op string, nth int, f Failure) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures[op] = append(s.failures[op], &pendingFailure{left: nth, f: f})
}

// FailUpdate makes the nth configuration update of a function from now on
// (1 is the next one) be accepted and then end with LastUpdateStatus
// Failed and the given reason, leaving the configuration as it was.
func (s *Server) FailUpdate(function string, nth int, reason string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f := s.functions[function]; f != nil {
		f.failUpdate = append(f.failUpdate, &pendingFailure{left: nth, f: Failure{Message: reason}})
	}
}

// FailProvisioning makes the nth provisioned-concurrency allocation of a
// function from now on (a Put, or an alias with provisioned concurrency
// moved to another version) end FAILED with the given reason.
func (s *Server) FailProvisioning(function string, nth int, reason string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f := s.functions[function]; f != nil {
		f.failPC = append(f.failPC, &pendingFailure{left: nth, f: Failure{Message: reason}})
	}
}

// call counts an API call and reports an injected failure for it, if one
// is due. Called with mu held.
func (s *Server) call(op string) (Failure, bool) {
	s.calls[op]++
	pending := s.failures[op]
	f, ok := due(&pending)
	s.failures[op] = pending
	return f, ok
}

// due counts one more event against pending failures and returns the one
// that falls on it, if any.
func due(pending *[]*pendingFailure) (Failure, bool) {
	var hit *pendingFailure
	keep := (*pending)[:0]
	for _, p := range *pending {
		if p.left--; p.left == 0 && hit == nil {
			hit = p
			continue
		}
		keep = append(keep, p)
	}
	*pending = keep
	if hit == nil {
		return Failure{}, false
	}
	return hit.f, true
}

// routes maps Lambda's REST paths to handlers. A function may be named by
// name, partial ARN or ARN, with an optional :qualifier suffix.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	const fn = "/2015-03-31/functions/{fn}"
	mux.HandleFunc("POST "+fn+"/invocations", s.op("Invoke", s.invoke))
	mux.HandleFunc("GET "+fn+"/configuration", s.op("GetFunctionConfiguration", s.getConfiguration))
	mux.HandleFunc("PUT "+fn+"/configuration", s.op("UpdateFunctionConfiguration", s.updateConfiguration))
	mux.HandleFunc("POST "+fn+"/versions", s.op("PublishVersion", s.publishVersion))
	mux.HandleFunc("GET "+fn+"/versions", s.op("ListVersionsByFunction", s.listVersions))
	mux.HandleFunc("POST "+fn+"/aliases", s.op("CreateAlias", s.createAlias))
	mux.HandleFunc("GET "+fn+"/aliases", s.op("ListAliases", s.listAliases))
	mux.HandleFunc("GET "+fn+"/aliases/{alias}", s.op("GetAlias", s.getAlias))
	mux.HandleFunc("PUT "+fn+"/aliases/{alias}", s.op("UpdateAlias", s.updateAlias))
	mux.HandleFunc("DELETE "+fn+"/aliases/{alias}", s.op("DeleteAlias", s.deleteAlias))
	const pc = "/2019-09-30/functions/{fn}/provisioned-concurrency"
	mux.HandleFunc("GET "+pc, s.op("GetProvisionedConcurrencyConfig", s.getPC))
	mux.HandleFunc("PUT "+pc, s.op("PutProvisionedConcurrencyConfig", s.putPC))
	mux.HandleFunc("DELETE "+pc, s.op("DeleteProvisionedConcurrencyConfig", s.deletePC))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "UnknownOperationException", "Unknown operation "+r.Method+" "+r.URL.Path)
	})
	return mux
}

// request is what a handler gets: the function (looked up, ticked), its
// qualifier from the path or the query, and the time; mu is held.
type request struct {
	w         http.ResponseWriter
	r         *http.Request
	f         *function
	qualifier string
	now       time.Time
}

// op wraps a handler: it counts the call, answers an injected failure,
// finds the function and holds mu around the handler (the invoke handler
// lets go of it while the function runs).
func (s *Server) op(name string, h func(*request)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Amzn-RequestId", newID())
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.opts.InvokeOnly && name != "Invoke" {
			s.calls[name]++
			http.NotFound(w, r)
			return
		}
		if f, ok := s.call(name); ok {
			writeError(w, f.Status, f.Code, f.Message)
			return
		}
		fname, qual := splitFunction(r.PathValue("fn"))
		f := s.functions[fname]
		if f == nil {
			writeError(w, http.StatusNotFound, "ResourceNotFoundException", "Function not found: "+s.FunctionARN(fname))
			return
		}
		if q := r.URL.Query().Get("Qualifier"); q != "" {
			qual = q
		}
		now := time.Now()
		f.tick(now, s.opts)
		h(&request{w: w, r: r, f: f, qualifier: qual, now: now})
	}
}

// splitFunction takes a function name, partial ARN or ARN with an optional
// qualifier and returns the name and the qualifier.
func splitFunction(id string) (name, qualifier string) {
	p := strings.Split(id, ":")
	switch {
	case len(p) >= 7 && p[0] == "arn": // arn:aws:lambda:region:account:function:name[:qualifier]
		name = p[6]
		if len(p) > 7 {
			qualifier = p[7]
		}
	case len(p) >= 3 && p[1] == "function": // account:function:name[:qualifier]
		name = p[2]
		if len(p) > 3 {
			qualifier = p[3]
		}
	default:
		name = p[0]
		if len(p) > 1 {
			qualifier = p[1]
		}
	}
	return name, qualifier
}

// writeError answers an API error the way Lambda does: the code in
// X-Amzn-ErrorType, a JSON body with Type and message.
func writeError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("X-Amzn-ErrorType", code)
	if status == http.StatusTooManyRequests {
		w.Header().Set("Retry-After", "1")
	}
	body := map[string]string{"Type": "User", "message": msg}
	if status >= 500 {
		body["Type"] = "Service"
	}
	if code == "TooManyRequestsException" {
		body["Reason"] = "ConcurrentInvocationLimitExceeded"
	}
	writeJSON(w, status, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// newID returns a random id in the shape of a Lambda request id (a UUID).
func newID() string {
	var b [16]byte
	rand.Read(b[:])
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
