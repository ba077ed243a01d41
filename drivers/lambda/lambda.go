// Package lambda is the driver for AWS Lambda functions, through the
// Lambda Invoke API with the AWS SDK for Go v2 and its standard credential
// chain. Every invocation asks for the log tail (LogType: Tail) and reads
// the platform's REPORT line from it, in the text or the JSON log format:
// Init Duration (or SnapStart's Restore Duration) marks a cold start, and
// the billed duration and memory feed the cost model.
//
// The driver implements Configurer (memory on $LATEST, a published
// version, a "coldbench" alias pointed at it and provisioned concurrency
// on that alias), ColdForcer (an environment-variable change, the way
// published cold-start benchmarks force new instances), Describer and
// drivers.Restorer, which puts back what Configure and ForceCold changed.
//
// Function URLs are plain HTTPS: use the http driver, with its sigv4:
// block for IAM-authenticated URLs.
package lambda

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"text/template"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/coldbench/coldbench/drivers"
	httpdriver "github.com/coldbench/coldbench/drivers/http"
)

func init() {
	drivers.RegisterConfig("lambda", DefaultConfig, Open)
}

// AliasName is the alias that Configure creates or moves, and that
// invocations go to once Configure has run.
const AliasName = "coldbench"

// Config is the lambda driver's settings under a scenario's target block.
type Config struct {
	// Function is the function's name, partial ARN (123456789012:function:NAME)
	// or ARN, optionally with a :QUALIFIER suffix.
	Function string `yaml:"function"`
	// Qualifier is a version or alias to invoke; empty invokes $LATEST.
	Qualifier string `yaml:"qualifier"`
	// Region defaults to the ARN's region, then to the SDK's chain
	// (AWS_REGION, the profile's region).
	Region string `yaml:"region"`
	// Endpoint replaces the Lambda endpoint, for emulators and tests.
	Endpoint string `yaml:"endpoint"`
	// Payload is the JSON event, a text/template executed per request with
	// .Seq, .ID and .Phase.
	Payload string `yaml:"payload"`
	// Timeout bounds one invocation.
	Timeout time.Duration `yaml:"timeout"`
	// Profile selects a shared-config profile instead of the default one.
	Profile string `yaml:"profile"`
	// ReadyTimeout bounds each wait for the platform: an update to finish,
	// a version to become active, provisioned concurrency to be READY.
	ReadyTimeout time.Duration `yaml:"ready_timeout"`
	// Control, when false, makes no control-plane call at all: only
	// Invoke, for endpoints that serve nothing else (emulators). Unset or
	// true, a missing control plane is found at Open and warned about.
	Control *bool `yaml:"control"`

	// Credentials, when set, replace the SDK's default credential chain
	// (for tests and programs that embed coldbench).
	Credentials aws.CredentialsProvider `yaml:"-"`
	// ColdBody names fields of the Invoke payload carrying the cold flag
	// and instance id (a scenario's cold.body); read when the response has
	// no REPORT line to decide.
	ColdBody drivers.BodyMarkers `yaml:"-"`
}

// SetColdBody implements drivers.ColdBodySetter.
func (c *Config) SetColdBody(m drivers.BodyMarkers) { c.ColdBody = m }

// DefaultConfig returns a Config with its defaults set.
func DefaultConfig() *Config {
	return &Config{Payload: "{}", Timeout: 30 * time.Second, ReadyTimeout: 15 * time.Minute}
}

