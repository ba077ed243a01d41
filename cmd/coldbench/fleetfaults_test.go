package main

import (
	"math"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// Fleet faults beyond those TestFleet covers (agent killed, controller
// killed): an agent's traffic blackholed, and an agent whose clock is
// off. They take about 15 s and run with `make faults` (build tag faults).
func TestFaultFleet(t *testing.T) {
	t.Run("blackhole", func(t *testing.T) { t.Parallel(); fleetBlackhole(t) })
	t.Run("clock offset", func(t *testing.T) { t.Parallel(); fleetClockOffset(t) })
}

// fleetBlackhole: three agents at 150 requests/s for 10 s, the third
// reached through a proxy that, 3 s in, holds every byte both ways for
// 5 s with the connections left open, then lets them through again.
// Expected under on_agent_loss: continue: the agent stops firing within
// its lease (3 s) as it no longer hears renewals; the controller counts it
// lost after a lease of silence and closes its stream, keeping its data up
// to its last snapshot; the run completes (exit 0), degraded. When the
// bytes flow again the agent's final snapshot reaches a stream the
// controller has already closed and is discarded, the agent does not
// resume, and it stays healthy (it exits cleanly on SIGTERM at the end).
func fleetBlackhole(t *testing.T) {
	const rate, duration = 150, 10 * time.Second
	tg := newTarget(t)
	agents := []*agentProc{
		startAgent(t, "127.0.0.30", "--insecure"),
		startAgent(t, "127.0.0.31", "--insecure"),
		startAgent(t, "127.0.0.32", "--insecure"),
	}
	px := newProxy(t, "127.0.0.33", agents[2].addr)
	dir := t.TempDir() + "/run"
	ctl := startController(t, "run", fleetScenario(t, tg.URL, rate, duration, "on_agent_loss: continue"),
		"--agents", agents[0].addr+","+agents[1].addr+","+px.addr, "--insecure", "--out", dir, "--quiet")
	first := tg.waitFirst(t, 15*time.Second)
	time.Sleep(time.Until(first.Add(3 * time.Second)))
	px.hold()
	held := time.Now()
	time.Sleep(5 * time.Second)
	px.resume()
	code := ctl.wait(t, 30*time.Second)
	r := loadRun(t, dir)
	if code != 0 || !r.Complete || !r.Degraded || !strings.Contains(strings.Join(r.DegradedReasons, "\n"), px.addr) {
		t.Fatalf("exit %d, complete %v, degraded %v (%q): want 0, complete, degraded naming %s\n%s",
			code, r.Complete, r.Degraded, r.DegradedReasons, px.addr, ctl.out)
	}
	la := r.Agents[2]
	// Held 3 s in, with a snapshot every second: two to three seconds of
	// its 50 requests/s share are on record.
	if la.Status != "lost" || la.Requests < 2*rate/3 || la.Requests > 4*rate/3 {
		t.Errorf("blackholed agent: status %s, %d requests kept; want lost, with its data up to its last snapshot", la.Status, la.Requests)
	}
	var sum int64
	for _, a := range r.Agents {
		sum += a.Requests
	}
	if sum != r.Totals.Requests {
		t.Errorf("agents' requests add up to %d, the run's to %d", sum, r.Totals.Requests)
	}
	// The survivors alone after the lease: the blackholed agent stopped
	// within it and did not start again when traffic resumed.
	from, to := held.Add(3*time.Second+time.Second), first.Add(duration-100*time.Millisecond)
	got := float64(tg.between(from, to)) / to.Sub(from).Seconds()
	if !within(got, rate*2/3, 0.05) {
		t.Errorf("rate from a lease after the blackhole to the end %.1f/s, want the survivors' %d ± 5%%", got, rate*2/3)
	}
	if !strings.Contains(agents[2].log.String(), "lease expired") {
		t.Errorf("the blackholed agent did not stop on its lease:\n%s", agents[2].log)
	}
	t.Logf("%d requests at the target, %d on record; blackholed agent kept %d; after the lease %.1f/s; reasons %q",
		len(tg.arrivals()), r.Totals.Requests, la.Requests, got, r.DegradedReasons)
}

// fleetClockOffset: two agents, the second with its clock 2 s ahead (the
// COLDBENCH_TEST_CLOCK_OFFSET hook). The controller's probe measures the
// offset, both start together, and nothing is lost or misplaced: every
// planned request is on record and the phase starts at the run's start.
func fleetClockOffset(t *testing.T) {
	tg := newTarget(t)
	agents := []*agentProc{
		startAgent(t, "127.0.0.34", "--insecure"),
		startAgentEnv(t, []string{"COLDBENCH_TEST_CLOCK_OFFSET=2s"}, "127.0.0.35", "--insecure"),
	}
	dir := t.TempDir() + "/run"
	out, code := coldbench(t, "run", fleetScenario(t, tg.URL, 100, 3*time.Second, ""),
		"--agents", agentAddrs(agents...), "--insecure", "--out", dir, "--quiet")
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	r := loadRun(t, dir)
	if r.Totals.Requests != 300 || r.Degraded || len(tg.arrivals()) != 300 {
		t.Errorf("%d requests on record, %d at the target, degraded %v; want 300, 300, not degraded", r.Totals.Requests, len(tg.arrivals()), r.Degraded)
	}
	var skews []float64
	for i, want := range []float64{0, 2000} {
		a := r.Agents[i]
		if math.Abs(a.ClockOffsetMs-want) > 50 || a.StartSkewMs == nil {
			t.Fatalf("agent %s: clock offset %.1f ms, skew %v; want %.0f ± 50 ms", a.Name, a.ClockOffsetMs, a.StartSkewMs, want)
		}
		skews = append(skews, *a.StartSkewMs)
	}
	if d := math.Abs(skews[1] - skews[0]); d > 50 {
		t.Errorf("start skews %.2f and %.2f ms: the skewed agent is %.1f ms off, want within 50 ms", skews[0], skews[1], d)
	}
	if d := r.Phases[0].StartedAt.Sub(r.StartedAt).Abs(); d > time.Second {
		t.Errorf("the phase starts %v from the run: the skewed agent's times were not moved to the controller's clock", d)
	}
	t.Logf("offsets %.1f / %.1f ms, start skews %.2f / %.2f ms", r.Agents[0].ClockOffsetMs, r.Agents[1].ClockOffsetMs, skews[0], skews[1])
}

// proxy forwards TCP connections to one address and can hold the bytes
// in both directions, connections open, as a network partition would.
type proxy struct {
	addr string
	mu   sync.Mutex
	open chan struct{} // closed while bytes flow
}

func newProxy(t *testing.T, host, to string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", host+":0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{addr: ln.Addr().String(), open: make(chan struct{})}
	close(p.open)
	var conns sync.WaitGroup
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", to)
			if err != nil {
				c.Close()
				continue
			}
			conns.Add(2)
			go func() { defer conns.Done(); p.pipe(up, c) }()
			go func() { defer conns.Done(); p.pipe(c, up) }()
		}
	}()
	t.Cleanup(func() { ln.Close(); p.resume(); conns.Wait() })
	return p
}

// pipe copies src to dst, waiting at the gate before each write; it
// closes both when either side ends.
func (p *proxy) pipe(dst, src net.Conn) {
	defer dst.Close()
	defer src.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.mu.Lock()
			gate := p.open
			p.mu.Unlock()
			<-gate
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func (p *proxy) hold() {
	p.mu.Lock()
	p.open = make(chan struct{})
	p.mu.Unlock()
}

// resume lets held bytes through; it may be called when already open.
func (p *proxy) resume() {
	p.mu.Lock()
	select {
	case <-p.open:
	default:
		close(p.open)
	}
	p.mu.Unlock()
}
