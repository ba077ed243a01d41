package sim

import (
	"encoding/json"
	"fmt"
	"math"
	"time"
)

// FullCPUMemoryMB is the memory size at which the model gives a function a
// full vCPU, as Lambda does at 1,769 MB. Below it CPU share, and so the speed
// of the CPU-bound handler, is proportional to memory; above it a
// single-threaded handler gets no faster.
const FullCPUMemoryMB = 1769

// Limits on configuration values. Memory follows Lambda's range; the
// duration caps only keep a typo from parking requests for days.
const (
	MinMemoryMB     = 128
	MaxMemoryMB     = 10240
	MaxMinInstances = 10000
	MaxDuration     = 15 * time.Minute // handler and init times (Lambda's longest timeout)
	MaxKeepAlive    = 24 * time.Hour
	DefaultTruthCap = 1_000_000
)

// Config is the emulated function and platform. It is plain data: New and
// Update validate it, and its JSON form (used by the control API) spells
// durations as milliseconds.
type Config struct {
	MemoryMB         int           // memory size; scales CPU below FullCPUMemoryMB
	MinInstances     int           // prewarmed instances kept initialized at all times (provisioned concurrency)
	KeepAlive        time.Duration // an idle on-demand instance expires this long after its last request ends
	ConcurrencyLimit int           // busy instances at which requests are throttled with 429; 0 means unlimited
	Handler          time.Duration // handler time at full speed (FullCPUMemoryMB and up)
	HandlerJitter    time.Duration // standard deviation of a normal jitter added to Handler; 0 for none
	InitMean         time.Duration // mean of the normal init (cold start) time
	InitStddev       time.Duration // its standard deviation; draws are clamped at 0
	// Seed seeds the init and jitter draws, so runs are repeatable. Draws
	// are taken in arrival order: a sequential client sees the same
	// sequence every time; concurrent arrivals may interleave differently.
	Seed     int64
	TruthCap int // ground-truth records kept; 0 means DefaultTruthCap

	// The memory used model (X-Sim-Max-Memory-Used): an instance uses
	// MemoryBaseMB once initialized, MemoryPerRequestMB more for every
	// request it has served (caches, leaks), plus a seeded normal noise of
	// MemoryJitterMB per request; the header reports the instance's peak
	// so far, capped at its memory size, as Lambda's Max Memory Used does.
	// A zero MemoryBaseMB means MaxMemoryUsed(memory size).
	MemoryBaseMB       int
	MemoryPerRequestMB float64
	MemoryJitterMB     float64
}

// DefaultConfig returns a mid-sized function with Lambda-like cold starts:
// 1024 MB, no prewarm, 10 s keep-alive, a limit of 1000, a 20 ms handler and
// 250±25 ms init.
func DefaultConfig() Config {
	return Config{
		MemoryMB:         1024,
		MinInstances:     0,
		KeepAlive:        10 * time.Second,
		ConcurrencyLimit: 1000,
		Handler:          20 * time.Millisecond,
		InitMean:         250 * time.Millisecond,
		InitStddev:       25 * time.Millisecond,
		Seed:             1,
		TruthCap:         DefaultTruthCap,
	}
}

// ConfigError reports an invalid configuration value. Field is the name the
// control API uses for it (memory_mb, keep_alive_ms, ...).
type ConfigError struct {
	Field  string
	Reason string
}

func (e *ConfigError) Error() string { return fmt.Sprintf("sim: invalid %s: %s", e.Field, e.Reason) }

