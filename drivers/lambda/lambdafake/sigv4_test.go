package lambdafake_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/coldbench/coldbench/drivers/lambda/lambdafake"
)

// signed builds a request as it arrives at a server, signed by the SDK's
// signer at time at, then lets change tamper with it.
func signed(t *testing.T, creds aws.Credentials, region string, at time.Time, body string, change func(*http.Request)) *http.Request {
	t.Helper()
	// An ARN in the path: colons escaped once on the wire, twice when signed.
	r, err := http.NewRequest(http.MethodPost, "http://127.0.0.1:9/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Afn/invocations?Qualifier=coldbench&a=%20b", bytes.NewReader([]byte(body)))
	if err != nil {
		t.Fatal(err)
	}
	r.Header.Set("X-Amz-Log-Type", "Tail")
	r.Header.Set("X-Amz-Invocation-Type", "RequestResponse")
	h := sha256.Sum256([]byte(body))
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, r, hex.EncodeToString(h[:]), "lambda", region, at); err != nil {
		t.Fatal(err)
	}
	// As the server sees it.
	in := httptest.NewRequest(r.Method, r.URL.RequestURI(), bytes.NewReader([]byte(body)))
	in.Host = r.URL.Host
	in.Header = r.Header.Clone()
	if change != nil {
		change(in)
	}
	return in
}

func TestVerifySigV4(t *testing.T) {
	t.Parallel()
	now := time.Now()
	creds := lambdafake.TestCredentials
	withToken := creds
	withToken.SessionToken = "session-token"
	tests := []struct {
		name     string
		creds    aws.Credentials // signed with
		expect   aws.Credentials // server expects
		region   string
		at       time.Time
		body     string // what arrives, when not what was signed
		change   func(*http.Request)
		wantCode string // "" for accepted
	}{
		// The SDK's signature verifies.
		{name: "good", creds: creds, expect: creds, region: "us-east-1", at: now},
		// With a session token, signed and sent.
		{name: "session token", creds: withToken, expect: withToken, region: "us-east-1", at: now},
		// A few minutes of clock skew is allowed.
		{name: "skew", creds: creds, expect: creds, region: "us-east-1", at: now.Add(-10 * time.Minute)},
		// Too old.
		{name: "expired", creds: creds, expect: creds, region: "us-east-1", at: now.Add(-20 * time.Minute), wantCode: "InvalidSignatureException"},
		// Another region in the scope.
		{name: "region", creds: creds, expect: creds, region: "eu-west-1", at: now, wantCode: "InvalidSignatureException"},
		// The body changed on the way.
		{name: "body", creds: creds, expect: creds, region: "us-east-1", at: now, body: `{"tampered":1}`, wantCode: "InvalidSignatureException"},
		// A signed header changed.
		{name: "header", creds: creds, expect: creds, region: "us-east-1", at: now, change: func(r *http.Request) { r.Header.Set("X-Amz-Log-Type", "None") }, wantCode: "InvalidSignatureException"},
		// The query changed.
		{name: "query", creds: creds, expect: creds, region: "us-east-1", at: now, change: func(r *http.Request) { r.URL.RawQuery = "Qualifier=prod" }, wantCode: "InvalidSignatureException"},
		// Unknown key id.
		{name: "key id", creds: aws.Credentials{AccessKeyID: "AKIDOTHER", SecretAccessKey: "x"}, expect: creds, region: "us-east-1", at: now, wantCode: "UnrecognizedClientException"},
		// A session token the server does not expect to be missing.
		{name: "no token", creds: creds, expect: withToken, region: "us-east-1", at: now, wantCode: "UnrecognizedClientException"},
		// No signature at all.
		{name: "unsigned", creds: creds, expect: creds, region: "us-east-1", at: now, change: func(r *http.Request) { r.Header.Del("Authorization") }, wantCode: "MissingAuthenticationTokenException"},
	}
	for _, tt := range tests {
		body := `{"seq":1}`
		r := signed(t, tt.creds, tt.region, tt.at, body, tt.change)
		if tt.body != "" {
			body = tt.body
		}
		err := lambdafake.VerifySigV4(r, []byte(body), tt.expect, "us-east-1", "lambda", now)
		var se *lambdafake.SigError
		switch {
		case tt.wantCode == "" && err != nil:
			t.Errorf("%s: %v", tt.name, err)
		case tt.wantCode != "" && (!errors.As(err, &se) || se.Code != tt.wantCode):
			t.Errorf("%s: %v, want %s", tt.name, err, tt.wantCode)
		}
	}
}
