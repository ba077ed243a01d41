// Package sim is the driver for coldbench's built-in FaaS emulator. Opening
// it starts an emulator in-process on a random loopback port, so built-in
// scenarios need no set-up; requests go over real HTTP through the http
// driver, and the emulator's platform headers give the ground-truth cold
// flag. It implements every optional capability.
//
// With url: it starts nothing and attaches to an emulator running
// elsewhere (`coldbench sim`), through the same invocation path and control
// API (under /_sim/), so that tune, plan and run can be checked from
// outside the process that drives them.
package sim

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/coldbench/coldbench/drivers"
	httpdriver "github.com/coldbench/coldbench/drivers/http"
	emulator "github.com/coldbench/coldbench/internal/sim"
)

func init() {
	drivers.RegisterConfig("sim", DefaultConfig, Open)
}

// Config is the emulated function, under a scenario's target block.
type Config struct {
	// URL attaches to a running `coldbench sim` (its base URL, as it
	// prints it) instead of starting an emulator; the settings below are
	// then the standalone emulator's own business, and ignored, except
	// timeout.
	URL              string        `yaml:"url"`
	MemoryMB         int           `yaml:"memory_mb"`
	MinInstances     int           `yaml:"min_instances"`
	KeepAlive        time.Duration `yaml:"keep_alive"`
	Handler          time.Duration `yaml:"handler"` // handler time at full CPU (1769 MB and up)
	HandlerJitter    time.Duration `yaml:"handler_jitter"`
	Init             InitConfig    `yaml:"init"`
	ConcurrencyLimit int           `yaml:"concurrency_limit"`
	Seed             int64         `yaml:"seed"`
	Timeout          time.Duration `yaml:"timeout"`
	MemoryUsed       MemoryUsed    `yaml:"memory_used"`

	coldBody drivers.BodyMarkers
}

// SetColdBody implements drivers.ColdBodySetter. The emulator's platform
// headers always decide first, so the body is read only with
// cold.ignore_platform, or for a function that answers without them.
func (c *Config) SetColdBody(m drivers.BodyMarkers) { c.coldBody = m }

// MemoryUsed is the emulator's model of the memory a function uses (see
// emulator.Config): base MB once initialized, per_request MB more for every
// request an instance served, and a seeded normal jitter. A zero base
// means the default, 40 MB plus a tenth of the memory size.
type MemoryUsed struct {
	BaseMB       int     `yaml:"base_mb"`
	PerRequestMB float64 `yaml:"per_request_mb"`
	JitterMB     float64 `yaml:"jitter_mb"`
}

// InitConfig is the cold-start init time distribution (normal, clamped at 0).
type InitConfig struct {
	Mean   time.Duration `yaml:"mean"`
	Stddev time.Duration `yaml:"stddev"`
}

// DefaultConfig returns the emulator's defaults.
func DefaultConfig() *Config {
	d := emulator.DefaultConfig()
	return &Config{
		MemoryMB:         d.MemoryMB,
		MinInstances:     d.MinInstances,
		KeepAlive:        d.KeepAlive,
		Handler:          d.Handler,
		HandlerJitter:    d.HandlerJitter,
		Init:             InitConfig{Mean: d.InitMean, Stddev: d.InitStddev},
		ConcurrencyLimit: d.ConcurrencyLimit,
		Seed:             d.Seed,
		Timeout:          30 * time.Second,
	}
}

// Emulator converts c to the emulator's configuration.
func (c *Config) Emulator() emulator.Config {
	e := emulator.DefaultConfig()
	e.MemoryMB = c.MemoryMB
	e.MinInstances = c.MinInstances
	e.KeepAlive = c.KeepAlive
	e.Handler = c.Handler
	e.HandlerJitter = c.HandlerJitter
	e.InitMean = c.Init.Mean
	e.InitStddev = c.Init.Stddev
	e.ConcurrencyLimit = c.ConcurrencyLimit
	e.Seed = c.Seed
	e.MemoryBaseMB = c.MemoryUsed.BaseMB
	e.MemoryPerRequestMB = c.MemoryUsed.PerRequestMB
	e.MemoryJitterMB = c.MemoryUsed.JitterMB
	return e
}

