package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestMemoryLimit: a run sets the soft memory limit, and says so in
// run.json's host block, unless the user's GOMEMLIMIT sets another or
// turns it off. Three 0.3 s runs of the emulator: about 2 s.
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
		{"default", "", memoryLimit},               // ours
		{"user's", "GOMEMLIMIT=200MiB", 200 << 20}, // the user's wins
		{"off", "GOMEMLIMIT=off", 1<<63 - 1},       // and can turn it off
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
