package knative

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"text/template"
	"time"

	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/dynamic"

	"github.com/coldbench/coldbench/drivers"
)

// Config is the knative driver's settings under a scenario's target block.
type Config struct {
	// Service is the Knative Service's name.
	Service string `yaml:"service"`
	// Namespace is the Service's namespace; empty means the kubeconfig
	// context's namespace, else "default".
	Namespace string `yaml:"namespace"`
	// Kubeconfig is a kubeconfig file; empty means $KUBECONFIG or
	// ~/.kube/config, and in a pod without either, the in-cluster config.
	Kubeconfig string `yaml:"kubeconfig"`
	// Context is the kubeconfig context; empty means the current one.
	Context string `yaml:"context"`
	// URL overrides where invocations go; empty means the Service's
	// status.url.
	URL string `yaml:"url"`
	// Method, Body and Headers shape each invocation; Body is a
	// text/template executed per request with .Seq, .ID and .Phase.
	Method  string            `yaml:"method"`
	Body    string            `yaml:"body"`
	Headers map[string]string `yaml:"headers"`
	// Timeout bounds one invocation and one API call.
	Timeout time.Duration `yaml:"timeout"`
	// ReadyTimeout bounds each wait for the Service to become ready or its
	// revision to scale (Configure, ForceCold, Restore). Scaling to zero
	// takes Knative's stable window plus its grace period, about 90 s by
	// default.
	ReadyTimeout time.Duration `yaml:"ready_timeout"`
	// PollInterval is how often a wait reads the Service.
	PollInterval time.Duration `yaml:"poll_interval"`

	// Client, when set, is used instead of a client made from the
	// kubeconfig: tests set client-go's fake dynamic client here.
	Client dynamic.Interface `yaml:"-"`

	coldHeaders    []string
	instanceHeader string
	coldBody       drivers.BodyMarkers
}

// DefaultConfig returns a Config with its defaults set.
func DefaultConfig() *Config {
	return &Config{
		Method:       http.MethodGet,
		Timeout:      30 * time.Second,
		ReadyTimeout: 5 * time.Minute,
		PollInterval: time.Second,
	}
}

// SetColdHeaders implements drivers.ColdHeaderSetter: a header the function
// sets still marks its own cold starts.
func (c *Config) SetColdHeaders(cold []string, instance string) {
	c.coldHeaders, c.instanceHeader = cold, instance
}

// SetColdBody implements drivers.ColdBodySetter: the function's response
// body markers, read by the http driver underneath.
func (c *Config) SetColdBody(m drivers.BodyMarkers) { c.coldBody = m }

// SetURL implements drivers.URLSetter for --target: invocations go to u
// instead of the Service's URL.
func (c *Config) SetURL(u string) error {
	c.URL = u
	return c.validateURL()
}

func (c *Config) validateURL() error {
	if c.URL == "" {
		return nil
	}
	u, err := url.Parse(c.URL)
	if err != nil {
		return &drivers.FieldError{Field: "url", Msg: err.Error()}
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return &drivers.FieldError{Field: "url", Msg: fmt.Sprintf("%q: want an http:// or https:// URL", c.URL)}
	}
	return nil
}

// Validate reports every bad setting as a *drivers.FieldError.
func (c *Config) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, &drivers.FieldError{Field: field, Msg: fmt.Sprintf(format, args...)})
	}
	if c.Service == "" {
		bad("service", "is required")
	} else if msgs := validation.IsDNS1035Label(c.Service); len(msgs) > 0 {
		bad("service", "%q: %s", c.Service, strings.Join(msgs, "; "))
	}
	if c.Namespace != "" {
		if msgs := validation.IsDNS1123Label(c.Namespace); len(msgs) > 0 {
			bad("namespace", "%q: %s", c.Namespace, strings.Join(msgs, "; "))
		}
	}
	if c.Kubeconfig != "" && c.Client == nil {
		if _, err := os.Stat(c.Kubeconfig); err != nil {
			bad("kubeconfig", "%v", err)
		}
	}
	if err := c.validateURL(); err != nil {
		errs = append(errs, err)
	}
	if c.Method == "" || strings.ContainsAny(c.Method, " \t\r\n") {
		bad("method", "%q is not an HTTP method", c.Method)
	}
	if _, err := template.New("body").Parse(c.Body); err != nil {
		bad("body", "%v", err)
	}
	if c.Timeout <= 0 {
		bad("timeout", "must be positive")
	}
	if c.ReadyTimeout <= 0 {
		bad("ready_timeout", "must be positive")
	}
	if c.PollInterval <= 0 {
		bad("poll_interval", "must be positive")
	}
	return errors.Join(errs...)
}

// String describes the target for reports.
func (c *Config) String() string {
	s := "service " + c.Service
	if c.Namespace != "" {
		s = "service " + c.Namespace + "/" + c.Service
	}
	if c.URL != "" {
		s += " at " + c.URL
	}
	return s
}
