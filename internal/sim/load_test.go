package sim

import (
	"fmt"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestLoad is a smoke test of the pool under concurrency: every request is
// accounted for, and the counts agree with what clients saw.
func TestLoad(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	cfg.Handler = time.Millisecond
	cfg.InitMean = 2 * time.Millisecond
	cfg.InitStddev = time.Millisecond
	cfg.ConcurrencyLimit = 0
	e, url, hc := startEmu(t, cfg)

	const workers, perWorker = 32, 25
	var (
		wg        sync.WaitGroup
		mu        sync.Mutex
		instances = map[string]bool{}
		cold      atomic.Int64
		failed    atomic.Int64
	)
	for w := range workers {
		wg.Go(func() {
			for i := range perWorker {
				r, err := invoke(hc, url, fmt.Sprintf("w%d-%d", w, i))
				if err != nil || r.Status != http.StatusOK {
					failed.Add(1)
					continue
				}
				if r.cold() {
					cold.Add(1)
				}
				mu.Lock()
				instances[r.instance()] = true
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if failed.Load() != 0 {
		t.Fatalf("%d requests failed", failed.Load())
	}
	s := e.Stats()
	if s.Invocations != workers*perWorker || s.ColdStarts != cold.Load() || int(s.ColdStarts) != len(instances) {
		t.Errorf("stats %+v; clients saw %d cold on %d instances", s, cold.Load(), len(instances))
	}
	if len(instances) > workers {
		t.Errorf("%d instances for %d concurrent clients", len(instances), workers)
	}
	st := e.State()
	checkInvariant(t, st)
	if st.Busy != 0 || st.Live != len(instances) {
		t.Errorf("state after load %+v", st)
	}
}

// TestClose is not parallel: it counts goroutines.
func TestClose(t *testing.T) {
	base := runtime.NumGoroutine()
	cfg := testConfig()
	cfg.MinInstances = 2
	cfg.InitMean = MaxDuration // prewarm timers still pending at Close
	e, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	url, err := e.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hc := &http.Client{Transport: &http.Transport{}}
	// A request that would take 15 minutes: Close must cut it short.
	res := make(chan reply, 1)
	go func() {
		r, _ := invoke(hc, url, "slow")
		res <- r
	}()
	waitFor(t, time.Second, "a busy instance", func() bool { return e.State().Busy == 1 })

	start := time.Now()
	if err := e.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("Close took %v", took)
	}
	select {
	case <-res: // 503 or a closed connection; either way it returned
	case <-time.After(2 * time.Second):
		t.Fatal("in-flight request still running after Close")
	}
	if err := e.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if r := serve(e, ""); r.Code != http.StatusServiceUnavailable {
		t.Errorf("invoke after Close: %d, want 503", r.Code)
	}
	if _, err := e.Update(Update{MemoryMB: new(512)}); err == nil {
		t.Error("Update after Close succeeded")
	}
	hc.CloseIdleConnections()
	waitFor(t, 2*time.Second, fmt.Sprintf("goroutines back to %d", base), func() bool {
		return runtime.NumGoroutine() <= base
	})
}

// BenchmarkInvoke measures warm invocations per second over loopback with
// a 20 ms handler, the default: the emulator is meant to serve 1000+ rps on
// a 2-core machine that also runs the load generator (here, the benchmark's
// own clients).
func BenchmarkInvoke(b *testing.B) {
	cfg := DefaultConfig()
	cfg.MemoryMB = FullCPUMemoryMB
	cfg.ConcurrencyLimit = 0
	cfg.TruthCap = 100_000
	e, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	url, err := e.Start("127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1024}}
	defer hc.CloseIdleConnections()
	// 20 ms per request: about 50 clients per 1000 rps.
	b.SetParallelism(100)
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if r, err := invoke(hc, url, ""); err != nil || r.Status != http.StatusOK {
				b.Errorf("invoke: %v, status %d", err, r.Status)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "rps")
	b.ReportMetric(float64(e.Stats().ColdStarts), "cold")
}
