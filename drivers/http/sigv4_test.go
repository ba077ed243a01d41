package http_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/coldbench/coldbench/drivers"
	httpdriver "github.com/coldbench/coldbench/drivers/http"
	"github.com/coldbench/coldbench/drivers/lambda/lambdafake"
	"github.com/coldbench/coldbench/scenarios"
)

// iamURL is a stand-in for an IAM-authenticated function URL: it verifies
// each request's SigV4 signature (for eu-west-1 and the lambda service)
// before answering, and records the bodies it accepted.
func iamURL(t *testing.T) (*httptest.Server, chan string) {
	t.Helper()
	bodies := make(chan string, 100)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		bodies <- string(b)
		w.Write([]byte(`{"ok":true}`))
	})
	srv := httptest.NewServer(lambdafake.RequireSigV4(h, lambdafake.TestCredentials, "eu-west-1", "lambda"))
	t.Cleanup(srv.Close)
	return srv, bodies
}

func staticCreds(c aws.Credentials) aws.CredentialsProvider {
	return aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) { return c, nil })
}

func call(t *testing.T, d *httpdriver.Driver, seq uint64) (*drivers.Call, drivers.Outcome) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c := &drivers.Call{Seq: seq, ID: "req-1", Phase: "p"}
	err := d.Invoke(ctx, c)
	return c, drivers.Classify(c, err)
}

// TestSigV4 sends signed and unsigned requests to a server that verifies
// signatures: signed ones (templated, static and empty bodies, custom
// headers) are accepted with their bodies intact, unsigned ones and those
// signed with the wrong secret or region are refused.
func TestSigV4(t *testing.T) {
	t.Parallel()
	srv, bodies := iamURL(t)
	good := staticCreds(lambdafake.TestCredentials)
	tests := []struct {
		name     string
		method   string
		body     string
		sig      *httpdriver.SigV4Config
		wantCode int
		wantBody string
	}{
		// A templated body, signed per request.
		{"signed template", http.MethodPost, `{"seq": {{.Seq}}, "id": "{{.ID}}"}`, &httpdriver.SigV4Config{Region: "eu-west-1", Credentials: good}, 200, `{"seq": 7, "id": "req-1"}`},
		// A static body, its hash computed once.
		{"signed static", http.MethodPut, `{"static": true}`, &httpdriver.SigV4Config{Region: "eu-west-1", Service: "lambda", Credentials: good}, 200, `{"static": true}`},
		// No body at all.
		{"signed empty", http.MethodGet, "", &httpdriver.SigV4Config{Region: "eu-west-1", Credentials: good}, 200, ""},
		// No sigv4: block: refused.
		{"unsigned", http.MethodPost, `{}`, nil, 403, ""},
		// The right key id with the wrong secret.
		{"wrong secret", http.MethodPost, `{}`, &httpdriver.SigV4Config{Region: "eu-west-1", Credentials: staticCreds(aws.Credentials{AccessKeyID: lambdafake.TestCredentials.AccessKeyID, SecretAccessKey: "nope"})}, 403, ""},
		// Signed for another region.
		{"wrong region", http.MethodPost, `{}`, &httpdriver.SigV4Config{Region: "us-east-1", Credentials: good}, 403, ""},
		// Signed for another service.
		{"wrong service", http.MethodPost, `{}`, &httpdriver.SigV4Config{Region: "eu-west-1", Service: "execute-api", Credentials: good}, 403, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := httpdriver.DefaultConfig()
			cfg.URL = srv.URL + "/path/with%3Aescapes?b=2&a=1"
			cfg.Method, cfg.Body, cfg.SigV4 = tt.method, tt.body, tt.sig
			cfg.Headers = map[string]string{"Content-Type": "application/json", "X-Custom": "  spaced   value "}
			d, err := httpdriver.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			c, o := call(t, d, 7)
			if c.Status != tt.wantCode {
				t.Fatalf("status %d (%s), want %d", c.Status, o, tt.wantCode)
			}
			if tt.wantCode == 200 {
				if got := <-bodies; got != tt.wantBody {
					t.Errorf("body %q, want %q", got, tt.wantBody)
				}
			} else if o != drivers.ClientError {
				t.Errorf("outcome %s, want 4xx", o)
			}
		})
	}
}

// TestSigV4DefaultChain: without explicit credentials the SDK's default
// chain finds them, here in the environment. Not parallel: it sets the
// environment.
func TestSigV4DefaultChain(t *testing.T) {
	srv, bodies := iamURL(t)
	t.Setenv("AWS_ACCESS_KEY_ID", lambdafake.TestCredentials.AccessKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", lambdafake.TestCredentials.SecretAccessKey)
	t.Setenv("AWS_REGION", "eu-west-1")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_CONFIG_FILE", "/nonexistent/coldbench-test")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/coldbench-test")
	cfg := httpdriver.DefaultConfig()
	cfg.URL, cfg.Method, cfg.Body = srv.URL, http.MethodPost, `{"n": {{.Seq}}}`
	cfg.SigV4 = &httpdriver.SigV4Config{} // region and credentials from the environment
	d, err := httpdriver.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	for i := range 3 {
		if c, o := call(t, d, uint64(i)); o != drivers.OK {
			t.Fatalf("call %d: %s, status %d", i, o, c.Status)
		}
		if b := <-bodies; !strings.Contains(b, `"n": `) {
			t.Errorf("body %q", b)
		}
	}
}

// TestSigV4NoRegion: with no region anywhere, New says where to put one.
func TestSigV4NoRegion(t *testing.T) {
	t.Setenv("AWS_REGION", "")
	t.Setenv("AWS_DEFAULT_REGION", "")
	t.Setenv("AWS_CONFIG_FILE", "/nonexistent/coldbench-test")
	cfg := httpdriver.DefaultConfig()
	cfg.URL = "https://example.com/"
	cfg.SigV4 = &httpdriver.SigV4Config{Credentials: staticCreds(lambdafake.TestCredentials)}
	if _, err := httpdriver.New(cfg); err == nil || !strings.Contains(err.Error(), "sigv4.region") {
		t.Errorf("New without a region: %v", err)
	}
}

// TestSigV4Scenario: the sigv4: block decodes from a scenario, strictly.
func TestSigV4Scenario(t *testing.T) {
	t.Parallel()
	const base = "name: s\ntarget:\n  driver: http\n  url: https://abc.lambda-url.eu-west-1.on.aws/\n%s\nphases:\n  - {name: p, duration: 1s, rate: 1}\n"
	s, err := scenarios.Parse("s.yaml", []byte(fmt.Sprintf(base, "  sigv4: {region: eu-west-1, service: lambda}")))
	if err != nil {
		t.Fatal(err)
	}
	if sc := s.Target.Config.(*httpdriver.Config).SigV4; sc == nil || sc.Region != "eu-west-1" || sc.Service != "lambda" {
		t.Errorf("sigv4 = %+v", sc)
	}
	s, err = scenarios.Parse("s.yaml", []byte(fmt.Sprintf(base, "")))
	if err != nil || s.Target.Config.(*httpdriver.Config).SigV4 != nil {
		t.Errorf("no sigv4 block: %v, %+v", err, s)
	}
	if _, err := scenarios.Parse("s.yaml", []byte(fmt.Sprintf(base, "  sigv4: {regoin: eu-west-1}"))); err == nil || !strings.Contains(err.Error(), "sigv4.regoin") {
		t.Errorf("misspelled key: %v", err)
	}
}
