package results

import (
	"runtime/metrics"
)

// Runtime is what the process that wrote a record spent of its own: memory
// and GC from runtime/metrics, peak RSS from the kernel. A generator that
// measures must also say what measuring cost it, so that its lag and CPU
// can be told from the target's.
type Runtime struct {
	PeakRSSBytes int64 `json:"peak_rss_bytes,omitempty"` // the process's peak resident set (getrusage)
	// PeakAnonBytes and PeakFileBytes split the resident set (Linux,
	// sampled every 50 ms while the run went; SetPeaks): anonymous pages
	// are the heap and stacks, file-backed ones mostly the executable's
	// own pages. Their peaks may fall at different times.
	PeakAnonBytes    int64   `json:"peak_anon_bytes,omitempty"`
	PeakFileBytes    int64   `json:"peak_file_bytes,omitempty"`
	HeapAllocBytes   uint64  `json:"heap_alloc_bytes"`   // allocated over the process's life
	HeapLiveBytes    uint64  `json:"heap_live_bytes"`    // live after the last GC
	GoMemoryBytes    uint64  `json:"go_memory_bytes"`    // all memory the Go runtime mapped
	GCCycles         uint64  `json:"gc_cycles"`          // completed GC cycles
	GCCPUSeconds     float64 `json:"gc_cpu_seconds"`     // CPU the GC took, estimated by the runtime
	CPUSeconds       float64 `json:"cpu_seconds"`        // user + system CPU, estimated by the runtime
	GOGC             int64   `json:"gogc_percent"`       // the GC target; -1 when off
	MemoryLimitBytes int64   `json:"memory_limit_bytes"` // the soft memory limit (math.MaxInt64: none)
	Goroutines       uint64  `json:"goroutines"`
}

var runtimeSamples = []string{
	"/gc/heap/allocs:bytes",
	"/gc/heap/live:bytes",
	"/memory/classes/total:bytes",
	"/gc/cycles/total:gc-cycles",
	"/cpu/classes/gc/total:cpu-seconds",
	"/gc/gogc:percent",
	"/gc/gomemlimit:bytes",
	"/sched/goroutines:goroutines",
}

// ReadRuntime reads this process's Runtime now.
func ReadRuntime() *Runtime {
	s := make([]metrics.Sample, len(runtimeSamples))
	for i, name := range runtimeSamples {
		s[i].Name = name
	}
	metrics.Read(s)
	u := func(i int) uint64 {
		if s[i].Value.Kind() == metrics.KindUint64 {
			return s[i].Value.Uint64()
		}
		return 0
	}
	f := func(i int) float64 {
		if s[i].Value.Kind() == metrics.KindFloat64 {
			return s[i].Value.Float64()
		}
		return 0
	}
	r := &Runtime{
		HeapAllocBytes: u(0), HeapLiveBytes: u(1), GoMemoryBytes: u(2), GCCycles: u(3),
		GCCPUSeconds: f(4), GOGC: int64(u(5)), MemoryLimitBytes: int64(u(6)), Goroutines: u(7),
	}
	if u(5) > 1<<62 {
		r.GOGC = -1
	}
	r.PeakRSSBytes, r.CPUSeconds = rusage()
	return r
}

// SetPeaks puts a MemoryWatch's anon and file peaks into r.
func (r *Runtime) SetPeaks(p MemoryPeaks) {
	r.PeakAnonBytes, r.PeakFileBytes = p.Anon, p.File
}
