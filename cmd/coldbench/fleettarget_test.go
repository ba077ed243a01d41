package main

import (
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/coldbench/coldbench/results"
)

// fleetTargetOverride: `coldbench run --target URL` on an agent in another
// process sends every request to URL and none to the file's own target.
// The agent's allow-list admits only URL, so the run starts only if the
// agent applied the override itself (it gets the file's text and the URL
// beside it, TestRemoteAgentTargetOverride) before checking the list. The
// run directory keeps the file as written, comments included.
func fleetTargetOverride(t *testing.T) {
	tg, own := newTarget(t), newTarget(t)
	text := "# the file's own target must see nothing\n" +
		"name: override\n" +
		"target: {driver: http, url: '" + own.URL + "', timeout: 5s}\n" +
		"phases:\n  - {name: a, duration: 1s, rate: 30/s}\n"
	scen := writeScenario(t, text)
	u, err := url.Parse(tg.URL)
	if err != nil {
		t.Fatal(err)
	}
	a := startAgent(t, "127.0.0.50", "--insecure", "--allow-target", u.Host)
	dir := filepath.Join(t.TempDir(), "run")
	out, code := coldbench(t, "run", scen, "--target", tg.URL, "--agents", a.addr, "--insecure", "--out", dir, "--quiet")
	if code != 0 {
		t.Fatalf("exit %d:\n%s\nagent:\n%s", code, out, a.log)
	}
	if n, total := len(tg.arrivals()), loadRun(t, dir).Totals.Requests; n != 30 || total != 30 {
		t.Errorf("%d requests reached --target, %d recorded; want 30 each", n, total)
	}
	if n := len(own.arrivals()); n != 0 {
		t.Errorf("%d requests reached the file's own target", n)
	}
	if b, err := os.ReadFile(filepath.Join(dir, results.ScenarioFile)); err != nil || string(b) != text {
		t.Errorf("run directory's scenario = %q, %v; want the file as written", b, err)
	}
}
