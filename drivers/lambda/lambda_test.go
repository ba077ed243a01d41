package lambda_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/coldbench/coldbench/drivers"
	"github.com/coldbench/coldbench/drivers/drivertest"
	"github.com/coldbench/coldbench/drivers/lambda"
	"github.com/coldbench/coldbench/drivers/lambda/lambdafake"
)

// fake starts a fake Lambda API with one function, "fn", and returns it
// with a driver configuration pointing at it.
func fake(t *testing.T, fo lambdafake.FunctionOptions) (*lambdafake.Server, *lambda.Config) {
	t.Helper()
	s := lambdafake.New(t, lambdafake.Options{})
	s.AddFunction("fn", fo)
	cfg := lambda.DefaultConfig()
	cfg.Function = "fn"
	cfg.Region = s.Region()
	cfg.Endpoint = s.URL
	cfg.Credentials = s.Credentials()
	cfg.Timeout = 10 * time.Second
	cfg.ReadyTimeout = 10 * time.Second
	return s, cfg
}

func open(t *testing.T, cfg *lambda.Config) *lambda.Driver {
	t.Helper()
	d, err := lambda.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func invoke(t *testing.T, d drivers.Driver) (*drivers.Call, drivers.Outcome) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c := &drivers.Call{ID: "id", Phase: "test"}
	err := d.Invoke(ctx, c)
	return c, drivers.Classify(c, err)
}

func TestConformance(t *testing.T) {
	for _, format := range []string{"Text", "JSON"} {
		t.Run(format, func(t *testing.T) {
			drivertest.RunConformanceTests(t, drivertest.HarnessFunc(func(t *testing.T) drivers.Driver {
				_, cfg := fake(t, lambdafake.FunctionOptions{LogFormat: format})
				d, err := lambda.Open(context.Background(), cfg)
				if err != nil {
					t.Fatal(err)
				}
				return d
			}))
		})
	}
}

// TestInvokeSignals checks what a cold and a warm invocation fill in, in
// both log formats, with tails long enough to be cut at 4 KB.
func TestInvokeSignals(t *testing.T) {
	t.Parallel()
	for _, format := range []string{"Text", "JSON"} {
		for _, logBytes := range []int{0, 20000} {
			_, cfg := fake(t, lambdafake.FunctionOptions{LogFormat: format, MemoryMB: 256, LogBytes: logBytes})
			d := open(t, cfg)
			cold, o := invoke(t, d)
			if o != drivers.OK || cold.Status != 200 {
				t.Fatalf("%s/%d: first call %s, status %d", format, logBytes, o, cold.Status)
			}
			if cold.Temp != drivers.Cold || cold.Source != drivers.SourcePlatform || cold.Init <= 0 {
				t.Errorf("%s/%d: first call %s from %s, init %v; want cold from the platform", format, logBytes, cold.Temp, cold.Source, cold.Init)
			}
			if cold.MemoryMB != 256 || cold.MaxMemoryMB <= 0 || cold.Billed <= 0 || cold.BytesIn == 0 || cold.Sent.IsZero() {
				t.Errorf("%s/%d: first call memory %d/%d MB, billed %v, %d bytes, sent %v", format, logBytes, cold.MaxMemoryMB, cold.MemoryMB, cold.Billed, cold.BytesIn, cold.Sent)
			}
			if cold.InstanceID != "" {
				t.Errorf("InstanceID = %q: Lambda reports none", cold.InstanceID)
			}
			warm, _ := invoke(t, d)
			if warm.Temp != drivers.Warm || warm.Init != 0 {
				t.Errorf("%s/%d: second call %s, init %v; want warm", format, logBytes, warm.Temp, warm.Init)
			}
		}
	}
}

