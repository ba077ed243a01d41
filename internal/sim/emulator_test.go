package sim

import (
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"
)

func TestColdThenWarm(t *testing.T) {
	t.Parallel()
	e, url, hc := startEmu(t, testConfig())

	first := mustInvoke(t, hc, url, "a")
	if first.Status != http.StatusOK || !first.cold() {
		t.Fatalf("first request: status %d cold %v, want 200 cold", first.Status, first.cold())
	}
	if got := first.Header.Get(HeaderInitDuration); got != "20.000" {
		t.Errorf("init header %q, want 20.000 (mean 20 ms, stddev 0)", got)
	}
	// The client waited through init and handler: at least 22 ms.
	if first.Elapsed < 22*time.Millisecond {
		t.Errorf("cold request took %v, want >= 22ms", first.Elapsed)
	}

	second := mustInvoke(t, hc, url, "b")
	if second.cold() || second.initMS() != 0 {
		t.Errorf("second request cold %v init %q, want warm with init 0", second.cold(), second.Header.Get(HeaderInitDuration))
	}
	if second.instance() != first.instance() || first.instance() == "" {
		t.Errorf("instances %q then %q, want the same", first.instance(), second.instance())
	}
	if second.Body.Instance != second.instance() || second.Body.Seq != 2 {
		t.Errorf("body %+v does not match header instance %q and seq 2", second.Body, second.instance())
	}
	st := e.State()
	checkInvariant(t, st)
	if st.Live != 1 || st.Idle != 1 || st.Stats.ColdStarts != 1 || st.Stats.Invocations != 2 {
		t.Errorf("state %+v, want 1 idle instance, 1 cold start, 2 invocations", st)
	}
}

func TestConcurrentRequestsStartTwoInstances(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	cfg.InitMean = 50 * time.Millisecond // a wide window for both to arrive while the other is busy
	_, url, hc := startEmu(t, cfg)

	var wg sync.WaitGroup
	start := make(chan struct{})
	replies := make([]reply, 2)
	errs := make([]error, 2)
	for i := range replies {
		wg.Go(func() {
			<-start
			replies[i], errs[i] = invoke(hc, url, "")
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
	}
	if !replies[0].cold() || !replies[1].cold() {
		t.Errorf("cold flags %v %v, want both cold", replies[0].cold(), replies[1].cold())
	}
	if replies[0].instance() == replies[1].instance() {
		t.Errorf("both served by %s, want two instances", replies[0].instance())
	}
}

func TestReusesMostRecentlyUsedIdle(t *testing.T) {
	t.Parallel()
	e := newEmu(t, testConfig())
	// Make three idle instances: the requests overlap, so each starts one.
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() { serve(e, "") })
	}
	wg.Wait()
	if st := e.State(); st.Idle != 3 {
		t.Fatalf("idle %d, want 3", st.Idle)
	}
	// Sequential requests then keep landing on the one used last.
	want := serve(e, "").Header().Get(HeaderInstanceID)
	for i := range 5 {
		if got := serve(e, "").Header().Get(HeaderInstanceID); got != want {
			t.Fatalf("sequential request %d on %s, want most recently used %s", i, got, want)
		}
	}
}

