package cloudrun

import "testing"

// TestCPUFor checks the CPU that goes with each memory size against Cloud
// Run's limits.
func TestCPUFor(t *testing.T) {
	t.Parallel()
	tests := []struct {
		mib, cur, want int
	}{
		{128, 1000, 1000},  // small memory: one CPU is allowed, kept
		{512, 80, 80},      // a fraction of a CPU is enough up to 512 MiB
		{1024, 80, 500},    // more than 512 MiB needs half a CPU
		{2048, 500, 1000},  // more than 1 GiB needs one
		{4096, 1000, 1000}, // 4 GiB still fits one CPU
		{4097, 1000, 2000}, // more than 4 GiB needs two
		{8193, 1000, 4000}, // more than 8 GiB needs four
		{16385, 4000, 6000},
		{24577, 6000, 8000},
		{1024, 4000, 2000}, // four CPUs need at least 2 GiB: lowered
		{3072, 8000, 4000}, // six or eight need at least 4 GiB
		{32768, 8000, 8000},
	}
	for _, tt := range tests {
		if got := cpuFor(tt.mib, tt.cur); got != tt.want {
			t.Errorf("cpuFor(%d MiB, %dm) = %dm, want %dm", tt.mib, tt.cur, got, tt.want)
		}
	}
	for m, s := range map[int]string{1000: "1", 2000: "2", 500: "500m", 80: "80m"} {
		if got := formatCPU(m); got != s {
			t.Errorf("formatCPU(%d) = %q, want %q", m, got, s)
		}
		if got := cpuMillis(s); got != m {
			t.Errorf("cpuMillis(%q) = %d, want %d", s, got, m)
		}
	}
}
