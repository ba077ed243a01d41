package main

import (
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coldbench/coldbench/results"
)

// w3cTraceparent is a version-00 traceparent as the W3C Trace Context spec
// defines it; all-zero ids are checked apart.
var w3cTraceparent = regexp.MustCompile(`^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$`)

// seenRequest is what the trace target saw of one request.
type seenRequest struct {
	parent, state, requestID string
	traceID                  string
	sleep                    time.Duration
}

// traceTarget is an HTTP target that records the trace context headers of
// every request and makes the requests it chooses slow: slow(n) is the
// sleep for the nth request it sees (from 0), 0 for none.
type traceTarget struct {
	url  string
	mu   sync.Mutex
	seen []seenRequest
}

func newTraceTarget(t *testing.T, slow func(n int) time.Duration) *traceTarget {
	tg := &traceTarget{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := seenRequest{parent: r.Header.Get("Traceparent"), state: r.Header.Get("Tracestate"), requestID: r.Header.Get("X-Request-Id")}
		if m := w3cTraceparent.FindStringSubmatch(s.parent); m != nil {
			s.traceID = m[1]
		}
		tg.mu.Lock()
		s.sleep = slow(len(tg.seen))
		tg.seen = append(tg.seen, s)
		tg.mu.Unlock()
		time.Sleep(s.sleep)
		w.Write([]byte("ok"))
	}))
	t.Cleanup(srv.Close)
	tg.url = srv.URL
	return tg
}

func (tg *traceTarget) requests() []seenRequest {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	return slices.Clone(tg.seen)
}

// checkHeaders asserts that every request carried a valid version-00
// traceparent with non-zero ids, the sampled flag and the configured
// tracestate, and that no trace id came twice. It returns the requests by
// trace id.
func checkHeaders(t *testing.T, seen []seenRequest, state string) map[string]seenRequest {
	t.Helper()
	byTrace := map[string]seenRequest{}
	for i, s := range seen {
		m := w3cTraceparent.FindStringSubmatch(s.parent)
		switch {
		case m == nil:
			t.Fatalf("request %d: traceparent %q is not version 00", i, s.parent)
		case m[1] == strings.Repeat("0", 32) || m[2] == strings.Repeat("0", 16):
			t.Fatalf("request %d: all-zero id in %q", i, s.parent)
		case m[3] != "01":
			t.Errorf("request %d: flags %s, want 01 (sampled: true)", i, m[3])
		case s.state != state:
			t.Errorf("request %d: tracestate %q, want %q", i, s.state, state)
		}
		if _, dup := byTrace[m[1]]; dup {
			t.Fatalf("request %d: trace id %s sent twice", i, m[1])
		}
		byTrace[m[1]] = s
	}
	return byTrace
}

// checkRandom asserts that the random exemplars are distinct requests the
// target saw, under the request id it saw with them.
func checkRandom(t *testing.T, x *results.Exemplars, byTrace map[string]seenRequest) {
	t.Helper()
	if len(x.Random) != results.ExemplarsPerKind {
		t.Fatalf("%d random exemplars, want %d", len(x.Random), results.ExemplarsPerKind)
	}
	ids := map[string]bool{}
	for _, e := range x.Random {
		s, ok := byTrace[e.TraceIDHex()]
		if !ok || s.requestID != e.RequestID || ids[e.RequestID] {
			t.Errorf("random exemplar %s (request %s): target saw %+v; or a duplicate", e.TraceIDHex(), e.RequestID, s)
		}
		ids[e.RequestID] = true
	}
}

