package main

import (
	"bytes"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestMemoryLimit: coldbench sets no soft memory limit of its own (a
// fixed one made the collector run back to back when an overloaded run's
// live heap neared it), and a user's GOMEMLIMIT is the runtime's and is
// shown in run.json's host block. Two 0.3 s runs of the emulator: about
// 1 s.
func TestMemoryLimit(t *testing.T) {
	t.Parallel()
	p := writeScenario(t, "name: tiny\ntarget: {driver: sim, handler: 1ms}\nphases:\n  - {name: a, duration: 300ms, rate: 40}\n")
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GOMEMLIMIT=") {
			env = append(env, kv)
		}
	}
	for _, tc := range []struct {
		name, gomemlimit string
		want             int64
	}{
		{"default", "", math.MaxInt64},             // none
		{"user's", "GOMEMLIMIT=200MiB", 200 << 20}, // the user's, reported
	} {
		dir := filepath.Join(t.TempDir(), "run")
		cmd := exec.Command(bin, "run", "--quiet", "--out", dir, p)
		cmd.Env = env
		if tc.gomemlimit != "" {
			cmd.Env = append(env[:len(env):len(env)], tc.gomemlimit)
		}
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			t.Fatalf("%s: %v\n%s", tc.name, err, out.String())
		}
		rt := loadRun(t, dir).Host.Runtime
		if rt == nil || rt.MemoryLimitBytes != tc.want {
			t.Errorf("%s: runtime %+v, want memory limit %d", tc.name, rt, tc.want)
		}
	}
}
