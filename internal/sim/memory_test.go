package sim

import (
	"strconv"
	"testing"
)

// TestMemoryUsedModel: the X-Sim-Max-Memory-Used header follows the
// configured model request by request on one instance: base, growth per
// request, the instance's peak, capped at the memory size; with jitter it
// is seeded (two emulators with one seed agree) and stays in bounds.
func TestMemoryUsedModel(t *testing.T) {
	t.Parallel()
	used := func(e *Emulator, n int) []int {
		var out []int
		for range n {
			r := serve(e, "")
			v, err := strconv.Atoi(r.Header().Get(HeaderMaxMemoryUsed))
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, v)
		}
		return out
	}
	tests := []struct {
		name               string
		memoryMB, base     int
		perRequest, jitter float64
		want               []int // nil: only bounds and seeding are checked
	}{
		// The default model: 40 MB + a tenth of 1769 MB, whatever the count.
		{"default", FullCPUMemoryMB, 0, 0, 0, []int{216, 216, 216}},
		// 100 MB, then 10 MB more per request served.
		{"growth", 1024, 100, 10, 0, []int{110, 120, 130, 140}},
		// Growth stops at the memory size: the platform caps what it reports.
		{"capped", 128, 100, 10, 0, []int{110, 120, 128, 128}},
		// Noise, seeded: checked for bounds and repeatability.
		{"jitter", 512, 200, 0, 20, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := testConfig()
			c.MemoryMB, c.MemoryBaseMB, c.MemoryPerRequestMB, c.MemoryJitterMB = tt.memoryMB, tt.base, tt.perRequest, tt.jitter
			got := used(newEmu(t, c), 20)
			if tt.want != nil {
				for i, w := range tt.want {
					if got[i] != w {
						t.Fatalf("memory used %v, want %v first", got, tt.want)
					}
				}
				return
			}
			again := used(newEmu(t, c), 20)
			for i := range got {
				if got[i] != again[i] || got[i] < tt.base-100 || got[i] > tt.memoryMB || (i > 0 && got[i] < got[i-1]) {
					t.Fatalf("memory used %v and %v: want the same seeded, non-decreasing peaks within bounds", got, again)
				}
			}
		})
	}
}

func TestMemoryUsedConfigErrors(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		field string
		set   func(*Config)
	}{
		{"memory_base_mb", func(c *Config) { c.MemoryBaseMB = -1 }},
		{"memory_per_request_mb", func(c *Config) { c.MemoryPerRequestMB = -0.5 }},
		{"memory_jitter_mb", func(c *Config) { c.MemoryJitterMB = 1e9 }},
	} {
		cfg := testConfig()
		c.set(&cfg)
		err := cfg.Validate()
		if ce, ok := err.(*ConfigError); !ok || ce.Field != c.field {
			t.Errorf("%s: %v", c.field, err)
		}
	}
}
