package telemetry

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil/promlint"

	"github.com/coldbench/coldbench/drivers"
	"github.com/coldbench/coldbench/internal/engine"
	"github.com/coldbench/coldbench/results"
)

// tally is a one-phase tally of n successful requests per temperature,
// at latency lat, and drop dropped arrivals.
func tally(cold, warm int, lat time.Duration, dropped int64) *results.Tally {
	t := results.NewTally([]results.PhasePlan{{Name: "p", Duration: time.Second, Planned: 100, Rate: 100}})
	p := t.Phases[0]
	for i := range cold + warm {
		temp := drivers.Warm
		if i < cold {
			temp = drivers.Cold
		}
		p.Record(results.Sample{Temp: temp, Outcome: drivers.OK, Latency: lat, Service: lat, Memory: 100 + i})
	}
	p.Record(results.Sample{Temp: drivers.Warm, Outcome: drivers.Timeout, Latency: lat, Service: lat})
	p.Dropped = dropped
	return t
}

// TestMonotonic: counters and buckets never go down, even when the merged
// view shrinks (an agent lost before its data was merged again).
func TestMonotonic(t *testing.T) {
	t.Parallel()
	e := &Exporter{series: map[string]*series{}}
	steps := []struct {
		cold, warm int
		dropped    int64
		want       int64 // invocations exported
	}{
		{1, 4, 0, 6},   // first view
		{2, 10, 1, 13}, // grows
		{1, 3, 0, 13},  // shrinks (an agent's tally missing): held
		{3, 12, 2, 16}, // grows past
	}
	for i, s := range steps {
		e.Observe(tally(s.cold, s.warm, 20*time.Millisecond, s.dropped), engine.Progress{Phase: 0, InFlight: 3})
		v := e.views()[0].fig
		if v.invocations != s.want || v.errors["timeout"] != 1 || v.latency[drivers.Cold].count < uint64(s.cold) {
			t.Errorf("step %d: invocations %d (want %d), errors %v, cold count %d", i, v.invocations, s.want, v.errors, v.latency[drivers.Cold].count)
		}
		if v.targetRate != 100 || v.inFlight != 3 {
			t.Errorf("step %d: target %v in flight %d", i, v.targetRate, v.inFlight)
		}
	}
	v := e.views()[0].fig
	if v.dropped != 2 || v.latency[drivers.Warm].count != 12 || v.memMaxMB != 114 {
		t.Errorf("dropped %d, warm count %d, memory %d", v.dropped, v.latency[drivers.Warm].count, v.memMaxMB)
	}
}

func TestBucketize(t *testing.T) {
	t.Parallel()
	h := results.NewHistogram()
	for _, us := range []int64{500, 1000, 1001, 30000, 2_000_000, 120_000_000} {
		h.RecordValue(us)
	}
	b := bucketize(h)
	// le 0.001 holds 0.5 ms and 1 ms; 1.001 ms goes to le 0.0025; 30 ms to
	// le 0.05; 2 s to le 2.5; 2 minutes to +Inf.
	want := map[int]uint64{0: 2, 1: 1, 5: 1, 10: 1, len(LatencyBounds): 1}
	for i, c := range b.counts {
		if c != want[i] {
			t.Errorf("bucket %d (le %v): %d, want %d", i, bound(i), c, want[i])
		}
	}
	if b.count != 6 || b.sum < 122 || b.sum > 122.2 {
		t.Errorf("count %d sum %v", b.count, b.sum)
	}
}

func bound(i int) any {
	if i < len(LatencyBounds) {
		return LatencyBounds[i]
	}
	return "+Inf"
}