func TestKeepAlive(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		keepAlive time.Duration
		gap       time.Duration
		wantCold  bool
	}{
		// Back to back, well within keep-alive: reused.
		{"within keep-alive", 500 * time.Millisecond, 0, false},
		// Idle longer than keep-alive: expired, so a new instance.
		{"past keep-alive", 10 * time.Millisecond, 40 * time.Millisecond, true},
		// Keep-alive 0: an instance is gone as soon as it is free.
		{"zero keep-alive", 0, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := testConfig()
			cfg.KeepAlive = tt.keepAlive
			cfg.InitMean = 2 * time.Millisecond
			e := newEmu(t, cfg)
			first := serve(e, "")
			time.Sleep(tt.gap)
			second := serve(e, "")
			cold := second.Header().Get(HeaderCold) == "true"
			if cold != tt.wantCold {
				t.Errorf("second request cold = %v, want %v", cold, tt.wantCold)
			}
			same := first.Header().Get(HeaderInstanceID) == second.Header().Get(HeaderInstanceID)
			if same == tt.wantCold {
				t.Errorf("same instance = %v, want %v", same, !tt.wantCold)
			}
			// The expired instance is gone from the pool too.
			st := e.State()
			checkInvariant(t, st)
			wantLive := 1
			if tt.keepAlive == 0 {
				wantLive = 0
			}
			if st.Live != wantLive {
				t.Errorf("live %d, want %d", st.Live, wantLive)
			}
		})
	}
}

func TestMinInstances(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	cfg.MinInstances = 2
	cfg.KeepAlive = 10 * time.Millisecond
	e := newEmu(t, cfg)

	// Prewarm init runs in the background: not ready at first.
	st := e.State()
	checkInvariant(t, st)
	if st.Ready || st.Warming != 2 || st.Live != 2 {
		t.Fatalf("right after New: %+v, want 2 warming, not ready", st)
	}
	waitFor(t, 2*time.Second, "prewarm ready", func() bool { return e.State().Ready })

	// Longer than keep-alive: prewarmed instances do not expire, and their
	// first request is warm because their init is already done.
	time.Sleep(30 * time.Millisecond)
	r := serve(e, "")
	if r.Header().Get(HeaderCold) != "false" || r.Header().Get(HeaderInitDuration) != "0" {
		t.Errorf("request on a prewarmed instance: cold %s init %s, want warm",
			r.Header().Get(HeaderCold), r.Header().Get(HeaderInitDuration))
	}
	if id := r.Header().Get(HeaderInstanceID); id != "i-000001" && id != "i-000002" {
		t.Errorf("served by %s, want a prewarmed instance", id)
	}

	// More min instances: not ready until the new one has initialized.
	if _, err := e.Update(Update{MinInstances: new(3)}); err != nil {
		t.Fatal(err)
	}
	if st := e.State(); st.Ready || st.Warming != 1 || st.Prewarmed != 2 {
		t.Errorf("after raising to 3: %+v, want 1 warming, 2 prewarmed, not ready", st)
	}
	waitFor(t, 2*time.Second, "3 prewarmed", func() bool { return e.State().Ready })

	// Fewer: idle ones are retired at once.
	if _, err := e.Update(Update{MinInstances: new(1)}); err != nil {
		t.Fatal(err)
	}
	st = e.State()
	checkInvariant(t, st)
	if !st.Ready || st.Live != 1 || st.Prewarmed != 1 {
		t.Errorf("after lowering to 1: %+v, want 1 live prewarmed, ready", st)
	}
	if s := e.Stats(); s.ColdStarts != 0 {
		t.Errorf("cold starts %d, want 0 with prewarm", s.ColdStarts)
	}
}

func TestRetiringWarmingInstance(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	cfg.MinInstances = 1
	cfg.InitMean = MaxDuration // does not finish during the test
	e := newEmu(t, cfg)
	if _, err := e.Update(Update{MinInstances: new(0)}); err != nil {
		t.Fatal(err)
	}
	if st := e.State(); st.Live != 0 || st.Warming != 0 || !st.Ready {
		t.Errorf("after retiring a warming instance: %+v, want empty and ready", st)
	}
}