// TestFunctionError: an unhandled error in the function is a function
// error, not a failed call.
func TestFunctionError(t *testing.T) {
	t.Parallel()
	_, cfg := fake(t, lambdafake.FunctionOptions{Handle: func([]byte) ([]byte, error) { return nil, errors.New("boom") }})
	c, o := invoke(t, open(t, cfg))
	if o != drivers.FunctionError || !c.FunctionError || c.Status != 200 || c.Temp != drivers.Cold {
		t.Errorf("outcome %s, FunctionError %v, status %d, %s; want function_error, status 200, cold", o, c.FunctionError, c.Status, c.Temp)
	}
	// The function error type is the code kept beside the class.
	if code := drivers.ErrorCode(c, o); code != "Unhandled" {
		t.Errorf("error code %q, want Lambda's function error type Unhandled", code)
	}
}

// TestThrottle: beyond the concurrency limit Lambda answers 429
// TooManyRequestsException, which is a throttled response, not an error,
// and is not retried.
func TestThrottle(t *testing.T) {
	t.Parallel()
	s, cfg := fake(t, lambdafake.FunctionOptions{ConcurrencyLimit: 1, Handler: 300 * time.Millisecond})
	d := open(t, cfg)
	var wg sync.WaitGroup
	calls := make([]*drivers.Call, 2)
	outcomes := make([]drivers.Outcome, 2)
	for i := range calls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i == 1 {
				time.Sleep(100 * time.Millisecond) // let the first one take the only slot
			}
			calls[i], outcomes[i] = invoke(t, d)
		}()
	}
	wg.Wait()
	if outcomes[0] != drivers.OK {
		t.Errorf("first call: %s", outcomes[0])
	}
	if c := calls[1]; outcomes[1] != drivers.Throttled || !c.Throttled || c.Status != http.StatusTooManyRequests {
		t.Errorf("second call: %s, Throttled %v, status %d; want throttled 429", outcomes[1], c.Throttled, c.Status)
	}
	if n := s.Calls("Invoke"); n != 2 {
		t.Errorf("%d Invoke calls reached the fake, want 2: a throttle must not be retried", n)
	}
}

// TestPayloadTemplate: the payload is rendered per call and reaches the
// function.
func TestPayloadTemplate(t *testing.T) {
	t.Parallel()
	got := make(chan string, 1)
	_, cfg := fake(t, lambdafake.FunctionOptions{Handle: func(p []byte) ([]byte, error) {
		got <- string(p)
		return []byte(`{}`), nil
	}})
	cfg.Payload = `{"seq": {{.Seq}}, "id": "{{.ID}}", "phase": "{{.Phase}}"}`
	if _, o := invoke(t, open(t, cfg)); o != drivers.OK {
		t.Fatal(o)
	}
	if p := <-got; p != `{"seq": 0, "id": "id", "phase": "test"}` {
		t.Errorf("payload %s", p)
	}
}

// TestOpenErrors: a wrong function, region or secret fails Open in one line
// naming the function and the call.
func TestOpenErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		change func(*lambda.Config)
		want   string
	}{
		// A function the account does not have.
		{"not found", func(c *lambda.Config) { c.Function = "nope" }, "lambda nope: GetFunctionConfiguration: not found: Function not found"},
		// Signed for another region: the signature does not verify.
		{"wrong region", func(c *lambda.Config) { c.Region = "eu-west-1" }, "lambda fn: GetFunctionConfiguration: credentials rejected: Credential should be scoped to a valid region"},
		// The right key id with the wrong secret.
		{"wrong secret", func(c *lambda.Config) {
			c.Credentials = staticCreds(lambdafake.TestCredentials.AccessKeyID, "wrong")
		}, "lambda fn: GetFunctionConfiguration: credentials rejected: The request signature we calculated does not match"},
		// A key id the fake does not know.
		{"unknown key", func(c *lambda.Config) { c.Credentials = staticCreds("AKIDUNKNOWN", "x") }, "lambda fn: GetFunctionConfiguration: credentials rejected: The security token included in the request is invalid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, cfg := fake(t, lambdafake.FunctionOptions{})
			tt.change(cfg)
			_, err := lambda.Open(context.Background(), cfg)
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("Open: %v\nwant one line starting %q", err, tt.want)
			}
		})
	}
}

// TestOpenInvokeOnly: an identity that may invoke but not read the
// configuration can still run.
func TestOpenInvokeOnly(t *testing.T) {
	t.Parallel()
	s, cfg := fake(t, lambdafake.FunctionOptions{})
	s.FailCall("GetFunctionConfiguration", 1, lambdafake.AccessDenied)
	if _, o := invoke(t, open(t, cfg)); o != drivers.OK {
		t.Errorf("invoke: %s", o)
	}
}