// Validate checks the settings the way the emulator will.
func (c *Config) Validate() error {
	var errs []error
	check := func(bad bool, field, msg string) {
		if bad {
			errs = append(errs, &drivers.FieldError{Field: field, Msg: msg})
		}
	}
	check(c.MemoryMB < 128 || c.MemoryMB > 10240, "memory_mb", fmt.Sprintf("%d: want 128 to 10240 MB", c.MemoryMB))
	check(c.MinInstances < 0, "min_instances", "must not be negative")
	check(c.KeepAlive <= 0, "keep_alive", "must be positive")
	check(c.Handler < 0, "handler", "must not be negative")
	check(c.HandlerJitter < 0, "handler_jitter", "must not be negative")
	check(c.Init.Mean < 0, "init.mean", "must not be negative")
	check(c.Init.Stddev < 0, "init.stddev", "must not be negative")
	check(c.ConcurrencyLimit < 0, "concurrency_limit", "must not be negative")
	check(c.Timeout <= 0, "timeout", "must be positive")
	check(c.MemoryUsed.BaseMB < 0 || c.MemoryUsed.BaseMB > 10240, "memory_used.base_mb", fmt.Sprintf("%d: want 0 (the default model) to 10240 MB", c.MemoryUsed.BaseMB))
	check(c.MemoryUsed.PerRequestMB < 0, "memory_used.per_request_mb", "must not be negative")
	check(c.MemoryUsed.JitterMB < 0, "memory_used.jitter_mb", "must not be negative")
	if c.URL != "" {
		u, err := url.Parse(c.URL)
		check(err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "", "url",
			fmt.Sprintf("%q: want the http:// base URL that `coldbench sim` prints", c.URL))
	}
	return errors.Join(errs...)
}

// Driver invokes an emulator over loopback HTTP: its own, in-process, or
// one it attached to (url:).
type Driver struct {
	*httpdriver.Driver
	emu    *emulator.Emulator // nil when attached
	client *emulator.Client
	url    string
}

var (
	_ drivers.Driver     = (*Driver)(nil)
	_ drivers.Configurer = (*Driver)(nil)
	_ drivers.ColdForcer = (*Driver)(nil)
	_ drivers.Describer  = (*Driver)(nil)
)

// Open starts an emulator on 127.0.0.1 and a driver for it, or with url:
// attaches to a running one, checking that its control API answers.
func Open(ctx context.Context, c *Config) (*Driver, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if c.URL != "" {
		return attach(ctx, c)
	}
	emu, err := emulator.New(c.Emulator())
	if err != nil {
		return nil, err
	}
	url, err := emu.Start("127.0.0.1:0")
	if err != nil {
		emu.Close()
		return nil, err
	}
	hd, err := invoker(c, url)
	if err != nil {
		emu.Close()
		return nil, err
	}
	return &Driver{Driver: hd, emu: emu, client: emulator.NewClient(url, nil), url: url}, nil
}

// attach opens a driver for the emulator at c.URL.
func attach(ctx context.Context, c *Config) (*Driver, error) {
	base := strings.TrimSuffix(c.URL, "/")
	client := emulator.NewClient(base, &http.Client{Timeout: c.Timeout})
	if _, err := client.Config(ctx); err != nil {
		return nil, fmt.Errorf("sim at %s: no emulator control API there (is it a `coldbench sim`?): %w", base, err)
	}
	hd, err := invoker(c, base)
	if err != nil {
		return nil, err
	}
	return &Driver{Driver: hd, client: client, url: base}, nil
}

