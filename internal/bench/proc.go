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
)

// Usage is what a generator's processes cost: CPU (user + system) and
// peak resident memory, from getrusage of each child.
type Usage struct {
	CPU  time.Duration   `json:"cpu_ns"`  // all processes
	CPUs []time.Duration `json:"cpus_ns"` // each process, in the order they were started
	// MaxRSS is the peak resident set of each process, in bytes, in the
	// order they were started (vegeta: attack, then report).
	MaxRSS []int64 `json:"max_rss_bytes"`
}

// RSS is the sum of the processes' peaks: an upper bound on what the
// pipeline held at once.
func (u Usage) RSS() int64 {
	var n int64
	for _, r := range u.MaxRSS {
		n += r
	}
	return n
}

func (u *Usage) add(cmd *exec.Cmd) {
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
}

// run runs one command to its end, bounded by timeout, and returns its
// stdout and usage. stderr goes into the error when it fails.
func run(ctx context.Context, timeout time.Duration, name string, args ...string) ([]byte, Usage, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var u Usage
	u.add(cmd)
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
