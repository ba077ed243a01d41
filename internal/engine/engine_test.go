package engine

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coldbench/coldbench/drivers"
	httpdriver "github.com/coldbench/coldbench/drivers/http"
	"github.com/coldbench/coldbench/results"
	"github.com/coldbench/coldbench/scenarios"
)

// every is a test schedule: one arrival each interval until the duration.
type every struct {
	interval, dur time.Duration
}

func (e every) At(n uint64) (time.Duration, bool) {
	at := time.Duration(n) * e.interval
	return at, at < e.dur
}

var _ scenarios.Schedule = every{}

func plan(phases ...scenarios.PlannedPhase) *scenarios.Plan {
	return &scenarios.Plan{Phases: phases}
}

func constant(name string, rps int, dur time.Duration) scenarios.PlannedPhase {
	iv := time.Second / time.Duration(rps)
	return scenarios.PlannedPhase{Name: name, Duration: dur, Schedule: every{iv, dur}, Planned: int64(dur / iv), Rate: float64(rps)}
}

func openHTTP(t testing.TB, h http.Handler, edit func(*httpdriver.Config)) drivers.Driver {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	cfg := httpdriver.DefaultConfig()
	cfg.URL = srv.URL
	if edit != nil {
		edit(cfg)
	}
	d, err := httpdriver.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// TestStallShowsInLatency drives 200 rps through a client with few
// connections at a target that stalls for 1 s. Requests that waited for a
// connection during the stall were sent late; measured from their intended
// send time they show the stall, measured from the actual send they would
// not (coordinated omission). The test checks both, so it fails if latency
// is ever taken from the actual send time.
//
// Not parallel: the connections must drain the backlog after the stall, so
// the test wants the CPU to itself.
func TestStallShowsInLatency(t *testing.T) {
	var stallFrom, stallTo atomic.Int64
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		now := time.Now().UnixNano()
		if now >= stallFrom.Load() && now < stallTo.Load() {
			time.Sleep(time.Duration(stallTo.Load() - now))
		}
		w.Write([]byte("ok"))
	})
	d := openHTTP(t, h, func(c *httpdriver.Config) { c.MaxConnections = 6 })
	start := time.Now().Add(50 * time.Millisecond)
	stallFrom.Store(start.Add(1500 * time.Millisecond).UnixNano())
	stallTo.Store(start.Add(2500 * time.Millisecond).UnixNano())
	// 1000 requests: the 6 caught on their connections by the stall are
	// under 1%, so only the requests that queued for a connection can put
	// the stall into p99.
	e, err := New(d, plan(constant("steady", 200, 5*time.Second)), WithStart(start))
	if err != nil {
		t.Fatal(err)
	}
	tally, err := e.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	p := tally.Phases[0]
	if p.Outcomes[drivers.OK] != 1000 || p.Dropped != 0 {
		t.Fatalf("ok %d, dropped %d: want 1000 ok, none dropped", p.Outcomes[drivers.OK], p.Dropped)
	}
	lat := results.NewHistogram()
	svc := results.NewHistogram()
	for k, hist := range p.Hists {
		if k.Outcome != drivers.OK {
			continue
		}
		if k.Kind == results.Latency {
			lat.Merge(hist)
		} else {
			svc.Merge(hist)
		}
	}
	p99 := time.Duration(lat.ValueAtQuantile(99)) * time.Microsecond
	svc99 := time.Duration(svc.ValueAtQuantile(99)) * time.Microsecond
	t.Logf("p99 from intended send %v, from actual send %v", p99, svc99)
	if p99 < 500*time.Millisecond {
		t.Errorf("p99 from intended send = %v: the 1 s stall is hidden", p99)
	}
	if svc99 > 300*time.Millisecond {
		t.Errorf("p99 from actual send = %v: want it to hide the stall, or this test proves nothing", svc99)
	}
}

// TestDropNotDelay checks the in-flight bound: arrivals beyond it are
// counted as dropped, and the ones sent keep their schedule.
func TestDropNotDelay(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release
	})
	d := openHTTP(t, h, nil)
	e, err := New(d, plan(constant("blocked", 100, 500*time.Millisecond)), WithMaxInFlight(5))
	if err != nil {
		t.Fatal(err)
	}
	go func() { time.Sleep(700 * time.Millisecond); close(release) }()
	tally, err := e.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	p := tally.Phases[0]
	if p.Sent != 5 || p.Dropped != 45 {
		t.Errorf("sent %d, dropped %d: want 5 and 45", p.Sent, p.Dropped)
	}
}

