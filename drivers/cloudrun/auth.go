package cloudrun

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"cloud.google.com/go/auth"
	"cloud.google.com/go/auth/credentials"
	"cloud.google.com/go/auth/credentials/idtoken"

	"github.com/coldbench/coldbench/drivers"
	httpdriver "github.com/coldbench/coldbench/drivers/http"
)

// cloudPlatformScope is the OAuth scope of the Admin API.
const cloudPlatformScope = "https://www.googleapis.com/auth/cloud-platform"

// credentialType reads the "type" of a credentials file. The file is the
// user's own choice, so every type the library loads is accepted.
func credentialType(path string) (credentials.CredType, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	var f struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	switch t := credentials.CredType(f.Type); t {
	case credentials.ServiceAccount, credentials.ImpersonatedServiceAccount, credentials.ExternalAccount,
		credentials.AuthorizedUser, credentials.ExternalAccountAuthorizedUser:
		return t, nil
	}
	return "", fmt.Errorf("%s: credentials of type %q are not supported", path, f.Type)
}

// adminTokens are access tokens for the Admin API: from the credentials
// file, else Application Default Credentials.
func adminTokens(cfg *Config) (auth.TokenProvider, error) {
	opts := &credentials.DetectOptions{Scopes: []string{cloudPlatformScope}}
	return tokens(cfg.AdminTokens, cfg.CredentialsFile,
		func(t credentials.CredType, file string) (*auth.Credentials, error) {
			return credentials.NewCredentialsFromFile(t, file, opts)
		},
		func() (*auth.Credentials, error) { return credentials.DetectDefault(opts) })
}

// idTokens are identity tokens for the service, with audience aud. Only
// service account, impersonated service account, external account and
// metadata server credentials can mint them; a user's own gcloud login
// cannot.
func idTokens(cfg *Config, aud string) (auth.TokenProvider, error) {
	opts := &idtoken.Options{Audience: aud}
	return tokens(cfg.IDTokens, cfg.CredentialsFile,
		func(t credentials.CredType, file string) (*auth.Credentials, error) {
			return idtoken.NewCredentialsFromFile(t, file, opts)
		},
		func() (*auth.Credentials, error) { return idtoken.NewCredentials(opts) })
}

// tokens is given when the caller set it, else tokens from the credentials
// file when there is one (fromFile, with the type the file says), else
// from the default credentials (detect).
func tokens(given auth.TokenProvider, file string,
	fromFile func(credentials.CredType, string) (*auth.Credentials, error),
	detect func() (*auth.Credentials, error)) (auth.TokenProvider, error) {
	if given != nil {
		return given, nil
	}
	if file != "" {
		t, err := credentialType(file)
		if err != nil {
			return nil, err
		}
		return fromFile(t, file)
	}
	return detect()
}

// invoker sends invocations through the http driver with a current
// identity token. The http driver's headers are fixed when it is made, so a
// new token means a new http driver, swapped in atomically; requests in
// flight finish on the old one. A swap costs new connections once an hour,
// which the network timings show as such.
type invoker struct {
	base   httpdriver.Config
	tokens auth.TokenProvider // nil: no token
	cur    atomic.Pointer[httpdriver.Driver]

	mu      sync.Mutex
	token   string
	retired []*httpdriver.Driver

	stop chan struct{}
	done chan struct{}
}

// newInvoker fetches the first token and starts the refresher.
func newInvoker(ctx context.Context, base httpdriver.Config, tokens auth.TokenProvider) (*invoker, error) {
	v := &invoker{base: base, tokens: tokens, stop: make(chan struct{}), done: make(chan struct{})}
	if tokens == nil {
		d, err := httpdriver.New(&base)
		if err != nil {
			return nil, err
		}
		v.cur.Store(d)
		close(v.done)
		return v, nil
	}
	exp, err := v.refresh(ctx)
	if err != nil {
		return nil, err
	}
	go v.refresher(exp)
	return v, nil
}

// refresh reads the token and swaps in an http driver that sends it, if it
// changed. It returns the token's expiry.
func (v *invoker) refresh(ctx context.Context) (time.Time, error) {
	tok, err := v.tokens.Token(ctx)
	if err != nil {
		return time.Time{}, err
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if tok.Value == v.token {
		return tok.Expiry, nil
	}
	cfg := v.base
	cfg.Headers = make(map[string]string, len(v.base.Headers)+1)
	for k, val := range v.base.Headers {
		cfg.Headers[k] = val
	}
	cfg.Headers["Authorization"] = "Bearer " + tok.Value
	d, err := httpdriver.New(&cfg)
	if err != nil {
		return time.Time{}, err
	}
	if old := v.cur.Swap(d); old != nil {
		old.Close() // idle connections now; busy ones go idle and time out
		v.retired = append(v.retired, old)
	}
	v.token = tok.Value
	return tok.Expiry, nil
}

// refresher reads the token again at half its remaining life (at least
// every 5 minutes, at most every second; every 10 s after a failure)
// until Close.
func (v *invoker) refresher(exp time.Time) {
	defer close(v.done)
	for {
		wait := 10 * time.Second
		if !exp.IsZero() {
			wait = min(max(time.Until(exp)/2, time.Second), 5*time.Minute)
		}
		select {
		case <-v.stop:
			return
		case <-time.After(wait):
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		next, err := v.refresh(ctx)
		cancel()
		if err != nil {
			exp = time.Time{}
			continue
		}
		exp = next
	}
}

// Invoke sends one request with the current token.
func (v *invoker) Invoke(ctx context.Context, c *drivers.Call) error {
	return v.cur.Load().Invoke(ctx, c)
}

// Close stops the refresher and every http driver made.
func (v *invoker) Close() error {
	select {
	case <-v.done:
	default:
		close(v.stop)
		<-v.done
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, d := range v.retired {
		d.Close()
	}
	return v.cur.Load().Close()
}