// TestUnsignedRejected: the fake refuses a request without a signature, as
// Lambda does.
func TestUnsignedRejected(t *testing.T) {
	t.Parallel()
	s, _ := fake(t, lambdafake.FunctionOptions{})
	resp, err := http.Post(s.URL+"/2015-03-31/functions/fn/invocations", "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || resp.Header.Get("X-Amzn-ErrorType") != "MissingAuthenticationTokenException" {
		t.Errorf("unsigned: %d %s", resp.StatusCode, resp.Header.Get("X-Amzn-ErrorType"))
	}
	if n := s.Calls("Invoke"); n != 0 {
		t.Errorf("an unsigned request reached the API (%d calls)", n)
	}
}

func staticCreds(id, secret string) aws.CredentialsProvider {
	return aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
		return aws.Credentials{AccessKeyID: id, SecretAccessKey: secret}, nil
	})
}

// TestInvokeByARN: a function named by ARN (region taken from it) or
// partial ARN, with a :qualifier suffix, is signed and routed right; the
// ARN's colons are escaped in the path and signed double-encoded.
func TestInvokeByARN(t *testing.T) {
	t.Parallel()
	s, cfg := fake(t, lambdafake.FunctionOptions{})
	for i, fn := range []string{s.FunctionARN("fn"), s.FunctionARN("fn") + ":$LATEST", "123456789012:function:fn"} {
		c := *cfg
		c.Function = fn
		if i < 2 {
			c.Region = "" // from the ARN
		}
		d := open(t, &c)
		if _, o := invoke(t, d); o != drivers.OK {
			t.Errorf("%s: %s", fn, o)
		}
	}
}

// TestValidate: bad settings are reported per field.
func TestValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		change func(*lambda.Config)
		want   string // "" for valid
	}{
		// A plain name is enough.
		{"minimal", func(c *lambda.Config) {}, ""},
		// No function at all.
		{"no function", func(c *lambda.Config) { c.Function = "" }, "function: is required"},
		// Not a Lambda ARN.
		{"bad arn", func(c *lambda.Config) { c.Function = "arn:aws:s3:::bucket" }, "function: \"arn:aws:s3:::bucket\" is not a Lambda function ARN"},
		// A name Lambda would refuse.
		{"bad name", func(c *lambda.Config) { c.Function = "my fn" }, "function: function name \"my fn\""},
		// The suffix and the setting disagree.
		{"two qualifiers", func(c *lambda.Config) { c.Function, c.Qualifier = "fn:prod", "dev" }, "qualifier: \"dev\" conflicts"},
		// The ARN and the setting disagree on the region.
		{"two regions", func(c *lambda.Config) {
			c.Function, c.Region = "arn:aws:lambda:eu-west-1:123456789012:function:fn", "us-east-1"
		}, "region: \"us-east-1\" conflicts"},
		// An endpoint that is not a URL.
		{"bad endpoint", func(c *lambda.Config) { c.Endpoint = "localhost:9000" }, "endpoint:"},
		// A template that does not parse, or does not make JSON.
		{"bad template", func(c *lambda.Config) { c.Payload = `{"seq": {{.Seq}` }, "payload:"},
		{"not json", func(c *lambda.Config) { c.Payload = `seq={{.Seq}}` }, "payload: is not JSON"},
		{"unknown field", func(c *lambda.Config) { c.Payload = `{"x": "{{.Nope}}"}` }, "payload:"},
		// Durations must be positive.
		{"timeouts", func(c *lambda.Config) { c.Timeout, c.ReadyTimeout = 0, -1 }, "timeout: must be positive\nready_timeout: must be positive"},
	}
	for _, tt := range tests {
		c := lambda.DefaultConfig()
		c.Function = "fn"
		tt.change(c)
		err := c.Validate()
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: %v", tt.name, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%s: %v, want %q", tt.name, err, tt.want)
		}
	}
}
