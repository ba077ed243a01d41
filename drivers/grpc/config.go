// Package grpcdriver is the driver for any unary method of any gRPC service.
// The method is resolved once, at Open, by server reflection or from a
// descriptor-set file; requests are written as JSON, converted with protojson
// into dynamic messages, and sent on one shared HTTP/2 connection (or a small
// pool). Cold starts are read from a response metadata key the function
// sets, and gRPC status codes are mapped to HTTP-equivalent statuses so the
// portable layer classes them like any other driver's.
//
// The directory is drivers/grpc; the package is named grpcdriver so that it
// does not clash with google.golang.org/grpc.
package grpcdriver

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"text/template"
	"time"

	"github.com/coldbench/coldbench/drivers"
	httpdriver "github.com/coldbench/coldbench/drivers/http"
)

func init() {
	drivers.RegisterConfig("grpc", DefaultConfig, Open)
}

// Config is the grpc driver's settings under a scenario's target block.
type Config struct {
	// Address is the server's host:port.
	Address string `yaml:"address"`
	// Method is the full method name, "package.Service/Method" or
	// "/package.Service/Method". It must be unary.
	Method string `yaml:"method"`
	// Request is the request message as JSON (protojson: field names or
	// their lowerCamel JSON names), a text/template executed per request
	// with .Seq, .ID and .Phase. Empty means the empty message.
	Request string `yaml:"request"`
	// Metadata is sent with every request.
	Metadata map[string]string `yaml:"metadata"`
	// DescriptorSet is a FileDescriptorSet file (protoc --descriptor_set_out
	// --include_imports) that describes the method. When empty the method
	// is resolved by server reflection (v1, falling back to v1alpha).
	DescriptorSet string `yaml:"descriptor_set"`
	// Timeout bounds each call; it is also the call's gRPC deadline, and
	// bounds connecting and resolving at Open.
	Timeout time.Duration `yaml:"timeout"`
	// Plaintext sends HTTP/2 without TLS (h2c). Without it the connection
	// uses TLS with the TLS settings.
	Plaintext bool      `yaml:"plaintext"`
	TLS       TLSConfig `yaml:"tls"`
	// Connections is how many HTTP/2 connections calls are spread over,
	// round robin. One multiplexes every call; a few help against a
	// server's limit on concurrent streams per connection.
	Connections int `yaml:"connections"`
	// ColdMetadata names a response header or trailer whose truthy value
	// ("true", "1", "yes", "cold") marks a cold start; another value marks
	// a warm one.
	ColdMetadata string `yaml:"cold_metadata"`
	// InstanceMetadata names a response header or trailer carrying the id
	// of the instance that served the call.
	InstanceMetadata string `yaml:"instance_metadata"`
	// RequestIDMetadata names the request metadata key that carries each
	// call's request id; empty sends none.
	RequestIDMetadata string `yaml:"request_id_metadata"`

	// ScenarioCold holds the scenario's cold: headers, set through
	// SetColdHeaders; they are read after ColdMetadata.
	ScenarioCold []string `yaml:"-"`
}

// TLSConfig holds client TLS options: the http driver's, with the same
// keys.
type TLSConfig = httpdriver.TLSConfig

// DefaultConfig returns a Config with its defaults set.
func DefaultConfig() *Config {
	return &Config{
		Request:           "{}",
		Timeout:           30 * time.Second,
		Connections:       1,
		RequestIDMetadata: "x-request-id",
	}
}

// SetColdHeaders implements drivers.ColdHeaderSetter: a scenario's cold:
// block applies to response metadata. The target's own cold_metadata and
// instance_metadata win; the scenario's fill in what they leave empty.
func (c *Config) SetColdHeaders(cold []string, instance string) {
	c.ScenarioCold = cold
	if c.InstanceMetadata == "" {
		c.InstanceMetadata = instance
	}
}

// SetURL implements drivers.URLSetter for --target. It takes host:port,
// grpc://host:port (plaintext) or grpcs://host:port (TLS).
func (c *Config) SetURL(u string) error {
	if scheme, rest, ok := strings.Cut(u, "://"); ok {
		p, err := url.Parse(u)
		if err != nil {
			return &drivers.FieldError{Field: "address", Msg: err.Error()}
		}
		switch scheme {
		case "grpc":
			c.Plaintext = true
		case "grpcs":
			c.Plaintext = false
		default:
			return &drivers.FieldError{Field: "address", Msg: fmt.Sprintf("scheme %q: want grpc:// or grpcs://", scheme)}
		}
		if p.Path != "" && p.Path != "/" {
			return &drivers.FieldError{Field: "address", Msg: fmt.Sprintf("%q has a path; a gRPC target is host:port", rest)}
		}
		u = p.Host
	}
	c.Address = u
	return c.validateAddress()
}

