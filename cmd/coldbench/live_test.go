package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// inferScenario is a constant rate against url with the default cold
// detection: the plain target sends no signal, so every temperature is
// inferred.
func inferScenario(t *testing.T, url string, rate int, d time.Duration, extra string) string {
	t.Helper()
	return writeScenario(t, fmt.Sprintf(`
name: live
target: {driver: http, url: %q, timeout: 5s}
%s
phases:
  - {name: steady, duration: %s, rate: %d/s}
`, url, extra, d, rate))
}

// TestLiveRecordWithInference: with inference on and no other signal,
// run.json read 2 s into a 10 s run already counts requests and has
// latency percentiles, and after the run is killed with SIGKILL 3 s in,
// it keeps what was measured up to its last write. About 4 s.
func TestLiveRecordWithInference(t *testing.T) {
	t.Parallel()
	tg := newTarget(t)
	dir := filepath.Join(t.TempDir(), "run")
	ctl := startController(t, "run", inferScenario(t, tg.URL, 100, 10*time.Second, ""), "--out", dir, "--quiet")
	first := tg.waitFirst(t, 15*time.Second)
	time.Sleep(time.Until(first.Add(2 * time.Second)))
	r := loadRun(t, dir)
	tot := &r.Totals
	if tot.Sent == 0 || tot.Warm.Count == 0 || tot.Warm.P50Ms <= 0 || r.ColdDetection.Inferred == 0 {
		t.Errorf("run.json 2 s in: sent %d, warm %d (p50 %v ms), inferred %d; want requests counted, with percentiles",
			tot.Sent, tot.Warm.Count, tot.Warm.P50Ms, r.ColdDetection.Inferred)
	}
	t.Logf("2 s in: sent %d of %d at the target, warm p50 %v ms", tot.Sent, len(tg.arrivals()), tot.Warm.P50Ms)

	time.Sleep(time.Until(first.Add(3 * time.Second)))
	ctl.cmd.Process.Kill()
	<-ctl.done
	at := len(tg.arrivals())
	r = loadRun(t, dir)
	// Written every second: at least two seconds of the 100/s on record.
	if r.Complete || r.Totals.Sent < 200 || r.Totals.Sent > int64(at) {
		t.Errorf("after SIGKILL 3 s in: complete %v, sent %d on record, %d at the target; want an incomplete record of at least 200",
			r.Complete, r.Totals.Sent, at)
	}
	t.Logf("killed 3 s in: %d on record, %d at the target", r.Totals.Sent, at)
}

// TestAbortOnFailWithInference: a latency abort_on_fail stops a run whose
// temperatures are all inferred within 2 s of the breach: the target turns
// from fast to 18 ms 2 s into a 60 s run, too little apart for a latency
// gap to split (a classifier that waits for one would hold every sample).
// The terminal summary says the split was inferred. About 5 s.
func TestAbortOnFailWithInference(t *testing.T) {
	t.Parallel()
	var slowFrom atomic.Int64
	var last atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		now := time.Now()
		last.Store(now.UnixNano())
		if f := slowFrom.Load(); f == 0 {
			slowFrom.Store(now.Add(2 * time.Second).UnixNano())
		} else if now.UnixNano() >= f {
			time.Sleep(18 * time.Millisecond)
		}
		w.Write([]byte("ok"))
	}))
	t.Cleanup(srv.Close)
	dir := filepath.Join(t.TempDir(), "run")
	p := inferScenario(t, srv.URL, 100, 60*time.Second, `thresholds: [all.p90 < 12ms]
abort_on_fail: {after: 1s, min_samples: 50}`)
	out, code := coldbench(t, "run", p, "--out", dir)
	if code != exitThreshold {
		t.Fatalf("exit %d, want %d:\n%s", code, exitThreshold, out)
	}
	// The breach: the first slow answer, 18 ms after the target turned.
	breach := time.Unix(0, slowFrom.Load()).Add(18 * time.Millisecond)
	stopped := time.Unix(0, last.Load())
	if d := stopped.Sub(breach); d > 2*time.Second || d < 0 {
		t.Errorf("last request %v after the breach, want within 2 s after it", d.Round(time.Millisecond))
	}
	t.Logf("stopped %v after the breach", stopped.Sub(breach).Round(time.Millisecond))
	r := loadRun(t, dir)
	if r.Complete || !strings.Contains(r.Interrupted, "all.p90 < 12ms") || r.ColdDetection.Inferred == 0 {
		t.Errorf("complete %v, interrupted %q, inferred %d: want stopped by the threshold, temperatures inferred", r.Complete, r.Interrupted, r.ColdDetection.Inferred)
	}
	if !strings.Contains(out, "the cold/warm split of") {
		t.Errorf("the summary does not warn that the split was inferred:\n%s", out)
	}
}
