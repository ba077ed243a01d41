package openfaas

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/coldbench/coldbench/drivers"
	httpdriver "github.com/coldbench/coldbench/drivers/http"
)

// Config is the openfaas driver's settings under a scenario's target block.
type Config struct {
	// Gateway is the OpenFaaS gateway's base URL, such as
	// http://127.0.0.1:8080.
	Gateway string `yaml:"gateway"`
	// Function is the function's name.
	Function string `yaml:"function"`
	// Namespace is the function's namespace; empty means the gateway's
	// default (openfaas-fn on Kubernetes).
	Namespace string `yaml:"namespace"`
	// Username and Password (or PasswordFile, whose contents are trimmed)
	// authenticate to the gateway's /system API with basic auth. Without
	// them the driver only invokes, and reports no temperature.
	Username     string `yaml:"username"`
	Password     string `yaml:"password"`
	PasswordFile string `yaml:"password_file"`
	// Method, Body, Headers and Timeout shape each invocation.
	httpdriver.Invocation `yaml:",inline"`
	// ReadyTimeout bounds each wait for the gateway to report a change
	// (Configure, ForceCold, Restore).
	ReadyTimeout time.Duration `yaml:"ready_timeout"`
	// PollInterval is how often the driver reads the function's status
	// while it waits, and in the background to follow its replica count
	// for cold-start detection; 0 turns the background reading off.
	PollInterval time.Duration `yaml:"poll_interval"`
}

// Labels and defaults of the OpenFaaS platform.
const (
	// LabelMinScale is the label that keeps a minimum number of replicas.
	LabelMinScale = "com.openfaas.scale.min"
	// DefaultUsername is the gateway's default admin user.
	DefaultUsername = "admin"
)

// DefaultConfig returns a Config with its defaults set.
func DefaultConfig() *Config {
	return &Config{
		Invocation:   httpdriver.Invocation{Method: http.MethodPost, Timeout: 30 * time.Second},
		ReadyTimeout: 5 * time.Minute,
		PollInterval: time.Second,
	}
}

// Validate reports every bad setting as a *drivers.FieldError.
func (c *Config) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, &drivers.FieldError{Field: field, Msg: fmt.Sprintf(format, args...)})
	}
	if c.Gateway == "" {
		bad("gateway", "is required")
	} else if u, err := url.Parse(c.Gateway); err != nil {
		bad("gateway", "%v", err)
	} else if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		bad("gateway", "%q: want an http:// or https:// URL", c.Gateway)
	}
	if c.Function == "" {
		bad("function", "is required")
	} else if strings.ContainsAny(c.Function, "/.?# ") {
		bad("function", "%q is not a function name", c.Function)
	}
	if strings.ContainsAny(c.Namespace, "/.?# ") {
		bad("namespace", "%q is not a namespace", c.Namespace)
	}
	if c.Password != "" && c.PasswordFile != "" {
		bad("password_file", "password and password_file exclude each other")
	}
	if c.PasswordFile != "" {
		if _, err := os.Stat(c.PasswordFile); err != nil {
			bad("password_file", "%v", err)
		}
	}
	errs = append(errs, c.Invocation.Check()...)
	if c.ReadyTimeout <= 0 {
		bad("ready_timeout", "must be positive")
	}
	if c.PollInterval < 0 {
		bad("poll_interval", "must not be negative")
	}
	return errors.Join(errs...)
}

// credentials returns the basic-auth user and password, reading the
// password file if there is one. ok is false when none are configured.
func (c *Config) credentials() (user, pass string, ok bool, err error) {
	pass = c.Password
	if c.PasswordFile != "" {
		b, err := os.ReadFile(c.PasswordFile)
		if err != nil {
			return "", "", false, fmt.Errorf("password_file: %w", err)
		}
		pass = strings.TrimSpace(string(b))
	}
	user = c.Username
	if user == "" && pass != "" {
		user = DefaultUsername
	}
	return user, pass, user != "" || pass != "", nil
}

// qualified is the function's name as the gateway routes it: name or
// name.namespace.
func (c *Config) qualified() string {
	if c.Namespace == "" {
		return c.Function
	}
	return c.Function + "." + c.Namespace
}

// invokeURL is where invocations go: {gateway}/function/{name}[.{namespace}].
func (c *Config) invokeURL() string {
	return strings.TrimRight(c.Gateway, "/") + "/function/" + c.qualified()
}

// TargetHost is the gateway's host:port, where invocations go, for agents
// with an allow-list of targets.
func (c *Config) TargetHost() string {
	u, err := url.Parse(c.Gateway)
	if err != nil {
		return ""
	}
	port := u.Port()
	switch {
	case port != "":
	case u.Scheme == "https":
		port = "443"
	default:
		port = "80"
	}
	return net.JoinHostPort(u.Hostname(), port)
}

// String describes the target for reports.
func (c *Config) String() string {
	return c.Method + " " + c.invokeURL()
}