func (c *Config) validateAddress() error {
	if c.Address == "" {
		return &drivers.FieldError{Field: "address", Msg: "is required"}
	}
	host, port, err := net.SplitHostPort(c.Address)
	if err != nil {
		return &drivers.FieldError{Field: "address", Msg: fmt.Sprintf("%q is not host:port", c.Address)}
	}
	if host == "" || port == "" {
		return &drivers.FieldError{Field: "address", Msg: fmt.Sprintf("%q is not host:port", c.Address)}
	}
	return nil
}

// Validate reports every bad setting as a *drivers.FieldError.
func (c *Config) Validate() error {
	var errs []error
	add := func(field, format string, args ...any) {
		errs = append(errs, &drivers.FieldError{Field: field, Msg: fmt.Sprintf(format, args...)})
	}
	if err := c.validateAddress(); err != nil {
		errs = append(errs, err)
	}
	if _, _, err := splitMethod(c.Method); err != nil {
		add("method", "%v", err)
	}
	if _, err := template.New("request").Parse(c.Request); err != nil {
		add("request", "%v", err)
	}
	if c.Timeout <= 0 {
		add("timeout", "must be positive")
	}
	if c.Connections < 1 || c.Connections > maxConnections {
		add("connections", "%d: want 1 to %d", c.Connections, maxConnections)
	}
	for k, v := range c.Metadata {
		if err := checkKey(k); err != nil {
			add("metadata."+k, "%v", err)
		} else if !strings.HasSuffix(strings.ToLower(k), "-bin") && !printable(v) {
			add("metadata."+k, "value must be printable ASCII (or use a -bin key)")
		}
	}
	for _, f := range []struct{ field, key string }{
		{"cold_metadata", c.ColdMetadata},
		{"instance_metadata", c.InstanceMetadata},
		{"request_id_metadata", c.RequestIDMetadata},
	} {
		if f.key == "" {
			continue
		}
		if err := checkKey(f.key); err != nil {
			add(f.field, "%v", err)
		}
	}
	if c.Plaintext && c.TLS != (TLSConfig{}) {
		add("tls", "is set together with plaintext: true; choose one")
	}
	if (c.TLS.CertFile == "") != (c.TLS.KeyFile == "") {
		add("tls.cert_file", "cert_file and key_file go together")
	}
	for _, f := range []struct{ field, path string }{
		{"tls.ca_file", c.TLS.CAFile},
		{"tls.cert_file", c.TLS.CertFile},
		{"tls.key_file", c.TLS.KeyFile},
		{"descriptor_set", c.DescriptorSet},
	} {
		if f.path == "" {
			continue
		}
		if _, err := os.Stat(f.path); err != nil {
			add(f.field, "%v", err)
		}
	}
	return errors.Join(errs...)
}

// maxConnections bounds the connection pool: HTTP/2 multiplexes calls, so a
// few connections are plenty, and a large pool is probably a typo.
const maxConnections = 64

// splitMethod splits "pkg.Service/Method" (with or without a leading
// slash) into the service's full name and the method name.
func splitMethod(m string) (service, method string, err error) {
	if m == "" {
		return "", "", errors.New("is required, as package.Service/Method")
	}
	s := strings.TrimPrefix(m, "/")
	service, method, ok := strings.Cut(s, "/")
	if !ok || service == "" || method == "" || strings.Contains(method, "/") ||
		strings.ContainsAny(s, " \t\r\n") {
		return "", "", fmt.Errorf("%q: want package.Service/Method", m)
	}
	return service, method, nil
}

// checkKey reports whether k can be sent or read as gRPC metadata. Keys are
// case-insensitive (they travel lower-cased); "grpc-" keys are reserved
// for gRPC itself.
func checkKey(k string) error {
	if k == "" {
		return errors.New("empty metadata key")
	}
	lk := strings.ToLower(k)
	if strings.HasPrefix(lk, "grpc-") {
		return fmt.Errorf("metadata key %q: grpc- keys are reserved", k)
	}
	for _, r := range lk {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return fmt.Errorf("metadata key %q: only letters, digits, '-', '_' and '.' are allowed", k)
		}
	}
	return nil
}

func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// String describes the target for reports.
func (c *Config) String() string { return c.Address + " " + strings.TrimPrefix(c.Method, "/") }