// TestExactCount checks that a constant phase sends exactly its planned
// arrivals when the target keeps up.
func TestExactCount(t *testing.T) {
	t.Parallel()
	d := openHTTP(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}), nil)
	e, err := New(d, plan(constant("a", 400, time.Second), constant("b", 100, 500*time.Millisecond)))
	if err != nil {
		t.Fatal(err)
	}
	tally, err := e.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []int64{400, 50} {
		p := tally.Phases[i]
		if p.Sent != want || p.Outcomes[drivers.OK] != want {
			t.Errorf("phase %s: sent %d, ok %d, want %d", p.Name, p.Sent, p.Outcomes[drivers.OK], want)
		}
		// Network phases: every request had a first byte; the first phase
		// opened connections, far fewer than requests (keep-alive). A
		// request may start a dial and then be served on a connection
		// freed meanwhile, so dials are at least the new connections.
		if p.Net.FirstByte.Count != want || (i == 0 && p.Net.NewConns == 0) || p.Net.NewConns >= want/2 || p.Net.Connect.Count < p.Net.NewConns {
			t.Errorf("phase %s network: %+v", p.Name, p.Net)
		}
		if p.End.Sub(p.Start) != p.Duration {
			t.Errorf("phase %s spans %v, want %v", p.Name, p.End.Sub(p.Start), p.Duration)
		}
	}
}

// TestInterrupted checks that a cancelled run returns what it measured.
func TestInterrupted(t *testing.T) {
	t.Parallel()
	d := openHTTP(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}), nil)
	e, err := New(d, plan(constant("long", 100, time.Minute)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	tally, err := e.Run(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want deadline exceeded", err)
	}
	p := tally.Phases[0]
	if p.Sent < 20 || p.Sent > 40 || p.End.IsZero() {
		t.Errorf("interrupted phase: sent %d, end %v", p.Sent, p.End)
	}
}

// TestErrorsClassified checks outcome classes and that errors stay out of
// success latency.
func TestErrorsClassified(t *testing.T) {
	t.Parallel()
	var n atomic.Int64
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch n.Add(1) % 4 {
		case 1:
			w.WriteHeader(429)
		case 2:
			w.WriteHeader(503)
		case 3:
			w.WriteHeader(404)
		}
	})
	d := openHTTP(t, h, nil)
	e, err := New(d, plan(constant("mixed", 200, 200*time.Millisecond)))
	if err != nil {
		t.Fatal(err)
	}
	tally, err := e.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	p := tally.Phases[0]
	for _, o := range []drivers.Outcome{drivers.OK, drivers.Throttled, drivers.ServerError, drivers.ClientError} {
		if p.Outcomes[o] != 10 {
			t.Errorf("%s: %d, want 10", o, p.Outcomes[o])
		}
	}
}

// nopDriver answers every call at once.
type nopDriver struct{}

func (nopDriver) Invoke(context.Context, *drivers.Call) error { return nil }
func (nopDriver) Close() error                                { return nil }

// TestBurstEndsWithPhase: a burst far faster than the engine can send
// stops at the phase end (plus phaseOverrun), and the arrivals it did not
// send are counted as dropped. Before, it ran until every arrival was sent.
func TestBurstEndsWithPhase(t *testing.T) {
	t.Parallel()
	const n, dur = 20_000_000, 200 * time.Millisecond
	b := scenarios.NewBurstPacer(n, dur, dur)
	e, err := New(nopDriver{}, plan(scenarios.PlannedPhase{Name: "flood", Duration: dur, Schedule: b, Planned: b.Planned()}))
	if err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	tally, err := e.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	took := time.Since(began)
	p := tally.Phases[0]
	t.Logf("sent %d, dropped %d in %v", p.Sent, p.Dropped, took)
	if took > dur+time.Second {
		t.Errorf("the phase of %v ran %v", dur, took)
	}
	if p.Sent+p.Dropped != n || p.Dropped == 0 {
		t.Errorf("sent %d + dropped %d, want %d with some dropped", p.Sent, p.Dropped, n)
	}
	if p.End.Sub(p.Start) != dur {
		t.Errorf("phase spans %v, want %v", p.End.Sub(p.Start), dur)
	}
}

// TestOverdueSendsAll: with WithOverdue (a fleet agent's catch-up) the
// engine goes through every arrival, however far behind it is: none is
// cut by the phase end (some may still be dropped at the in-flight bound,
// which holds for a catch-up as for any arrival).
func TestOverdueSendsAll(t *testing.T) {
	t.Parallel()
	const n, dur = 30_000, 5 * time.Millisecond
	b := scenarios.NewBurstPacer(n, dur, dur)
	e, err := New(nopDriver{}, plan(scenarios.PlannedPhase{Name: "catch-up", Duration: dur, Schedule: b, Planned: b.Planned()}), WithOverdue())
	if err != nil {
		t.Fatal(err)
	}
	tally, err := e.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if p := tally.Phases[0]; p.Sent+p.Dropped != n {
		t.Errorf("sent %d + dropped %d, want %d", p.Sent, p.Dropped, n)
	}
	if phase, next := e.Position(); phase != 0 || next != n {
		t.Errorf("position %d/%d, want 0/%d", phase, next, n)
	}
}