func TestRecycle(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	cfg.MinInstances = 1
	cfg.InitMean = 5 * time.Millisecond
	e := newEmu(t, cfg)
	waitFor(t, 2*time.Second, "ready", func() bool { return e.State().Ready })
	before := serve(e, "").Header().Get(HeaderInstanceID)

	e.Recycle()
	st := e.State()
	checkInvariant(t, st)
	if st.Ready || st.Generation != 1 || st.Warming != 1 || st.Idle != 0 {
		t.Errorf("after recycle: %+v, want generation 1, the prewarmed instance re-initializing", st)
	}
	// The only instance is still warming, so this request starts another.
	r := serve(e, "")
	if r.Header().Get(HeaderCold) != "true" || r.Header().Get(HeaderInstanceID) == before {
		t.Errorf("after recycle: cold %s on %s (before %s), want a cold new instance",
			r.Header().Get(HeaderCold), r.Header().Get(HeaderInstanceID), before)
	}
	waitFor(t, 2*time.Second, "ready again", func() bool { return e.State().Ready })
}

func TestMemoryChange(t *testing.T) {
	t.Parallel()
	e := newEmu(t, testConfig()) // 1769 MB, handler 2 ms
	serve(e, "")
	warm := serve(e, "")
	if warm.Header().Get(HeaderCold) != "false" || warm.Header().Get(HeaderBilledDuration) != "2" {
		t.Fatalf("warm at 1769 MB: cold %s billed %s, want warm, 2 ms",
			warm.Header().Get(HeaderCold), warm.Header().Get(HeaderBilledDuration))
	}
	if _, err := e.Update(Update{MemoryMB: new(512)}); err != nil {
		t.Fatal(err)
	}
	r := serve(e, "")
	h := r.Header()
	// 2 ms * 1769/512 = 6.91 ms, billed 7; memory used 40 + 51.
	want := map[string]string{HeaderCold: "true", HeaderMemorySize: "512", HeaderBilledDuration: "7", HeaderMaxMemoryUsed: "91"}
	for k, v := range want {
		if h.Get(k) != v {
			t.Errorf("after memory change %s = %q, want %q", k, h.Get(k), v)
		}
	}
	if h.Get(HeaderInstanceID) == warm.Header().Get(HeaderInstanceID) {
		t.Error("memory change kept the old instance")
	}
}

func TestBilledDurationFollowsModel(t *testing.T) {
	t.Parallel()
	tests := []struct {
		memoryMB   int
		wantBilled string // ceil(2 ms * max(1, 1769/M)), computed by hand
	}{
		{128, "28"},  // 27.64 ms: a tenth of a vCPU is 14x slower
		{512, "7"},   // 6.91 ms
		{1024, "4"},  // 3.46 ms
		{1769, "2"},  // full vCPU
		{3008, "2"},  // more memory, no faster: the handler is single-threaded
		{10240, "2"}, // the most Lambda offers
	}
	for _, tt := range tests {
		t.Run(strconv.Itoa(tt.memoryMB), func(t *testing.T) {
			t.Parallel()
			cfg := testConfig()
			cfg.MemoryMB = tt.memoryMB
			cfg.InitMean = 0
			e := newEmu(t, cfg)
			start := time.Now()
			r := serve(e, "x")
			took := time.Since(start)
			if got := r.Header().Get(HeaderBilledDuration); got != tt.wantBilled {
				t.Errorf("billed %s ms, want %s", got, tt.wantBilled)
			}
			rec, _ := e.TruthByID("x")
			if rec.Handler != e.HandlerTime(tt.memoryMB) {
				t.Errorf("truth handler %v, model says %v", rec.Handler, e.HandlerTime(tt.memoryMB))
			}
			// The emulator really waits the modelled time.
			if took < rec.Handler {
				t.Errorf("request took %v, less than the handler time %v", took, rec.Handler)
			}
		})
	}
}

