package sim

import (
	"encoding/json"
	"errors"
	"math"
	"testing"
	"time"
)

func TestHandlerTime(t *testing.T) {
	t.Parallel()
	c := Config{Handler: 100 * time.Millisecond}
	tests := []struct {
		memoryMB int
		want     time.Duration
	}{
		{1769, 100 * time.Millisecond},              // a full vCPU: the reference speed
		{3538, 100 * time.Millisecond},              // two vCPUs do not help one thread
		{884, 200113122},                            // 100 ms * 1769/884, rounded to the ns
		{128, 1382031250},                           // 100 ms * 1769/128
		{0, time.Duration(100e6 * FullCPUMemoryMB)}, // nonsense memory counts as 1 MB
		{1768, time.Duration(math.Round(100e6 * 1769.0 / 1768))},
	}
	for _, tt := range tests {
		if got := c.HandlerTime(tt.memoryMB); got != tt.want {
			t.Errorf("HandlerTime(%d) = %v, want %v", tt.memoryMB, got, tt.want)
		}
	}
}

func TestBilledDuration(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want time.Duration }{
		{0, time.Millisecond},                // Lambda bills at least 1 ms
		{time.Nanosecond, time.Millisecond},  // rounded up
		{time.Millisecond, time.Millisecond}, // exact stays
		{1001 * time.Microsecond, 2 * time.Millisecond},
		{27640625 * time.Nanosecond, 28 * time.Millisecond},
	}
	for _, tt := range tests {
		if got := BilledDuration(tt.in); got != tt.want {
			t.Errorf("BilledDuration(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestMaxMemoryUsed(t *testing.T) {
	t.Parallel()
	tests := []struct{ memoryMB, want int }{
		{128, 52},     // 40 + 12
		{1024, 142},   // 40 + 102
		{10240, 1064}, // 40 + 1024
		{40, 40},      // capped at the memory size
	}
	for _, tt := range tests {
		if got := MaxMemoryUsed(tt.memoryMB); got != tt.want {
			t.Errorf("MaxMemoryUsed(%d) = %d, want %d", tt.memoryMB, got, tt.want)
		}
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		mutate    func(*Config)
		wantField string // "" for valid
	}{
		{"default", func(*Config) {}, ""},
		{"unlimited concurrency", func(c *Config) { c.ConcurrencyLimit = 0; c.MinInstances = 5000 }, ""},
		{"zero keep-alive", func(c *Config) { c.KeepAlive = 0 }, ""},
		{"memory too small", func(c *Config) { c.MemoryMB = 127 }, "memory_mb"},
		{"memory too big", func(c *Config) { c.MemoryMB = 10241 }, "memory_mb"},
		{"negative min", func(c *Config) { c.MinInstances = -1 }, "min_instances"},
		{"min over limit", func(c *Config) { c.ConcurrencyLimit = 2; c.MinInstances = 3 }, "min_instances"},
		{"negative limit", func(c *Config) { c.ConcurrencyLimit = -1 }, "concurrency_limit"},
		{"negative keep-alive", func(c *Config) { c.KeepAlive = -time.Second }, "keep_alive_ms"},
		{"negative handler", func(c *Config) { c.Handler = -1 }, "handler_ms"},
		{"huge handler", func(c *Config) { c.Handler = time.Hour }, "handler_ms"},
		{"negative jitter", func(c *Config) { c.HandlerJitter = -1 }, "handler_jitter_ms"},
		{"negative init", func(c *Config) { c.InitMean = -1 }, "init_mean_ms"},
		{"negative stddev", func(c *Config) { c.InitStddev = -1 }, "init_stddev_ms"},
		{"negative truth cap", func(c *Config) { c.TruthCap = -1 }, "truth_cap"},
	}
	for _, tt := range tests {
		c := DefaultConfig()
		tt.mutate(&c)
		err := c.Validate()
		var ce *ConfigError
		switch {
		case tt.wantField == "" && err != nil:
			t.Errorf("%s: unexpected error %v", tt.name, err)
		case tt.wantField != "" && (!errors.As(err, &ce) || ce.Field != tt.wantField):
			t.Errorf("%s: error %v, want a ConfigError on %s", tt.name, err, tt.wantField)
		}
	}
}

func TestUpdateApply(t *testing.T) {
	t.Parallel()
	base := DefaultConfig()
	got, err := Update{KeepAliveMS: new(1.5), MemoryMB: new(2048)}.Apply(base)
	if err != nil {
		t.Fatal(err)
	}
	want := base
	want.KeepAlive = 1500 * time.Microsecond
	want.MemoryMB = 2048
	if got != want {
		t.Errorf("Apply = %+v, want %+v", got, want)
	}
	if _, err := (Update{HandlerMS: new(math.Inf(1))}).Apply(base); err == nil {
		t.Error("Apply accepted an infinite handler time")
	}
}

func TestConfigJSONRoundTrip(t *testing.T) {
	t.Parallel()
	c := DefaultConfig()
	c.HandlerJitter = 1234567 * time.Nanosecond
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	var back Config
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back != c {
		t.Errorf("round trip through %s gave %+v, want %+v", b, back, c)
	}
	var m map[string]any
	json.Unmarshal(b, &m)
	if m["keep_alive_ms"] != 10000.0 || m["init_mean_ms"] != 250.0 {
		t.Errorf("JSON %s: want durations in ms", b)
	}
}