// TestTraceContextAndExemplars: every request of a run carries a valid W3C
// traceparent with a fresh trace id and the configured tracestate, and the
// slowest exemplars in run.json are exactly the requests the target made
// slow (every 50th sleeps 200 ms: 5 of 250 requests), as the target saw
// them, the first at the phase's recorded maximum.
//
// Not parallel: "slowest" is a measurement, and a loaded CPU could stall a
// fast request past 200 ms.
func TestTraceContextAndExemplars(t *testing.T) {
	tg := newTraceTarget(t, func(n int) time.Duration {
		if n%50 == 49 {
			return 200 * time.Millisecond
		}
		return 0
	})
	p := writeScenario(t, fmt.Sprintf(`
name: trace
target: {driver: http, url: %q, timeout: 5s}
cold: {infer: false}
trace: {sampled: true, tracestate: "coldbench=t61rcWkgMzE"}
phases:
  - {name: steady, duration: 2500ms, rate: 100/s}
`, tg.url))
	dir := filepath.Join(t.TempDir(), "run")
	out, code := coldbench(t, "run", p, "--out", dir)
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	r := loadRun(t, dir)
	seen := tg.requests()
	if len(seen) != 250 || r.Totals.Sent != 250 {
		t.Fatalf("target saw %d requests, run sent %d; want 250", len(seen), r.Totals.Sent)
	}
	byTrace := checkHeaders(t, seen, "coldbench=t61rcWkgMzE")

	ph := r.Phases[0]
	if ph.Exemplars == nil || ph.Exemplars.Unknown == nil {
		t.Fatalf("no exemplars of unknown temperature in run.json: %+v", ph.Exemplars)
	}
	x := ph.Exemplars.Unknown
	var slow, got []string
	for _, s := range seen {
		if s.sleep > 0 {
			slow = append(slow, s.traceID)
		}
	}
	for i, e := range x.Slowest {
		got = append(got, e.TraceIDHex())
		s := byTrace[e.TraceIDHex()]
		if s.requestID != e.RequestID || !e.Sampled || e.Outcome.String() != "ok" {
			t.Errorf("slowest #%d: request %s sampled %v outcome %s; target saw request %q", i+1, e.RequestID, e.Sampled, e.Outcome, s.requestID)
		}
		if i > 0 && e.Latency > x.Slowest[i-1].Latency {
			t.Errorf("slowest #%d (%v) is slower than #%d (%v)", i+1, e.Latency, i, x.Slowest[i-1].Latency)
		}
	}
	slices.Sort(slow)
	slices.Sort(got)
	if !slices.Equal(got, slow) {
		t.Errorf("slowest exemplars %v, want the slow requests %v", got, slow)
	}
	// The first is the histogram's maximum, within HDR precision (3
	// significant digits: the max is reported at its bucket's top).
	if top, max := float64(x.Slowest[0].Latency)/1e6, ph.Unknown.MaxMs; math.Abs(top-max) > max*0.002 {
		t.Errorf("slowest exemplar %.3f ms, histogram max %.3f ms", top, max)
	}
	checkRandom(t, x, byTrace)
	if want := "slowest unknown:"; !strings.Contains(out, want) || !strings.Contains(out, "trace "+x.Slowest[0].TraceIDHex()) {
		t.Errorf("text report lacks the slowest request's trace id:\n%s", out)
	}

	// Trace context off: no header at all, exemplars still kept.
	tg2 := newTraceTarget(t, func(int) time.Duration { return 0 })
	p = writeScenario(t, fmt.Sprintf(`
name: untraced
target: {driver: http, url: %q, timeout: 5s}
cold: {infer: false}
trace: {enabled: false}
phases:
  - {name: steady, duration: 1s, rate: 20/s}
`, tg2.url))
	dir = filepath.Join(t.TempDir(), "run")
	if out, code := coldbench(t, "run", p, "--out", dir, "--quiet"); code != 0 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	for i, s := range tg2.requests() {
		if s.parent != "" || s.state != "" {
			t.Fatalf("trace context off, request %d carried traceparent %q tracestate %q", i, s.parent, s.state)
		}
	}
	if x := loadRun(t, dir).Phases[0].Exemplars; x == nil || x.Unknown == nil || len(x.Unknown.Slowest) == 0 || x.Unknown.Slowest[0].TraceIDHex() != "" {
		t.Errorf("trace context off: exemplars %+v, want some without trace ids", x)
	}
}

// TestFleetExemplars: two agents share a run; the target makes every 40th
// request slow, the kth of them sleeping 100(k+1) ms. The merged slowest
// exemplars are the global top 5 (the five longest sleeps, in order), not
// either agent's own. Inference is off, so that every exemplar is of
// unknown temperature.
func TestFleetExemplars(t *testing.T) {
	tg := newTraceTarget(t, func(n int) time.Duration {
		if n%40 == 39 {
			return time.Duration(n/40+1) * 100 * time.Millisecond
		}
		return 0
	})
	agents := []*agentProc{startAgent(t, "127.0.0.40", "--insecure"), startAgent(t, "127.0.0.41", "--insecure")}
	dir := t.TempDir() + "/run"
	out, code := coldbench(t, "run", fleetScenario(t, tg.url, 200, 2*time.Second, "cold: {infer: false}"),
		"--agents", agentAddrs(agents...), "--insecure", "--out", dir, "--quiet")
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	r := loadRun(t, dir)
	seen := tg.requests()
	if len(seen) != 400 || len(r.Agents) != 2 {
		t.Fatalf("target saw %d requests, %d agents; want 400 from 2", len(seen), len(r.Agents))
	}
	byTrace := checkHeaders(t, seen, "")
	var slow []seenRequest
	for _, s := range seen {
		if s.sleep > 0 {
			slow = append(slow, s)
		}
	}
	slices.SortFunc(slow, func(a, b seenRequest) int { return int(b.sleep - a.sleep) })
	x := r.Phases[0].Exemplars.Unknown
	if len(x.Slowest) != results.ExemplarsPerKind {
		t.Fatalf("%d slowest exemplars, want %d", len(x.Slowest), results.ExemplarsPerKind)
	}
	agentsOf := map[string]bool{}
	for i, e := range x.Slowest {
		if e.TraceIDHex() != slow[i].traceID || e.RequestID != slow[i].requestID {
			t.Errorf("slowest #%d: trace %s request %s (%v); want the request that slept %v: trace %s request %s",
				i+1, e.TraceIDHex(), e.RequestID, e.Latency, slow[i].sleep, slow[i].traceID, slow[i].requestID)
		}
		agentsOf[strings.SplitN(e.RequestID, "-", 2)[0]] = true
	}
	t.Logf("the global top %d came from %d agent(s)", len(x.Slowest), len(agentsOf))
	checkRandom(t, x, byTrace)
}
