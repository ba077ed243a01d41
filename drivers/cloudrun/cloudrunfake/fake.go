// Package cloudrunfake is a fake Google Cloud Run on loopback, for tests:
// the Admin API v2 with its exact paths and JSON shapes (Service,
// RevisionTemplate, Container, ResourceRequirements, RevisionScaling,
// long-running Operation, google.rpc error answers) behind bearer access
// tokens; an OAuth token endpoint that verifies service-account JWT
// assertions and issues access and identity tokens, so that a generated
// credentials file drives the real Google auth library; and every
// service's URL, which checks identity tokens and runs instances that
// start cold, with ground truth about each request.
package cloudrunfake

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Options configure a fake.
type Options struct {
	// Project and Region of the services; "bench-project" and
	// "us-central1" if empty.
	Project, Region string
	// ColdStart is how long a new instance takes to start. Default 50ms.
	ColdStart time.Duration
	// Rollout is how long a new revision takes to become ready. Default 30ms.
	Rollout time.Duration
	// IdleAfter is how long an instance beyond the minimum stays idle
	// before it goes; 0 keeps it.
	IdleAfter time.Duration
	// TokenLifetime is the lifetime of the tokens issued. Default 1h.
	TokenLifetime time.Duration
	// AllowUnauthenticated lets requests without an identity token reach
	// the services, as an allUsers invoker binding does.
	AllowUnauthenticated bool
}

// Fake is a running fake Cloud Run. Its methods are safe for concurrent use.
type Fake struct {
	// URL is the Admin API endpoint, the token endpoint's base and the
	// base of every service's uri ({URL}/run/{service}).
	URL string

	opts Options
	srv  *httptest.Server
	key  *rsa.PrivateKey

	mu       sync.Mutex
	services map[string]*svc // by short name
	ops      map[string]*op  // by full name
	tokens   map[string]token
	fails    []failure
	failOp   string // the next rollout fails with this message
	calls    []string
	truth    map[string]Truth
	nextID   int
}

// Truth is what the fake knows about one request to a service.
type Truth struct {
	Service, Revision, Instance string
	Cold                        bool // it waited for an instance to start
}

type token struct {
	id       bool   // an identity token, else an access token
	audience string // of an identity token
	expiry   time.Time
}

type failure struct {
	method, path string
	code         int
	status, msg  string
}

// clientEmail is the service account the credentials file names.
const clientEmail = "coldbench@bench-project.iam.gserviceaccount.com"

var (
	keyOnce sync.Once
	rsaKey  *rsa.PrivateKey
)

// New starts a fake Cloud Run on 127.0.0.1.
func New(opts Options) *Fake {
	if opts.Project == "" {
		opts.Project = "bench-project"
	}
	if opts.Region == "" {
		opts.Region = "us-central1"
	}
	if opts.ColdStart <= 0 {
		opts.ColdStart = 50 * time.Millisecond
	}
	if opts.Rollout <= 0 {
		opts.Rollout = 30 * time.Millisecond
	}
	if opts.TokenLifetime <= 0 {
		opts.TokenLifetime = time.Hour
	}
	keyOnce.Do(func() {
		var err error
		if rsaKey, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
	})
	f := &Fake{
		opts:     opts,
		key:      rsaKey,
		services: map[string]*svc{},
		ops:      map[string]*op{},
		tokens:   map[string]token{},
		truth:    map[string]Truth{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /token", f.issueToken)
	base := "/v2/projects/{project}/locations/{location}/"
	mux.HandleFunc("GET "+base+"services/{service}", f.admin(f.getService))
	mux.HandleFunc("PATCH "+base+"services/{service}", f.admin(f.patchService))
	mux.HandleFunc("GET "+base+"operations/{operation}", f.admin(f.getOperation))
	mux.HandleFunc("/run/{service}", f.serve)
	mux.HandleFunc("/run/{service}/{rest...}", f.serve)
	f.srv = httptest.NewServer(mux)
	f.URL = f.srv.URL
	return f
}

// Close stops the fake.
func (f *Fake) Close() { f.srv.Close() }

// WriteCredentials writes a service account key file whose token_uri is
// the fake's token endpoint, for credentials_file, and returns its path.
func (f *Fake) WriteCredentials(dir string) (string, error) {
	der, err := x509.MarshalPKCS8PrivateKey(f.key)
	if err != nil {
		return "", err
	}
	b, err := json.MarshalIndent(map[string]string{
		"type":           "service_account",
		"project_id":     f.opts.Project,
		"private_key_id": "fake-key-1",
		"private_key":    string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		"client_email":   clientEmail,
		"client_id":      "100000000000000000001",
		"token_uri":      f.URL + "/token",
	}, "", "  ")
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, "service-account.json")
	return path, os.WriteFile(path, b, 0o600)
}

// FailNext makes the next Admin API call with this method whose path ends
// with suffix answer code with a google.rpc error (status such as
// "PERMISSION_DENIED", and msg).
func (f *Fake) FailNext(method, suffix string, code int, status, msg string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fails = append(f.fails, failure{method, suffix, code, status, msg})
}

// FailRollout makes the next revision fail to start, with msg: its
// operation ends with a FAILED_PRECONDITION error and the service keeps
// serving the previous revision.
func (f *Fake) FailRollout(msg string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failOp = msg
}

// Truth is the ground truth of the request that carried X-Request-Id id.
func (f *Fake) Truth(id string) (Truth, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	t, ok := f.truth[id]
	return t, ok
}

// Requests is how many requests reached the service.
func (f *Fake) Requests(service string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	if s, ok := f.services[service]; ok {
		return s.requests
	}
	return 0
}

// Template is a copy of the service's current template, as the API
// returns it.
func (f *Fake) Template(service string) map[string]any {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, ok := f.services[service]
	if !ok {
		return nil
	}
	return deepCopy(s.res["template"]).(map[string]any)
}

// authorized checks a bearer token: an unexpired access token for the Admin
// API (aud empty), or an identity token for aud.
func (f *Fake) authorized(r *http.Request, aud string) bool {
	v, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	t, ok := f.tokens[v]
	return ok && time.Now().Before(t.expiry) && t.id == (aud != "") && t.audience == aud
}

// rpcError writes a google.rpc error answer, as Google APIs do.
func rpcError(w http.ResponseWriter, code int, status, msg string) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"code": code, "message": msg, "status": status}})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	json.NewEncoder(w).Encode(v)
}

// deepCopy copies a JSON value.
func deepCopy(v any) any {
	b, _ := json.Marshal(v)
	var out any
	json.Unmarshal(b, &out)
	return out
}