func TestRedact(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"http POST https://user:secret@fn.example.com/invoke?token=abc": "http POST https://fn.example.com/invoke",
		"lambda my-fn:live (eu-west-1)":                                 "lambda my-fn:live (eu-west-1)",
	} {
		if got := Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestTuneSeries: during a tune every setting has its own series, with
// the setting as labels and its cost per million once measured.
func TestTuneSeries(t *testing.T) {
	t.Parallel()
	e, err := New(context.Background(), Config{PrometheusListen: "127.0.0.1:0", Resource: Resource{Scenario: "s", RunID: "r1"}, Tune: true})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close(context.Background(), 0)
	for _, s := range []drivers.Settings{{MemoryMB: 512}, {MemoryMB: 1024, Prewarm: 2}} {
		e.Setting(s).Observe(tally(1, 2, time.Millisecond, 0), engine.Progress{Phase: -1})
		e.Cost(s, float64(s.MemoryMB)/100)
	}
	resp, err := http.Get("http://" + e.PrometheusAddr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, w := range []string{
		`coldbench_invocations_total{run_id="r1",scenario="s",setting="512mb-p0"} 4`,
		`coldbench_invocations_total{run_id="r1",scenario="s",setting="1024mb-p2"} 4`,
		`coldbench_tune_cost_per_million_usd{run_id="r1",scenario="s",setting="1024mb-p2"} 10.24`,
		`coldbench_tune_prewarm_instances{run_id="r1",scenario="s",setting="1024mb-p2"} 2`,
		`coldbench_tune_memory_bytes{run_id="r1",scenario="s",setting="1024mb-p2"} 1.073741824e+09`,
		`coldbench_errors_total{class="timeout",run_id="r1",scenario="s",setting="512mb-p0"} 1`,
		`coldbench_latency_seconds_bucket{run_id="r1",scenario="s",setting="512mb-p0",temperature="cold",le="0.001"} 1`,
	} {
		if !strings.Contains(string(b), w) {
			t.Errorf("scrape lacks %s", w)
		}
	}
	if t.Failed() {
		t.Log(string(b))
	}
}

// TestFirstScrape: a plain run's endpoint, scraped before anything was
// observed, already has every counter at 0 (error classes included), no
// empty setting label, and passes promtool's lint; memory comes in bytes.
func TestFirstScrape(t *testing.T) {
	t.Parallel()
	e, err := New(context.Background(), Config{PrometheusListen: "127.0.0.1:0", Resource: Resource{Scenario: "s", RunID: "r1"}})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close(context.Background(), 0)
	get := func() string {
		t.Helper()
		resp, err := http.Get("http://" + e.PrometheusAddr() + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d: %s", resp.StatusCode, b)
		}
		return string(b)
	}
	first := get()
	for _, w := range []string{
		`coldbench_invocations_total{run_id="r1",scenario="s"} 0`,
		`coldbench_successes_total{run_id="r1",scenario="s"} 0`,
		`coldbench_dropped_total{run_id="r1",scenario="s"} 0`,
		`coldbench_cold_starts_total{run_id="r1",scenario="s"} 0`,
		`coldbench_errors_total{class="timeout",run_id="r1",scenario="s"} 0`,
		`coldbench_errors_total{class="5xx",run_id="r1",scenario="s"} 0`,
		`coldbench_latency_seconds_count{run_id="r1",scenario="s",temperature="cold"} 0`,
	} {
		if !strings.Contains(first, w) {
			t.Errorf("first scrape lacks %s", w)
		}
	}
	e.Observe(tally(1, 2, time.Millisecond, 0), engine.Progress{Phase: 0})
	second := get()
	for _, w := range []string{
		`coldbench_invocations_total{run_id="r1",scenario="s"} 4`,
		`coldbench_memory_used_max_bytes{run_id="r1",scenario="s"} 1.06954752e+08`, // 102 MB
	} {
		if !strings.Contains(second, w) {
			t.Errorf("scrape lacks %s", w)
		}
	}
	for i, text := range []string{first, second} {
		if strings.Contains(text, "setting=") {
			t.Errorf("scrape %d has a setting label on a plain run", i)
		}
		problems, err := promlint.New(strings.NewReader(text)).Lint()
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range problems {
			t.Errorf("scrape %d: promlint: %s: %s", i, p.Metric, p.Text)
		}
	}
	if t.Failed() {
		t.Log(second)
	}
}

// TestOTLPUnreachable: with an endpoint nobody listens on, the final
// flush gives up within FinalFlushTimeout (and a margin for a loaded
// machine: the SDK used to take 10 s), and the cause, connection refused,
// is told once across the log and the returned error, however many
// pushes failed.
func TestOTLPUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nobody listens there now
	var log syncBuffer
	e, err := New(context.Background(), Config{OTLP: OTLP{Endpoint: addr, Insecure: true, Interval: 100 * time.Millisecond}, Log: &log})
	if err != nil {
		t.Fatal(err)
	}
	e.Observe(tally(1, 2, time.Millisecond, 0), engine.Progress{Phase: 0})
	time.Sleep(FinalFlushTimeout) // pushes fail, again and again
	start := time.Now()
	err = e.Close(context.Background(), 0)
	took := time.Since(start)
	if err == nil {
		t.Fatal("Close reported no error for an unreachable endpoint")
	}
	if took > FinalFlushTimeout+2*time.Second {
		t.Errorf("the final flush took %v, bound %v", took, FinalFlushTimeout)
	}
	all := log.String() + err.Error()
	if n := strings.Count(all, "connection refused"); n != 1 {
		t.Errorf("the cause told %d times, want once:\n%s", n, all)
	}
	t.Logf("final flush gave up after %v:\n%s", took, all)
}

// syncBuffer is a bytes.Buffer safe for the SDK's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