// functionName is what Lambda accepts as a function name.
var functionName = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,64}$`)

// target is a parsed Function setting.
type target struct {
	id        string // what API calls name: the name, partial ARN or ARN, unqualified
	name      string // the bare name, for messages
	region    string // from an ARN
	qualifier string // from a :QUALIFIER suffix
}

// parseFunction splits a function name, partial ARN or ARN.
func parseFunction(s string) (target, error) {
	p := strings.Split(s, ":")
	var t target
	switch {
	case p[0] == "arn":
		if len(p) < 7 || len(p) > 8 || p[2] != "lambda" || p[5] != "function" {
			return t, fmt.Errorf("%q is not a Lambda function ARN (arn:aws:lambda:REGION:ACCOUNT:function:NAME)", s)
		}
		t = target{id: strings.Join(p[:7], ":"), name: p[6], region: p[3]}
		if len(p) == 8 {
			t.qualifier = p[7]
		}
	case len(p) >= 3 && p[1] == "function":
		if len(p) > 4 {
			return t, fmt.Errorf("%q is not a partial function ARN (ACCOUNT:function:NAME)", s)
		}
		t = target{id: strings.Join(p[:3], ":"), name: p[2]}
		if len(p) == 4 {
			t.qualifier = p[3]
		}
	case len(p) <= 2:
		t = target{id: p[0], name: p[0]}
		if len(p) == 2 {
			t.qualifier = p[1]
		}
	default:
		return t, fmt.Errorf("%q is not a function name or ARN", s)
	}
	if !functionName.MatchString(t.name) {
		return t, fmt.Errorf("function name %q: want 1 to 64 letters, digits, - or _", t.name)
	}
	return t, nil
}

// Validate reports every bad setting as a *drivers.FieldError.
func (c *Config) Validate() error {
	var errs []error
	bad := func(field, msg string) { errs = append(errs, &drivers.FieldError{Field: field, Msg: msg}) }
	if c.Function == "" {
		bad("function", "is required")
	} else if t, err := parseFunction(c.Function); err != nil {
		bad("function", err.Error())
	} else {
		if t.qualifier != "" && c.Qualifier != "" && t.qualifier != c.Qualifier {
			bad("qualifier", fmt.Sprintf("%q conflicts with the function's :%s suffix", c.Qualifier, t.qualifier))
		}
		if t.region != "" && c.Region != "" && t.region != c.Region {
			bad("region", fmt.Sprintf("%q conflicts with the function ARN's region %s", c.Region, t.region))
		}
	}
	if c.Endpoint != "" {
		if u, err := url.Parse(c.Endpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("endpoint", fmt.Sprintf("%q: want an http:// or https:// URL", c.Endpoint))
		}
	}
	if err := checkPayload(c.Payload); err != nil {
		bad("payload", err.Error())
	}
	if c.Timeout <= 0 {
		bad("timeout", "must be positive")
	}
	if c.ReadyTimeout <= 0 {
		bad("ready_timeout", "must be positive")
	}
	return errors.Join(errs...)
}

// checkPayload parses the template and checks that it makes JSON.
func checkPayload(p string) error {
	t, err := template.New("payload").Parse(p)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	if err := t.Execute(&b, &drivers.Call{Seq: 1, ID: "validate", Phase: "validate"}); err != nil {
		return err
	}
	if b.Len() > 0 && !json.Valid(b.Bytes()) {
		return fmt.Errorf("is not JSON: %.60q", b.String())
	}
	return nil
}

// String describes the target for reports.
func (c *Config) String() string {
	s := c.Function
	if c.Qualifier != "" {
		s += ":" + c.Qualifier
	}
	if c.Region != "" {
		s += " in " + c.Region
	}
	return s
}

// Driver invokes one Lambda function. It is safe for concurrent use; the
// control-plane methods (Configure, ForceCold, Describe, Restore) are
// serialized among themselves.
type Driver struct {
	cfg       Config
	fn        target
	transport *http.Transport // nil when the SDK's client was not its own
	invoker   *lambda.Client  // Invoke, without retries: a throttle is data
	api       *lambda.Client  // the control plane, with the SDK's retries
	payload   *template.Template
	static    []byte
	marks     *drivers.BodyReader    // nil unless cold.body names fields
	qual      atomic.Pointer[string] // the qualifier invocations go to; "" is $LATEST

	mu   sync.Mutex // serializes the control plane
	orig *original  // what the first change found, for Restore

	// noControl says why there is no control plane ("" when there is
	// one): the scenario's control: false, or what the endpoint answered
	// at Open. Configure, ForceCold and Describe then refuse (invokeonly.go).
	noControl string
}

var (
	_ drivers.Manager        = (*Driver)(nil)
	_ drivers.ControlChecker = (*Driver)(nil)
)

// Open loads the AWS configuration (region, credentials) and checks that
// the function can be found, so that a wrong name, region or credentials
// fail here in one line rather than as a run of errors. An identity that
// may invoke but not read the configuration passes, and so does an
// endpoint without the control plane (an emulator): the driver then runs
// invoke-only, with a warning through drivers.Warn.
func Open(ctx context.Context, c *Config) (*Driver, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	fn, _ := parseFunction(c.Function)
	d := &Driver{cfg: *c, fn: fn}
	qual := c.Qualifier
	if qual == "" {
		qual = fn.qualifier
	}
	d.qual.Store(&qual)

	var opts []func(*config.LoadOptions) error
	region := c.Region
	if region == "" {
		region = fn.region
	}
	if region != "" {
		opts = append(opts, config.WithRegion(region))
	}
	if c.Profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(c.Profile))
	}
	if c.Credentials != nil {
		opts = append(opts, config.WithCredentialsProvider(c.Credentials))
	}
	awsCfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("lambda %s: load AWS configuration: %w", fn.name, err)
	}
	if awsCfg.Region == "" {
		return nil, fmt.Errorf("lambda %s: no region: set region: in the target, AWS_REGION, or a region in the profile", fn.name)
	}
	if bc, ok := awsCfg.HTTPClient.(*awshttp.BuildableClient); ok {
		// The SDK's transport (with AWS_CA_BUNDLE applied, if set), sized
		// for a load generator: an idle connection per request in flight,
		// not the default ten. Keeping it lets Close close them.
		d.transport = bc.GetTransport()
		d.transport.MaxIdleConns = 0
		d.transport.MaxIdleConnsPerHost = 10000
		awsCfg.HTTPClient = &http.Client{Transport: d.transport, Timeout: bc.GetTimeout(), CheckRedirect: noRedirect}
	}
	client := func(retry bool) *lambda.Client {
		return lambda.NewFromConfig(awsCfg, func(o *lambda.Options) {
			if c.Endpoint != "" {
				o.BaseEndpoint = aws.String(c.Endpoint)
			}
			if !retry {
				o.Retryer = aws.NopRetryer{}
			}
		})
	}
	d.invoker, d.api = client(false), client(true)

	if d.marks, err = drivers.NewBodyReader(c.ColdBody); err != nil {
		return nil, err
	}
	t := template.Must(template.New("payload").Parse(c.Payload))
	if strings.Contains(c.Payload, "{{") {
		d.payload = t
	} else {
		d.static = []byte(c.Payload)
	}

	if err := d.checkControl(ctx, qual); err != nil { // invokeonly.go
		return nil, err
	}
	return d, nil
}

// noRedirect keeps a redirect as the answer, as the SDK's own client does.
func noRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// Invoke implements drivers.Driver: one synchronous invocation with the
// log tail, read for the REPORT line. A throttle or any other error
// response from the Lambda API is data in c; only a call that got no
// response returns an error.
func (d *Driver) Invoke(ctx context.Context, c *drivers.Call) error {
	payload := d.static
	if d.payload != nil {
		var b bytes.Buffer
		if err := d.payload.Execute(&b, c); err != nil {
			return fmt.Errorf("payload template: %w", err)
		}
		payload = b.Bytes()
	}
	ctx, cancel := context.WithTimeout(ctx, d.cfg.Timeout)
	defer cancel()
	// The network phases, as the http driver records them, so that a cold
	// connection to the Lambda API is not taken for a cold start.
	ctx, finish := httpdriver.Trace(ctx)
	out, err := d.invoker.Invoke(ctx, &lambda.InvokeInput{
		FunctionName:   &d.fn.id,
		Qualifier:      optional(*d.qual.Load()),
		InvocationType: types.InvocationTypeRequestResponse,
		LogType:        types.LogTypeTail,
		Payload:        payload,
		ClientContext:  clientContext(&c.Trace), // tracecontext.go
	})
	finish(c)
	if err != nil {
		return invokeError(c, err)
	}
	c.Status = int(out.StatusCode)
	c.FunctionError = out.FunctionError != nil || (out.ExecutedVersion == nil && isErrorPayload(out.Payload))
	if out.FunctionError != nil {
		c.Code = *out.FunctionError // "Unhandled", "Handled"
	} else if c.FunctionError {
		c.Code = "Unhandled" // an emulator's error document without the header
	}
	c.BytesIn = int64(len(out.Payload))
	if out.LogResult != nil {
		if r, ok := ParseLogResult(*out.LogResult); ok {
			r.Fill(c)
		}
	}
	d.marks.Read(out.Payload, c)
	return nil
}

// invokeError turns an error response into data in c: a throttle
// (TooManyRequestsException, 429) sets Throttled, any other error response
// its status. Errors without a response (timeouts, refused connections,
// missing credentials) are returned.
func invokeError(c *drivers.Call, err error) error {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return err
	}
	var tooMany *types.TooManyRequestsException
	var re *awshttp.ResponseError
	switch {
	case errors.As(err, &tooMany):
		c.Status, c.Throttled = http.StatusTooManyRequests, true
	case errors.As(err, &re) && re.HTTPStatusCode() >= 300:
		c.Status = re.HTTPStatusCode()
		c.Throttled = c.Status == http.StatusTooManyRequests
	default:
		return err
	}
	return nil
}

// Close implements drivers.Driver: it closes idle connections. It does not
// restore anything: call Restore for that.
func (d *Driver) Close() error {
	if d.transport != nil {
		d.transport.CloseIdleConnections()
	}
	return nil
}

// optional is nil for an empty string, for optional API fields.
func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
