package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// TestUserAgent: requests carry User-Agent coldbench/VERSION, the version
// stamped into the binary at build time, unless the scenario's headers set
// their own.
func TestUserAgent(t *testing.T) {
	const stamp = "v0.0.0-uatest"
	stamped := filepath.Join(t.TempDir(), "coldbench")
	build := exec.Command("go", "build", "-ldflags", "-X main.version="+stamp, "-o", stamped, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	var mu sync.Mutex
	agents := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		agents[r.Header.Get("User-Agent")]++
		mu.Unlock()
	}))
	defer srv.Close()
	for _, c := range []struct {
		headers string
		want    string
	}{
		{"{}", "coldbench/" + stamp},                         // the default, with the version
		{"{user-agent: nightly-probe/2}", "nightly-probe/2"}, // the scenario's own, in any case
	} {
		p := writeScenario(t, fmt.Sprintf(`
name: ua
target: {driver: http, url: %q, timeout: 5s, headers: %s}
cold: {infer: false}
phases:
  - {name: steady, duration: 500ms, rate: 20/s}
`, srv.URL, c.headers))
		mu.Lock()
		clear(agents)
		mu.Unlock()
		out, err := exec.Command(stamped, "run", p, "--quiet", "--out", filepath.Join(t.TempDir(), "run")).CombinedOutput()
		if err != nil {
			t.Fatalf("run: %v\n%s", err, out)
		}
		mu.Lock()
		if len(agents) != 1 || agents[c.want] == 0 {
			t.Errorf("headers %s: the target saw User-Agents %v, want only %q", c.headers, agents, c.want)
		}
		mu.Unlock()
	}
	if out, _ := exec.Command(stamped, "--version").Output(); !strings.Contains(string(out), stamp) {
		t.Errorf("--version printed %q, want %q in it", out, stamp)
	}
}
