package lambda_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/coldbench/coldbench/drivers"
	"github.com/coldbench/coldbench/drivers/lambda"
	"github.com/coldbench/coldbench/drivers/lambda/lambdafake"
)

// TestInvokeOnly: an endpoint whose control plane is missing or refuses
// (an emulator's 404 page, an unknown operation, not implemented, access
// denied) opens invoke-only with one warning line naming the call, the
// endpoint as configured and what is lost; invocations work; the control
// plane refuses in one sentence; nothing is left to restore. Lambda's own
// "function not found" still fails Open.
func TestInvokeOnly(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		opts   lambdafake.Options
		fail   *lambdafake.Failure // the answer to GetFunctionConfiguration
		reason string              // in the warning
	}{
		{"emulator 404 page", lambdafake.Options{InvokeOnly: true}, nil, "HTTP 404 Not Found, not a Lambda API error"},
		{"404 without a body", lambdafake.Options{}, &lambdafake.Failure{Status: http.StatusNotFound}, "HTTP 404 Not Found, not a Lambda API error"},
		{"unknown operation", lambdafake.Options{}, &lambdafake.Failure{Status: http.StatusBadRequest, Code: "UnknownOperationException", Message: "Unknown operation"}, "unknown operation"},
		{"not implemented", lambdafake.Options{}, &lambdafake.Failure{Status: http.StatusNotImplemented, Code: "NotImplemented", Message: "GetFunctionConfiguration is not implemented"}, "NotImplemented: GetFunctionConfiguration is not implemented"},
		{"access denied", lambdafake.Options{}, &lambdafake.AccessDenied, "access denied: User: arn:aws:iam::123456789012:user/coldbench"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := lambdafake.New(t, tc.opts)
			s.AddFunction("fn", lambdafake.FunctionOptions{})
			if tc.fail != nil {
				s.FailCall("GetFunctionConfiguration", 1, *tc.fail)
			}
			cfg := lambda.DefaultConfig()
			cfg.Function, cfg.Region, cfg.Endpoint, cfg.Credentials = "fn", s.Region(), s.URL, s.Credentials()
			var mu sync.Mutex
			var warnings []string
			ctx := drivers.WithWarn(context.Background(), func(m string) { mu.Lock(); warnings = append(warnings, m); mu.Unlock() })
			d, err := lambda.Open(ctx, cfg)
			if err != nil {
				t.Fatalf("open: %v", err)
			}
			defer d.Close()
			if len(warnings) != 1 {
				t.Fatalf("warnings %q, want one", warnings)
			}
			w := warnings[0]
			for _, want := range []string{"lambda fn: GetFunctionConfiguration: " + tc.reason, "(endpoint " + s.URL + ")", "invoke-only", "memory, prewarm and forced cold starts cannot be set", "control: false"} {
				if !strings.Contains(w, want) {
					t.Errorf("warning %q\nlacks %q", w, want)
				}
			}
			for _, noise := range []string{"https", "deserialization", "StatusCode:", "RequestID", "\n"} {
				if strings.Contains(w, noise) {
					t.Errorf("warning %q has SDK noise %q", w, noise)
				}
			}
			if _, o := invoke(t, d); o != drivers.OK {
				t.Errorf("invoke: %v", o)
			}
			cp := d.ControlPlane()
			if cp == nil || !strings.Contains(cp.Error(), "lambda fn at "+s.URL+" has no Lambda control plane") || !strings.Contains(cp.Error(), "`coldbench run` works invoke-only") {
				t.Errorf("ControlPlane() = %v", cp)
			}
			calls := s.Calls("UpdateFunctionConfiguration") + s.Calls("GetFunctionConfiguration")
			if err := d.Configure(context.Background(), drivers.Settings{MemoryMB: 512}); err == nil || err.Error() != cp.Error() {
				t.Errorf("Configure: %v", err)
			}
			if err := d.ForceCold(context.Background()); err == nil || err.Error() != cp.Error() {
				t.Errorf("ForceCold: %v", err)
			}
			if _, err := d.Describe(context.Background()); err == nil || err.Error() != cp.Error() {
				t.Errorf("Describe: %v", err)
			}
			if err := d.Restore(context.Background()); err != nil {
				t.Errorf("Restore: %v", err)
			}
			if n := s.Calls("UpdateFunctionConfiguration") + s.Calls("GetFunctionConfiguration"); n != calls {
				t.Errorf("%d control-plane calls after open, want none", n-calls)
			}
		})
	}
}

// TestControlFalse: control: false makes no control-plane call at all,
// warns of nothing, and invokes.
func TestControlFalse(t *testing.T) {
	t.Parallel()
	s, cfg := fake(t, lambdafake.FunctionOptions{})
	off := false
	cfg.Control = &off
	var warned bool
	d, err := lambda.Open(drivers.WithWarn(context.Background(), func(string) { warned = true }), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	for range 3 {
		if _, o := invoke(t, d); o != drivers.OK {
			t.Fatalf("invoke: %v", o)
		}
	}
	if warned || s.Calls("GetFunctionConfiguration") != 0 || s.Calls("Invoke") != 3 {
		t.Errorf("warned %v, GetFunctionConfiguration %d, Invoke %d: want no warning, 0 and 3", warned, s.Calls("GetFunctionConfiguration"), s.Calls("Invoke"))
	}
	if err := d.ControlPlane(); err == nil || !strings.Contains(err.Error(), "control: false") {
		t.Errorf("ControlPlane() = %v", err)
	}
}

// TestFunctionNotFound: Lambda's own "not found" is not a missing control
// plane: Open fails in one line naming the function and the endpoint.
func TestFunctionNotFound(t *testing.T) {
	t.Parallel()
	s, cfg := fake(t, lambdafake.FunctionOptions{})
	cfg.Function = "nope"
	_, err := lambda.Open(context.Background(), cfg)
	want := "lambda nope: GetFunctionConfiguration: not found: Function not found: " + s.FunctionARN("nope") + " (endpoint " + s.URL + ")"
	if err == nil || err.Error() != want {
		t.Errorf("got  %v\nwant %s", err, want)
	}
}

// TestNoAnswer: an endpoint that does not answer fails Open in one line
// with the network's words and the endpoint as configured, without the
// SDK's framing ("https response error StatusCode: 0, RequestID: ...").
func TestNoAnswer(t *testing.T) {
	t.Parallel()
	s, cfg := fake(t, lambdafake.FunctionOptions{})
	s.Close()
	_, err := lambda.Open(context.Background(), cfg)
	want := "lambda fn: GetFunctionConfiguration: no answer: dial tcp "
	if err == nil || !strings.HasPrefix(err.Error(), want) || !strings.HasSuffix(err.Error(), "connection refused (endpoint "+s.URL+")") || strings.Contains(err.Error(), "https") {
		t.Errorf("got  %v\nwant %s... connection refused (endpoint %s)", err, want, s.URL)
	}
}
