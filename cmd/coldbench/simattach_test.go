package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// standaloneSim starts `coldbench sim` as a child process on a loopback
// port and returns its base URL.
func standaloneSim(t *testing.T, args ...string) string {
	t.Helper()
	addr := freeAddr(t) // lambda_test.go
	cmd := exec.Command(bin, append([]string{"sim", "--listen", addr}, args...)...)
	out := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return "http://" + addr
		}
		if time.Now().After(deadline) {
			t.Fatalf("coldbench sim did not listen on %s:\n%s", addr, out.String())
		}
	}
}

// simConfig is GET /_sim/config, decoded loosely so that every field the
// emulator reports is compared.
func simConfig(t *testing.T, base string) map[string]any {
	t.Helper()
	resp, err := http.Get(base + "/_sim/config")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /_sim/config: %d %v %s", resp.StatusCode, err, b)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func sameJSON(a, b map[string]any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}

// attachScenario tunes the standalone emulator at base.
func attachScenario(t *testing.T, base string, memory string, phase string) string {
	return writeScenario(t, fmt.Sprintf(`name: attach
target: {driver: sim, url: %s}
tune:
  memory: %s
  prewarm: [0, 1]
  samples: {cold: 2, warm: 5}
phases:
  - %s
`, base, memory, phase))
}

// TestTuneAttachedSim drives a standalone `coldbench sim` with `coldbench
// tune` (both child processes) through the sim driver's url:, and checks
// from outside, with GET /_sim/config, that the sweep changed the
// emulator's settings while it ran and put every setting back after a
// completed sweep and after Ctrl-C midway.
//
// Cost: about 10 s.
func TestTuneAttachedSim(t *testing.T) {
	t.Parallel()
	t.Run("completed", func(t *testing.T) {
		t.Parallel()
		base := standaloneSim(t, "--memory", "256", "--min-instances", "0", "--handler", "5ms", "--init", "40ms")
		orig := simConfig(t, base)
		dir := filepath.Join(t.TempDir(), "tune")
		out, code := coldbench(t, "tune", attachScenario(t, base, "[512, 1024]", "{name: a, duration: 500ms, rate: 10/s}"), "--out", dir, "--quiet")
		if code != 0 {
			t.Fatalf("exit %d:\n%s", code, out)
		}
		if after := simConfig(t, base); !sameJSON(after, orig) {
			t.Errorf("config after the sweep %v\nwant the original %v", after, orig)
		}
	})
	t.Run("interrupted", func(t *testing.T) {
		t.Parallel()
		base := standaloneSim(t, "--memory", "256", "--min-instances", "0", "--handler", "5ms", "--init", "40ms")
		orig := simConfig(t, base)
		cmd := exec.Command(bin, "tune", attachScenario(t, base, "[512, 1024, 2048]", "{name: a, duration: 3s, rate: 10/s}"), "--out", filepath.Join(t.TempDir(), "tune"), "--quiet")
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Wait until the sweep has applied a setting of its own, seen from
		// outside, then interrupt it.
		var during map[string]any
		for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(25 * time.Millisecond) {
			if during = simConfig(t, base); during["memory_mb"] != orig["memory_mb"] {
				break
			}
			if time.Now().After(deadline) {
				cmd.Process.Kill()
				cmd.Wait()
				t.Fatalf("the sweep never changed memory_mb from %v:\n%s", orig["memory_mb"], out.String())
			}
		}
		cmd.Process.Signal(syscall.SIGINT)
		err := cmd.Wait()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != exitIncomplete {
			t.Errorf("exit: %v, want %d\n%s", err, exitIncomplete, out.String())
		}
		if after := simConfig(t, base); !sameJSON(after, orig) {
			t.Errorf("config after Ctrl-C %v\nwant the original %v (during the sweep: memory_mb %v)", after, orig, during["memory_mb"])
		}
	})
}