func TestBusyInstanceDrainsAfterMemoryChange(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	cfg.Handler = 60 * time.Millisecond
	cfg.InitMean = 0
	e := newEmu(t, cfg)
	done := make(chan http.Header)
	go func() { done <- serve(e, "").Header() }()
	waitFor(t, time.Second, "a busy instance", func() bool { return e.State().Busy == 1 })

	if _, err := e.Update(Update{MemoryMB: new(1024)}); err != nil {
		t.Fatal(err)
	}
	old := <-done
	// It finished at the memory it started with, then was discarded.
	if old.Get(HeaderMemorySize) != "1769" {
		t.Errorf("in-flight request memory %s, want 1769", old.Get(HeaderMemorySize))
	}
	if st := e.State(); st.Live != 0 {
		t.Errorf("live %d after the old instance drained, want 0", st.Live)
	}
	next := serve(e, "").Header()
	if next.Get(HeaderCold) != "true" || next.Get(HeaderInstanceID) == old.Get(HeaderInstanceID) {
		t.Errorf("next request cold %s on %s, want a cold new instance", next.Get(HeaderCold), next.Get(HeaderInstanceID))
	}
}

func TestConcurrencyLimit(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	cfg.ConcurrencyLimit = 2
	// Long enough that the third request arrives while both are busy even
	// on a loaded machine.
	cfg.Handler = 500 * time.Millisecond
	cfg.InitMean = 0
	e, url, hc := startEmu(t, cfg)

	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() { invoke(hc, url, "") })
	}
	waitFor(t, time.Second, "2 busy", func() bool { return e.State().Busy == 2 })
	r := mustInvoke(t, hc, url, "over")
	wg.Wait()

	if r.Status != http.StatusTooManyRequests {
		t.Fatalf("status %d, want 429", r.Status)
	}
	// At once: well before a busy instance could have freed up.
	if r.Elapsed > cfg.Handler/2 {
		t.Errorf("429 took %v, want it immediately", r.Elapsed)
	}
	if r.instance() != "" || r.Header.Get(HeaderCold) != "false" || r.Header.Get(HeaderMemorySize) != "1769" {
		t.Errorf("429 headers %v", r.Header)
	}
	rec, ok := e.TruthByID("over")
	if !ok || rec.Status != http.StatusTooManyRequests {
		t.Errorf("truth for the throttled request: %+v %v", rec, ok)
	}
	if s := e.Stats(); s.Throttled != 1 || s.Invocations != 2 {
		t.Errorf("stats %+v, want 1 throttled, 2 invocations", s)
	}
	// Capacity is back once the two finish.
	if r := mustInvoke(t, hc, url, ""); r.Status != http.StatusOK || r.cold() {
		t.Errorf("after the burst: status %d cold %v, want a warm 200", r.Status, r.cold())
	}
}

func TestDeterminism(t *testing.T) {
	t.Parallel()
	// Keep-alive 0 makes every request cold, so each draws an init time.
	run := func(seed int64) (inits []time.Duration, ids []string) {
		cfg := testConfig()
		cfg.KeepAlive = 0
		cfg.Handler = 0
		cfg.InitMean = 3 * time.Millisecond
		cfg.InitStddev = 2 * time.Millisecond
		cfg.HandlerJitter = time.Millisecond
		cfg.Seed = seed
		e := newEmu(t, cfg)
		for range 12 {
			serve(e, "")
		}
		for _, r := range e.Truth() {
			inits = append(inits, r.Init)
			ids = append(ids, r.InstanceID)
		}
		return inits, ids
	}
	a, idsA := run(7)
	b, idsB := run(7)
	c, _ := run(8)
	if len(a) != 12 {
		t.Fatalf("%d records, want 12", len(a))
	}
	for i := range a {
		if a[i] != b[i] || idsA[i] != idsB[i] {
			t.Fatalf("record %d: seed 7 gave %v on %s, then %v on %s", i, a[i], idsA[i], b[i], idsB[i])
		}
	}
	same := 0
	for i := range a {
		if a[i] == c[i] {
			same++
		}
	}
	if same == len(a) {
		t.Errorf("seeds 7 and 8 drew the same init times %v", a)
	}
}

func TestNewValidates(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	cfg.MemoryMB = 64
	if _, err := New(cfg); err == nil {
		t.Fatal("New accepted 64 MB")
	}
}
