// Package bench is `make bench`: it runs coldbench, vegeta and wrk against
// one minimal HTTP server on loopback and measures each load generator's
// sustained open-model rate, CPU per request, peak memory and timing
// accuracy, with coldbench/vegeta ratios. cmd/benchrun drives it;
// cmd/benchtarget is the server.
package bench

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"syscall"
	"time"

	"github.com/coldbench/coldbench/results"
)

// Usage is what a generator's processes cost: CPU (user + system) and
// peak resident memory, from getrusage of each child, and the peaks of
// its resident set split into anonymous (heap, stacks) and file-backed
// (mostly the executable's own pages) memory, sampled from
// /proc/PID/status every 50 ms the same way for every tool.
type Usage struct {
	CPU  time.Duration   `json:"cpu_ns"`  // all processes
	CPUs []time.Duration `json:"cpus_ns"` // each process, in the order they were started
	// MaxRSS is the peak resident set of each process, in bytes, in the
	// order they were started (vegeta: attack, then report).
	MaxRSS []int64 `json:"max_rss_bytes"`
	// PeakAnon and PeakFile are each process's sampled peaks, in the
	// same order (0 where /proc could not be read). A peak between two
	// samples can be missed; MaxRSS cannot miss one.
	PeakAnon []int64 `json:"peak_anon_bytes,omitempty"`
	PeakFile []int64 `json:"peak_file_bytes,omitempty"`
}

// memEvery is how often a generator's /proc/PID/status is sampled.
const memEvery = 50 * time.Millisecond

// RSS is the sum of the processes' peaks: an upper bound on what the
// pipeline held at once.
func (u Usage) RSS() int64 {
	return sum(u.MaxRSS)
}

// Anon is the sum of the processes' anonymous peaks, like RSS.
func (u Usage) Anon() int64 { return sum(u.PeakAnon) }

// File is the sum of the processes' file-backed peaks, like RSS.
func (u Usage) File() int64 { return sum(u.PeakFile) }

func sum(xs []int64) int64 {
	var n int64
	for _, x := range xs {
		n += x
	}
	return n
}

// watch starts sampling a started command's memory.
func watch(cmd *exec.Cmd) *results.MemoryWatch {
	return results.WatchMemory(cmd.Process.Pid, memEvery)
}

// add records a finished command's usage, with the peaks its watch saw
// (nil: not watched).
func (u *Usage) add(cmd *exec.Cmd, w *results.MemoryWatch) {
	st := cmd.ProcessState
	if st == nil {
		return
	}
	cpu := st.UserTime() + st.SystemTime()
	u.CPU += cpu
	u.CPUs = append(u.CPUs, cpu)
	if ru, ok := st.SysUsage().(*syscall.Rusage); ok {
		u.MaxRSS = append(u.MaxRSS, ru.Maxrss*1024) // Linux reports KiB
	}
	var p results.MemoryPeaks
	if w != nil {
		p = w.Stop()
	}
	u.PeakAnon = append(u.PeakAnon, p.Anon)
	u.PeakFile = append(u.PeakFile, p.File)
}

// run runs one command to its end, bounded by timeout, and returns its
// stdout and usage. stderr goes into the error when it fails.
func run(ctx context.Context, timeout time.Duration, name string, args ...string) ([]byte, Usage, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	var u Usage
	if err := cmd.Start(); err != nil {
		return nil, u, fmt.Errorf("%s: %w", name, err)
	}
	w := watch(cmd)
	err := cmd.Wait()
	u.add(cmd, w)
	if err != nil {
		return nil, u, fmt.Errorf("%s: %w: %s", name, err, lastLine(errb.Bytes()))
	}
	return out.Bytes(), u, nil
}

func lastLine(b []byte) string {
	b = bytes.TrimSpace(b)
	if i := bytes.LastIndexByte(b, '\n'); i >= 0 {
		b = b[i+1:]
	}
	if len(b) > 300 {
		b = b[:300]
	}
	return string(b)
}
