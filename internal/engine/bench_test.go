package engine

import (
	"context"
	"net/http"
	"syscall"
	"testing"
	"time"

	"github.com/coldbench/coldbench/drivers"
	"github.com/coldbench/coldbench/results"
)

// okDriver answers every call at once, so the engine's own cost is all
// there is.
type okDriver struct{}

func (okDriver) Invoke(_ context.Context, c *drivers.Call) error { c.Status = 200; return nil }
func (okDriver) Close() error                                    { return nil }

// runBench runs b.N arrivals at rps through d and reports the generator's
// lag p99 beside the usual numbers.
func runBench(b *testing.B, d drivers.Driver, rps int) {
	iv := time.Second / time.Duration(rps)
	dur := time.Duration(b.N) * iv
	p := plan(constant("bench", rps, dur))
	p.Phases[0].Schedule = every{iv, dur}
	e, err := New(d, p, WithMaxInFlight(1000))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	t, err := e.Run(context.Background())
	cpu := cpuTime() - cpu0
	b.StopTimer()
	if err != nil {
		b.Fatal(err)
	}
	ph := t.Phases[0]
	if ph.Sent+ph.Dropped != int64(b.N) {
		b.Fatalf("sent %d + dropped %d, want %d", ph.Sent, ph.Dropped, b.N)
	}
	if h := ph.Hist(results.LagKey); h != nil {
		b.ReportMetric(float64(h.ValueAtQuantile(99)), "lag-p99-µs")
	}
	// The pace bounds ns/op; the process's CPU time per arrival is the
	// cost (the test server's share included for http).
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
	b.ReportMetric(float64(ph.Dropped)/float64(b.N), "dropped/op")
	// Cold-start candidates cost the inference a settling each.
	b.ReportMetric(float64(ph.Inference.Candidates)/float64(b.N), "candidates/op")
}

// BenchmarkEngine is the engine end to end for b.N arrivals at a fixed
// rate: against a driver that does no I/O at 50 000/s, which is the
// engine's own cost per request (pacing, hand-off, recording); and through
// the http driver to a local server at 5 000/s, whose allocs/op is the
// whole client's and the server's. ns/op is bounded below by the pace;
// allocs/op and lag-p99-µs are the numbers to watch (dropped/op says
// whether the machine kept up at all).
func BenchmarkEngine(b *testing.B) {
	b.Run("noop-10k", func(b *testing.B) { runBench(b, okDriver{}, 10_000) })
	b.Run("noop-50k", func(b *testing.B) { runBench(b, okDriver{}, 50_000) })
	b.Run("http-5k", func(b *testing.B) {
		d := openHTTP(b, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) }), nil)
		runBench(b, d, 5_000)
	})
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