// Validate reports the first invalid field as a *ConfigError.
func (c Config) Validate() error {
	checks := []struct {
		bad    bool
		field  string
		reason string
	}{
		{c.MemoryMB < MinMemoryMB || c.MemoryMB > MaxMemoryMB, "memory_mb",
			fmt.Sprintf("%d MB, want %d to %d", c.MemoryMB, MinMemoryMB, MaxMemoryMB)},
		{c.MinInstances < 0 || c.MinInstances > MaxMinInstances, "min_instances",
			fmt.Sprintf("%d, want 0 to %d", c.MinInstances, MaxMinInstances)},
		{c.ConcurrencyLimit < 0, "concurrency_limit",
			fmt.Sprintf("%d, want 0 (unlimited) or more", c.ConcurrencyLimit)},
		// Like Lambda, provisioned concurrency cannot exceed the function's
		// concurrency: prewarmed instances would be unusable.
		{c.ConcurrencyLimit > 0 && c.MinInstances > c.ConcurrencyLimit, "min_instances",
			fmt.Sprintf("%d exceeds concurrency_limit %d", c.MinInstances, c.ConcurrencyLimit)},
		{c.KeepAlive < 0 || c.KeepAlive > MaxKeepAlive, "keep_alive_ms",
			fmt.Sprintf("%v, want 0 to %v", c.KeepAlive, MaxKeepAlive)},
		{c.Handler < 0 || c.Handler > MaxDuration, "handler_ms",
			fmt.Sprintf("%v, want 0 to %v", c.Handler, MaxDuration)},
		{c.HandlerJitter < 0 || c.HandlerJitter > MaxDuration, "handler_jitter_ms",
			fmt.Sprintf("%v, want 0 to %v", c.HandlerJitter, MaxDuration)},
		{c.InitMean < 0 || c.InitMean > MaxDuration, "init_mean_ms",
			fmt.Sprintf("%v, want 0 to %v", c.InitMean, MaxDuration)},
		{c.InitStddev < 0 || c.InitStddev > MaxDuration, "init_stddev_ms",
			fmt.Sprintf("%v, want 0 to %v", c.InitStddev, MaxDuration)},
		{c.TruthCap < 0, "truth_cap", fmt.Sprintf("%d, want 0 (default) or more", c.TruthCap)},
		{c.MemoryBaseMB < 0 || c.MemoryBaseMB > MaxMemoryMB, "memory_base_mb",
			fmt.Sprintf("%d MB, want 0 (the default model) to %d", c.MemoryBaseMB, MaxMemoryMB)},
		{!(c.MemoryPerRequestMB >= 0 && c.MemoryPerRequestMB <= MaxMemoryMB), "memory_per_request_mb",
			fmt.Sprintf("%v MB, want 0 to %d", c.MemoryPerRequestMB, MaxMemoryMB)},
		{!(c.MemoryJitterMB >= 0 && c.MemoryJitterMB <= MaxMemoryMB), "memory_jitter_mb",
			fmt.Sprintf("%v MB, want 0 to %d", c.MemoryJitterMB, MaxMemoryMB)},
	}
	for _, ch := range checks {
		if ch.bad {
			return &ConfigError{Field: ch.field, Reason: ch.reason}
		}
	}
	return nil
}

// HandlerTime is the modelled handler duration at memoryMB, without jitter:
// Handler * max(1, FullCPUMemoryMB/memoryMB). Memory below 1 MB counts as 1.
func (c Config) HandlerTime(memoryMB int) time.Duration {
	return handlerTime(c.Handler, memoryMB)
}

func handlerTime(fullSpeed time.Duration, memoryMB int) time.Duration {
	if memoryMB >= FullCPUMemoryMB {
		return fullSpeed
	}
	memoryMB = max(memoryMB, 1)
	return time.Duration(math.Round(float64(fullSpeed) * FullCPUMemoryMB / float64(memoryMB)))
}

// BilledDuration is what the platform bills for a handler that ran for d:
// rounded up to the next millisecond, with a minimum of 1 ms, as Lambda
// bills. Init is not billed (on-demand Lambda does not bill it either).
func BilledDuration(d time.Duration) time.Duration {
	if d <= 0 {
		return time.Millisecond
	}
	return (d + time.Millisecond - 1) / time.Millisecond * time.Millisecond
}

// MaxMemoryUsed is the default modelled memory of an instance with
// memoryMB: a 40 MB runtime plus 10% of the memory size, capped at the
// memory size.
func MaxMemoryUsed(memoryMB int) int {
	return min(memoryMB, 40+memoryMB/10)
}

// memoryUsed is the model's memory used by an instance of memoryMB after
// served requests, with noise (a standard normal draw): see Config. The
// result is at least 1 MB and at most memoryMB.
func (c Config) memoryUsed(memoryMB, served int, noise float64) int {
	base := float64(c.MemoryBaseMB)
	if c.MemoryBaseMB == 0 {
		base = float64(MaxMemoryUsed(memoryMB))
	}
	used := base + c.MemoryPerRequestMB*float64(served) + c.MemoryJitterMB*noise
	return int(min(max(math.Round(used), 1), float64(memoryMB)))
}

// Update is a partial configuration change: only non-nil fields change. It
// is the body of PUT /_sim/config. Go callers can write
// Update{MemoryMB: new(512)}.
type Update struct {
	MemoryMB         *int     `json:"memory_mb,omitempty"`
	MinInstances     *int     `json:"min_instances,omitempty"`
	KeepAliveMS      *float64 `json:"keep_alive_ms,omitempty"`
	ConcurrencyLimit *int     `json:"concurrency_limit,omitempty"`
	HandlerMS        *float64 `json:"handler_ms,omitempty"`
	HandlerJitterMS  *float64 `json:"handler_jitter_ms,omitempty"`
	InitMeanMS       *float64 `json:"init_mean_ms,omitempty"`
	InitStddevMS     *float64 `json:"init_stddev_ms,omitempty"`
}

