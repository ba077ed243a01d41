package http_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/coldbench/coldbench/drivers"
	"github.com/coldbench/coldbench/internal/runner"
	"github.com/coldbench/coldbench/results"
	"github.com/coldbench/coldbench/scenarios"
)

// pool is a test function with the structure of a FaaS platform: a request
// takes an idle instance, or starts a new one (a cold start that sleeps
// init first); instances live forever. It reports the cold flag and its
// instance id in the body, under meta, as benchmark functions do, and
// sends no cold-start header. Truth keeps each request's temperature by
// its X-Request-Id.
type pool struct {
	init time.Duration

	mu    sync.Mutex
	idle  []string
	n     int
	truth map[string]bool // request id → cold
}

func (p *pool) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	var id string
	cold := len(p.idle) == 0
	if cold {
		p.n++
		id = fmt.Sprintf("i-%d", p.n)
	} else {
		id, p.idle = p.idle[len(p.idle)-1], p.idle[:len(p.idle)-1]
	}
	p.truth[r.Header.Get("X-Request-Id")] = cold
	p.mu.Unlock()
	if cold {
		time.Sleep(p.init)
	}
	time.Sleep(time.Millisecond)
	json.NewEncoder(w).Encode(map[string]any{"ok": true, "meta": map[string]any{"cold": cold, "instance": id}})
	p.mu.Lock()
	p.idle = append(p.idle, id)
	p.mu.Unlock()
}

// TestColdBodyMarkers runs scenarios whose cold.body names the function's
// markers through the http driver, the way `coldbench run` does, and checks
// every request's temperature against the function's truth: 100% right,
// every one decided by the body, with the cold flag or with the instance
// id alone, on either client.
func TestColdBodyMarkers(t *testing.T) {
	for _, tc := range []struct {
		name   string
		client string // the target's client: "" the default (fasthttp)
		body   string // the scenario's cold.body
	}{
		{"cold flag and instance", "", `{cold: meta.cold, instance: meta.instance}`},
		{"instance id only, as a JSON pointer", "", `{instance: /meta/instance}`},
		// the same two on net/http
		{"net/http cold flag and instance", "net/http", `{cold: meta.cold, instance: meta.instance}`},
		{"net/http instance id only", "net/http", `{instance: /meta/instance}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel() // each case its own target and run: about 2 s of wall time, not 8
			fn := &pool{init: 40 * time.Millisecond, truth: map[string]bool{}}
			srv := httptest.NewServer(fn)
			defer srv.Close()
			yaml := fmt.Sprintf(`name: body-markers
target: {driver: http, url: %s, timeout: 5s, client: "%s"}
cold:
  body: %s
max_in_flight: 50
phases:
  - {name: burst, duration: 300ms, burst: {requests: 6}}
  - {name: steady, duration: 1s, rate: 30/s}
  - {name: burst-again, duration: 300ms, burst: {requests: 10}}
`, srv.URL, tc.client, tc.body)
			sc, err := scenarios.Parse("body.yaml", []byte(yaml))
			if err != nil {
				t.Fatal(err)
			}
			var mu sync.Mutex
			got := map[string]drivers.Temperature{}
			sources := map[drivers.ColdSource]int{}
			observe := func(c *drivers.Call, s results.Sample) {
				mu.Lock()
				got[c.ID] = s.Temp
				sources[s.Source]++
				mu.Unlock()
			}
			res, err := runner.Run(context.Background(), runner.Config{Scenario: sc, Dir: filepath.Join(t.TempDir(), "run"), Observer: observe})
			if err != nil {
				t.Fatal(err)
			}
			fn.mu.Lock()
			defer fn.mu.Unlock()
			if len(fn.truth) != 6+30+10 || len(got) != len(fn.truth) {
				t.Fatalf("target saw %d requests, coldbench recorded %d; want 46", len(fn.truth), len(got))
			}
			cold := 0
			for id, truth := range fn.truth {
				want := map[bool]drivers.Temperature{true: drivers.Cold, false: drivers.Warm}[truth]
				if got[id] != want {
					t.Errorf("request %s: %v, truth %v", id, got[id], want)
				}
				if truth {
					cold++
				}
			}
			if sources[drivers.SourceBody] != len(fn.truth) {
				t.Errorf("sources %v: want all %d from the body", sources, len(fn.truth))
			}
			if cold < 6 || res.Run.ColdDetection.Body != int64(len(fn.truth)) {
				t.Errorf("%d cold in truth (want ≥ 6, the first burst); run.json cold_detection %+v", cold, res.Run.ColdDetection)
			}
		})
	}
}
