package knative

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/dynamic"

	"github.com/coldbench/coldbench/drivers"
	httpdriver "github.com/coldbench/coldbench/drivers/http"
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
	// Method, Body, Headers and Timeout shape each invocation.
	httpdriver.Invocation `yaml:",inline"`
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
}

// DefaultConfig returns a Config with its defaults set.
func DefaultConfig() *Config {
	return &Config{
		Invocation:   httpdriver.Invocation{Method: http.MethodGet, Timeout: 30 * time.Second},
		ReadyTimeout: 5 * time.Minute,
		PollInterval: time.Second,
	}
}

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
	errs = append(errs, c.Invocation.Check()...)
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