// invoker is the http driver that sends the invocations to the emulator
// at base.
func invoker(c *Config, base string) (*httpdriver.Driver, error) {
	hc := httpdriver.DefaultConfig()
	hc.URL = base + "/invoke"
	hc.Method = http.MethodPost
	hc.Timeout = c.Timeout
	hc.Platform = PlatformSignal
	hc.ColdBody = c.coldBody
	return httpdriver.New(hc)
}

// PlatformSignal reads the emulator's platform headers, the equivalent of
// Lambda's REPORT line. It is exported so that the http driver can be
// pointed at a standalone `coldbench sim`.
func PlatformSignal(h http.Header, c *drivers.Call) {
	if v := h.Get("X-Sim-Cold"); v != "" {
		c.Temp, c.Source = httpdriver.ParseCold(v), drivers.SourcePlatform
	}
	c.InstanceID = h.Get("X-Sim-Instance-Id")
	c.Init = httpdriver.ParseMillis(h.Get("X-Sim-Init-Duration"))
	c.Billed = httpdriver.ParseMillis(h.Get("X-Sim-Billed-Duration"))
	c.MemoryMB, _ = strconv.Atoi(h.Get("X-Sim-Memory-Size"))
	c.MaxMemoryMB, _ = strconv.Atoi(h.Get("X-Sim-Max-Memory-Used"))
}

// Emulator exposes the emulator, for tests that check the harness against
// its ground truth; nil when the driver attached to one elsewhere.
func (d *Driver) Emulator() *emulator.Emulator { return d.emu }

// URL is the emulator's base URL.
func (d *Driver) URL() string { return d.url }

// Configure implements drivers.Configurer: it sets memory and min instances
// and waits until the emulator reports them ready.
func (d *Driver) Configure(ctx context.Context, s drivers.Settings) error {
	mem, pre := s.MemoryMB, s.Prewarm
	if err := d.client.Update(ctx, emulator.Update{MemoryMB: &mem, MinInstances: &pre}); err != nil {
		return fmt.Errorf("sim: configure %d MB, prewarm %d: %w", mem, pre, err)
	}
	return d.waitReady(ctx)
}

// ForceCold implements drivers.ColdForcer: the emulator drops every
// instance, as a Lambda configuration change does.
func (d *Driver) ForceCold(ctx context.Context) error {
	if err := d.client.Recycle(ctx); err != nil {
		return fmt.Errorf("sim: recycle: %w", err)
	}
	return d.waitReady(ctx)
}

// Describe implements drivers.Describer.
func (d *Driver) Describe(ctx context.Context) (drivers.Description, error) {
	st, err := d.client.State(ctx)
	if err != nil {
		return drivers.Description{}, fmt.Errorf("sim: state: %w", err)
	}
	return drivers.Description{
		Settings:  drivers.Settings{MemoryMB: st.Config.MemoryMB, Prewarm: st.Config.MinInstances},
		Platform:  "sim",
		Instances: st.Live,
		Ready:     st.Ready,
	}, nil
}

func (d *Driver) waitReady(ctx context.Context) error {
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		st, err := d.client.State(ctx)
		if err != nil {
			return err
		}
		if st.Ready {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("sim: waiting for ready: %w", ctx.Err())
		case <-tick.C:
		}
	}
}

// Close stops the driver and its own emulator; an attached one runs on.
func (d *Driver) Close() error {
	err := d.Driver.Close()
	if d.emu == nil {
		return err
	}
	return errors.Join(err, d.emu.Close())
}

// String describes the emulated function for reports.
func (c *Config) String() string {
	if c.URL != "" {
		return "emulator at " + c.URL
	}
	return fmt.Sprintf("in-process emulator (%d MB, %d prewarmed, keep-alive %v, handler %v at full CPU, init %v±%v)",
		c.MemoryMB, c.MinInstances, c.KeepAlive, c.Handler, c.Init.Mean, c.Init.Stddev)
}
