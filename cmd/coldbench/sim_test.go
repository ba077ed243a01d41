package main

import (
	"bufio"
	"encoding/json"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestSimStandalone runs `coldbench sim` as its own process and points a
// scenario at it with the http driver, reading cold starts from the
// emulator's headers as a function's own headers would be read.
func TestSimStandalone(t *testing.T) {
	t.Parallel()
	sim := exec.Command(bin, "sim", "--listen", "127.0.0.1:0", "--handler", "2ms", "--init", "40ms", "--keep-alive", "500ms")
	stdout, err := sim.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := sim.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Process.Kill(); sim.Wait() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("reading the sim's address: %v", err)
	}
	url := regexp.MustCompile(`http://127\.0\.0\.1:\d+`).FindString(line)
	if url == "" {
		t.Fatalf("no URL in %q", line)
	}

	type simState struct {
		MemoryMB int  `json:"memory_mb"`
		Ready    bool `json:"ready"`
		Stats    struct {
			Invocations int64 `json:"invocations"`
			ColdStarts  int64 `json:"cold_starts"`
		} `json:"stats"`
	}
	state := func() simState {
		resp, err := http.Get(url + "/_sim/state")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var s simState
		if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	if s := state(); s.MemoryMB != 1024 || !s.Ready {
		t.Errorf("state %+v", s)
	}

	p := writeScenario(t, `
name: standalone
target: {driver: http, url: "`+url+`/fn", method: POST, timeout: 5s}
cold: {headers: [X-Sim-Cold], infer: false}
phases:
  - {name: burst, duration: 500ms, burst: {requests: 5}}
  - {name: warm, duration: 1s, rate: 20}
  - {name: expire, duration: 1s, idle: true}
  - {name: again, duration: 300ms, burst: {requests: 3}}
`)
	dir := filepath.Join(t.TempDir(), "run")
	out, code := coldbench(t, "run", p, "--out", dir, "--quiet")
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	r := loadRun(t, dir)
	truth := state().Stats
	if r.Totals.OK != truth.Invocations || r.Totals.Cold.Count != truth.ColdStarts || r.ColdDetection.Header != r.Totals.Sent {
		t.Errorf("ok %d, cold %d, header-decided %d of %d; the emulator served %d with %d cold starts",
			r.Totals.OK, r.Totals.Cold.Count, r.ColdDetection.Header, r.Totals.Sent, truth.Invocations, truth.ColdStarts)
	}
	if truth.ColdStarts < 8 {
		t.Errorf("%d cold starts: want at least the two bursts' 8", truth.ColdStarts)
	}
	if !strings.Contains(r.Target, url) {
		t.Errorf("target %q does not name %s", r.Target, url)
	}
}
