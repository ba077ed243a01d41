package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// fleetRebalanceResume: three agents replay a request log of 6000 requests,
// each with a path of its own (/r/K), at 600/s for 10 s under
// on_agent_loss: rebalance; one agent is SIGKILLed 4 s in. The survivors
// resume its share right after the last arrival it reported sending: the
// target sees at least 99.5% of the planned requests, and at most 0.5% of
// them twice (what the lost agent sent after its last report, at most a
// PositionInterval of its 200/s). The paths tell the target which planned
// request each one is.
func fleetRebalanceResume(t *testing.T) {
	const n, rate = 6000, 600
	var mu sync.Mutex
	seen := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen[r.URL.Path]++
		mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	count := func() int {
		mu.Lock()
		defer mu.Unlock()
		sum := 0
		for _, c := range seen {
			sum += c
		}
		return sum
	}

	dir := t.TempDir()
	var log strings.Builder
	log.WriteString("timestamp,method,path,headers,body\n")
	for k := range n {
		fmt.Fprintf(&log, "%.6f,GET,/r/%d,,\n", 1.7e9+float64(k)/rate, k)
	}
	if err := os.WriteFile(filepath.Join(dir, "requests.csv"), []byte(log.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	scen := filepath.Join(dir, "scenario.yaml")
	if err := os.WriteFile(scen, []byte(fmt.Sprintf(`
name: resume
target: {driver: http, url: %q, timeout: 5s}
cold: {infer: false}
on_agent_loss: rebalance
phases:
  - name: replay
    request_log: {file: requests.csv}
`, srv.URL)), 0o644); err != nil {
		t.Fatal(err)
	}
	agents := []*agentProc{
		startAgent(t, "127.0.0.24", "--insecure"),
		startAgent(t, "127.0.0.25", "--insecure"),
		startAgent(t, "127.0.0.26", "--insecure"),
	}
	out := t.TempDir() + "/run"
	ctl := startController(t, "run", scen, "--agents", agentAddrs(agents...), "--insecure", "--out", out, "--quiet")
	deadline := time.Now().Add(15 * time.Second)
	for count() == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(4 * time.Second)
	agents[2].cmd.Process.Kill() // SIGKILL
	if code := ctl.wait(t, 40*time.Second); code != 0 {
		t.Fatalf("exit %d:\n%s", code, ctl.out)
	}
	mu.Lock()
	defer mu.Unlock()
	twice := 0
	for _, c := range seen {
		twice += c - 1
	}
	got := float64(len(seen)) / n
	dup := float64(twice) / n
	t.Logf("target received %d of %d planned requests (%.2f%%); %d twice (%.2f%%); reasons %q",
		len(seen), n, 100*got, twice, 100*dup, loadRun(t, out).DegradedReasons)
	if got < 0.995 {
		t.Errorf("received %.2f%% of the planned requests, want at least 99.5%%", 100*got)
	}
	if dup > 0.005 {
		t.Errorf("%.2f%% of the planned requests arrived twice, want at most 0.5%%", 100*dup)
	}
	r := loadRun(t, out)
	if !strings.Contains(strings.Join(r.DegradedReasons, "\n"), "resumed agent "+agents[2].addr) {
		t.Errorf("the degraded reasons do not say where the survivors resumed: %q", r.DegradedReasons)
	}
	// The overdue arrivals were sent at once, late: the generator lag
	// (actual minus intended send time) holds them, at most about a
	// PositionInterval late, too little beside a loaded machine's own lag
	// to assert on.
	if lag := r.Totals.Lag; lag != nil {
		t.Logf("generator lag: p99 %.1f ms, max %.1f ms", lag.P99Ms, lag.MaxMs)
	}
}
