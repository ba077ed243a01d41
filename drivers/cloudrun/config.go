package cloudrun

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"time"

	"cloud.google.com/go/auth"

	"github.com/coldbench/coldbench/drivers"
	httpdriver "github.com/coldbench/coldbench/drivers/http"
)

// DefaultEndpoint is the Cloud Run Admin API.
const DefaultEndpoint = "https://run.googleapis.com"

// Config is the cloudrun driver's settings under a scenario's target block.
type Config struct {
	// Project, Region and Service name the Cloud Run service.
	Project string `yaml:"project"`
	Region  string `yaml:"region"`
	Service string `yaml:"service"`
	// URL overrides where invocations go; empty means the service's uri.
	URL string `yaml:"url"`
	// Audience is the identity token's audience; empty means the
	// service's uri (set it for a custom audience).
	Audience string `yaml:"audience"`
	// Unauthenticated invokes without an identity token, for a service
	// that allows unauthenticated invocations.
	Unauthenticated bool `yaml:"unauthenticated"`
	// Endpoint is the Admin API's base URL.
	Endpoint string `yaml:"endpoint"`
	// CredentialsFile is a service account key, impersonated service
	// account or external account file; empty means Application Default
	// Credentials ($GOOGLE_APPLICATION_CREDENTIALS, gcloud's, or the
	// metadata server).
	CredentialsFile string `yaml:"credentials_file"`
	// Method, Body, Headers and Timeout shape each invocation.
	httpdriver.Invocation `yaml:",inline"`
	// ReadyTimeout bounds each wait for a long-running operation
	// (Configure, ForceCold, Restore).
	ReadyTimeout time.Duration `yaml:"ready_timeout"`
	// PollInterval is how often a wait reads the operation.
	PollInterval time.Duration `yaml:"poll_interval"`

	// AdminTokens and IDTokens, when set, replace the tokens made from the
	// credentials: access tokens for the Admin API and identity tokens for
	// the service. For programs that hold their own credentials.
	AdminTokens auth.TokenProvider `yaml:"-"`
	IDTokens    auth.TokenProvider `yaml:"-"`
}

// DefaultConfig returns a Config with its defaults set.
func DefaultConfig() *Config {
	return &Config{
		Endpoint:     DefaultEndpoint,
		Invocation:   httpdriver.Invocation{Method: http.MethodGet, Timeout: 30 * time.Second},
		ReadyTimeout: 10 * time.Minute,
		PollInterval: 2 * time.Second,
	}
}

// SetURL implements drivers.URLSetter for --target: invocations go to u
// instead of the service's uri (the token's audience stays the uri).
func (c *Config) SetURL(u string) error {
	c.URL = u
	return checkURL("url", c.URL)
}

var (
	projectRE = regexp.MustCompile(`^[a-z][a-z0-9-]{4,28}[a-z0-9]$|^[a-z0-9.:-]+$`)
	regionRE  = regexp.MustCompile(`^[a-z]+-[a-z]+[0-9]+$`)
	serviceRE = regexp.MustCompile(`^[a-z]([a-z0-9-]{0,47}[a-z0-9])?$`)
)

// Validate reports every bad setting as a *drivers.FieldError.
func (c *Config) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, &drivers.FieldError{Field: field, Msg: fmt.Sprintf(format, args...)})
	}
	for _, f := range []struct {
		field, value string
		re           *regexp.Regexp
	}{{"project", c.Project, projectRE}, {"region", c.Region, regionRE}, {"service", c.Service, serviceRE}} {
		switch {
		case f.value == "":
			bad(f.field, "is required")
		case !f.re.MatchString(f.value):
			bad(f.field, "%q is not a Cloud Run %s name", f.value, f.field)
		}
	}
	for _, f := range []struct{ field, value string }{{"url", c.URL}, {"audience", c.Audience}, {"endpoint", c.Endpoint}} {
		if err := checkURL(f.field, f.value); err != nil {
			errs = append(errs, err)
		}
	}
	if c.Endpoint == "" {
		bad("endpoint", "is required")
	}
	if c.CredentialsFile != "" {
		if _, err := os.Stat(c.CredentialsFile); err != nil {
			bad("credentials_file", "%v", err)
		}
	}
	errs = append(errs, c.Invocation.Check()...)
	if c.ReadyTimeout <= 0 {
		bad("ready_timeout", "must be positive")
	}
	if c.PollInterval <= 0 {
		bad("poll_interval", "must be positive")
	}
	return errors.Join(errs...)
}

func checkURL(field, s string) error {
	if s == "" {
		return nil
	}
	u, err := url.Parse(s)
	if err != nil {
		return &drivers.FieldError{Field: field, Msg: err.Error()}
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return &drivers.FieldError{Field: field, Msg: fmt.Sprintf("%q: want an http:// or https:// URL", s)}
	}
	return nil
}

// name is the service's resource name.
func (c *Config) name() string {
	return "projects/" + c.Project + "/locations/" + c.Region + "/services/" + c.Service
}

// String describes the target for reports.
func (c *Config) String() string {
	s := c.Service + " (" + c.Project + ", " + c.Region + ")"
	if c.URL != "" {
		s += " at " + c.URL
	}
	return s
}