// Apply returns c with u's fields set, validated.
func (u Update) Apply(c Config) (Config, error) {
	setInt := func(dst *int, v *int) {
		if v != nil {
			*dst = *v
		}
	}
	setInt(&c.MemoryMB, u.MemoryMB)
	setInt(&c.MinInstances, u.MinInstances)
	setInt(&c.ConcurrencyLimit, u.ConcurrencyLimit)
	durations := []struct {
		dst   *time.Duration
		ms    *float64
		field string
	}{
		{&c.KeepAlive, u.KeepAliveMS, "keep_alive_ms"},
		{&c.Handler, u.HandlerMS, "handler_ms"},
		{&c.HandlerJitter, u.HandlerJitterMS, "handler_jitter_ms"},
		{&c.InitMean, u.InitMeanMS, "init_mean_ms"},
		{&c.InitStddev, u.InitStddevMS, "init_stddev_ms"},
	}
	for _, d := range durations {
		if d.ms == nil {
			continue
		}
		v, err := fromMS(*d.ms, d.field)
		if err != nil {
			return c, err
		}
		*d.dst = v
	}
	return c, c.Validate()
}

// fromMS converts milliseconds to a Duration, refusing values a Duration
// cannot hold (Validate then applies the real limits).
func fromMS(ms float64, field string) (time.Duration, error) {
	if math.IsNaN(ms) || math.IsInf(ms, 0) || math.Abs(ms) > float64(math.MaxInt64)/1e6 {
		return 0, &ConfigError{Field: field, Reason: fmt.Sprintf("%v ms is not a usable duration", ms)}
	}
	return time.Duration(math.Round(ms * 1e6)), nil
}

// ms is d in milliseconds, for JSON and headers.
func ms(d time.Duration) float64 { return float64(d) / 1e6 }

// configJSON is Config's wire form, with durations in milliseconds.
type configJSON struct {
	MemoryMB         int     `json:"memory_mb"`
	MinInstances     int     `json:"min_instances"`
	KeepAliveMS      float64 `json:"keep_alive_ms"`
	ConcurrencyLimit int     `json:"concurrency_limit"`
	HandlerMS        float64 `json:"handler_ms"`
	HandlerJitterMS  float64 `json:"handler_jitter_ms"`
	InitMeanMS       float64 `json:"init_mean_ms"`
	InitStddevMS     float64 `json:"init_stddev_ms"`
	Seed             int64   `json:"seed"`
	TruthCap         int     `json:"truth_cap"`

	MemoryBaseMB       int     `json:"memory_base_mb,omitempty"`
	MemoryPerRequestMB float64 `json:"memory_per_request_mb,omitempty"`
	MemoryJitterMB     float64 `json:"memory_jitter_mb,omitempty"`
}

// MarshalJSON writes c with durations in milliseconds, as the control API
// serves it.
func (c Config) MarshalJSON() ([]byte, error) {
	return json.Marshal(configJSON{
		MemoryMB:         c.MemoryMB,
		MinInstances:     c.MinInstances,
		KeepAliveMS:      ms(c.KeepAlive),
		ConcurrencyLimit: c.ConcurrencyLimit,
		HandlerMS:        ms(c.Handler),
		HandlerJitterMS:  ms(c.HandlerJitter),
		InitMeanMS:       ms(c.InitMean),
		InitStddevMS:     ms(c.InitStddev),
		Seed:             c.Seed,
		TruthCap:         c.TruthCap,

		MemoryBaseMB:       c.MemoryBaseMB,
		MemoryPerRequestMB: c.MemoryPerRequestMB,
		MemoryJitterMB:     c.MemoryJitterMB,
	})
}

// UnmarshalJSON reads the form MarshalJSON writes. It does not validate.
func (c *Config) UnmarshalJSON(b []byte) error {
	var j configJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	out := Config{
		MemoryMB:         j.MemoryMB,
		MinInstances:     j.MinInstances,
		ConcurrencyLimit: j.ConcurrencyLimit,
		Seed:             j.Seed,
		TruthCap:         j.TruthCap,

		MemoryBaseMB:       j.MemoryBaseMB,
		MemoryPerRequestMB: j.MemoryPerRequestMB,
		MemoryJitterMB:     j.MemoryJitterMB,
	}
	for _, d := range []struct {
		dst   *time.Duration
		ms    float64
		field string
	}{
		{&out.KeepAlive, j.KeepAliveMS, "keep_alive_ms"},
		{&out.Handler, j.HandlerMS, "handler_ms"},
		{&out.HandlerJitter, j.HandlerJitterMS, "handler_jitter_ms"},
		{&out.InitMean, j.InitMeanMS, "init_mean_ms"},
		{&out.InitStddev, j.InitStddevMS, "init_stddev_ms"},
	} {
		v, err := fromMS(d.ms, d.field)
		if err != nil {
			return err
		}
		*d.dst = v
	}
	*c = out
	return nil
}
