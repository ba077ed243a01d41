package scenarios

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/coldbench/coldbench/drivers"
)

// The tests register drivers of their own, so that they depend on no real
// driver package. "http" and "sim" stand-ins are registered only when the
// real drivers are not linked into the test binary.
func init() {
	open := func(context.Context, any) (drivers.Driver, error) {
		return nil, errors.New("fake driver: not openable")
	}
	drivers.Register("fake", drivers.Factory{Config: func() any { return &fakeConfig{Timeout: 5 * time.Second, Retries: 1} }, Open: open})
	drivers.Register("fakenourl", drivers.Factory{Config: func() any { return &noURLConfig{Level: 3} }, Open: open})
	if _, err := drivers.Lookup("http"); err != nil {
		drivers.Register("http", drivers.Factory{Config: func() any { return &fakeConfig{Timeout: 30 * time.Second} }, Open: open})
	}
	if _, err := drivers.Lookup("sim"); err != nil {
		drivers.Register("sim", drivers.Factory{Config: func() any { return defaultSimMirror() }, Open: open})
	}
}

// fakeConfig is a driver configuration with nested settings, a map, a
// duration, a URL and a Validate that returns joined field errors.
type fakeConfig struct {
	URL     string            `yaml:"url"`
	Mode    string            `yaml:"mode"`
	Timeout time.Duration     `yaml:"timeout"`
	Retries int               `yaml:"retries"`
	Headers map[string]string `yaml:"headers"`
	TLS     fakeTLS           `yaml:"tls"`
}

type fakeTLS struct {
	CAFile   string `yaml:"ca_file"`
	Insecure bool   `yaml:"insecure_skip_verify"`
}

func (c *fakeConfig) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, &drivers.FieldError{Field: field, Msg: fmt.Sprintf(format, args...)})
	}
	if c.Retries < 0 || c.Retries > 10 {
		bad("retries", "%d: want 0 to 10", c.Retries)
	}
	if c.TLS.CAFile != "" && !strings.HasSuffix(c.TLS.CAFile, ".pem") {
		bad("tls.ca_file", "%q: want a .pem file", c.TLS.CAFile)
	}
	if c.Timeout <= 0 {
		bad("timeout", "must be positive")
	}
	if c.Mode == "strict" && c.URL == "" {
		bad("url", "is required in strict mode")
	}
	if c.Mode == "broken" {
		errs = append(errs, errors.New("mode broken is not supported"))
	}
	return errors.Join(errs...)
}

func (c *fakeConfig) SetURL(u string) error {
	if !strings.Contains(u, "://") {
		return fmt.Errorf("url %q: want scheme://host", u)
	}
	c.URL = u
	return nil
}

// noURLConfig takes no URL, so SetTarget must switch to http.
type noURLConfig struct {
	Level int `yaml:"level"`
}

// simMirror mirrors the settings of drivers/sim, so that the built-ins are
// checked strictly even when the real driver is not linked in.
type simMirror struct {
	MemoryMB      int           `yaml:"memory_mb"`
	MinInstances  int           `yaml:"min_instances"`
	KeepAlive     time.Duration `yaml:"keep_alive"`
	Handler       time.Duration `yaml:"handler"`
	HandlerJitter time.Duration `yaml:"handler_jitter"`
	Init          struct {
		Mean   time.Duration `yaml:"mean"`
		Stddev time.Duration `yaml:"stddev"`
	} `yaml:"init"`
	ConcurrencyLimit int           `yaml:"concurrency_limit"`
	Seed             int64         `yaml:"seed"`
	Timeout          time.Duration `yaml:"timeout"`
}

func defaultSimMirror() *simMirror {
	c := &simMirror{MemoryMB: 1024, KeepAlive: 10 * time.Second, Handler: 20 * time.Millisecond, ConcurrencyLimit: 1000, Timeout: 30 * time.Second}
	c.Init.Mean, c.Init.Stddev = 250*time.Millisecond, 25*time.Millisecond
	return c
}

func (c *simMirror) Validate() error {
	if c.MemoryMB < 128 || c.MemoryMB > 10240 {
		return &drivers.FieldError{Field: "memory_mb", Msg: "want 128 to 10240 MB"}
	}
	if c.KeepAlive <= 0 {
		return &drivers.FieldError{Field: "keep_alive", Msg: "must be positive"}
	}
	return nil
}
