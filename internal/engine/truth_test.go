package engine

// The ground-truth suite: coldbench's cold/warm labels scored as precision
// and recall, per source, against targets that know per request (by the
// X-Request-Id the http driver sends) whether it was a cold start. Each
// target runs quiet and under a CPU hog on every core (a child process,
// killed at the end), for a few seconds: the suite costs about 50 s. A case
// that misses its bound is run once more (timing on a shared machine), and
// the log says so.
//
// COLDBENCH_TRUTH_LONG=1 adds the long measurements of issue 12 (a target
// without cold starts at 300/s for 20 s under the hog, and at the
// generator's limit with drops); they are not part of make test.

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coldbench/coldbench/drivers"
	httpdriver "github.com/coldbench/coldbench/drivers/http"
	simdriver "github.com/coldbench/coldbench/drivers/sim"
	emulator "github.com/coldbench/coldbench/internal/sim"
	"github.com/coldbench/coldbench/results"
	"github.com/coldbench/coldbench/scenarios"
)

// truth is what a target knows: request id → cold.
type truth struct {
	mu   sync.Mutex
	cold map[string]bool
}

func newTruth() *truth { return &truth{cold: map[string]bool{}} }

func (t *truth) set(id string, cold bool) {
	t.mu.Lock()
	t.cold[id] = cold
	t.mu.Unlock()
}

func (t *truth) get(id string) (cold, ok bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	cold, ok = t.cold[id]
	return
}

// pool is a plain HTTP function behind a FaaS-like instance pool, with no
// cold-start signal at all: an instance serves one request at a time; a
// request that finds no idle instance starts one (init, a cold start);
// idle instances expire after ttl.
type pool struct {
	tr      *truth
	init    time.Duration
	ttl     time.Duration
	work    func(r *http.Request) (time.Duration, []byte) // handler time and body
	markers bool                                          // answer {"cold": …} instead of work's body
	mu      sync.Mutex
	idle    []time.Time // when each idle instance was last used
	stallAt time.Time   // every request in [stallAt, stallAt+1s) waits until its end
}

func (p *pool) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	now := time.Now()
	p.mu.Lock()
	cold := true
	for len(p.idle) > 0 {
		last := p.idle[len(p.idle)-1]
		p.idle = p.idle[:len(p.idle)-1]
		if now.Sub(last) < p.ttl {
			cold = false
			break
		}
	}
	stallAt := p.stallAt
	p.mu.Unlock()
	cold = cold && p.init > 0 // a new instance without init is no cold start
	p.tr.set(r.Header.Get("X-Request-Id"), cold)
	if cold {
		time.Sleep(p.init)
	}
	d, body := p.work(r)
	time.Sleep(d)
	if now := time.Now(); !stallAt.IsZero() && !now.Before(stallAt) && now.Before(stallAt.Add(time.Second)) {
		time.Sleep(stallAt.Add(time.Second).Sub(now))
	}
	if p.markers {
		body = fmt.Appendf(nil, `{"cold": %v, "n": %q}`, cold, body)
	}
	w.Write(body)
	p.mu.Lock()
	p.idle = append(p.idle, time.Now())
	p.mu.Unlock()
}

// idleServer is one process whose first request after an idle window
// sleeps 300 ms, the target of issue 12: requests beside it are fast.
type idleServer struct {
	tr   *truth
	mu   sync.Mutex
	last time.Time
	busy int
}

func (s *idleServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	now := time.Now()
	cold := s.busy == 0 && (s.last.IsZero() || now.Sub(s.last) >= time.Second)
	s.busy++
	s.last = now
	s.mu.Unlock()
	s.tr.set(r.Header.Get("X-Request-Id"), cold)
	if cold {
		time.Sleep(300 * time.Millisecond)
	}
	time.Sleep(3 * time.Millisecond)
	w.Write(body100)
	s.mu.Lock()
	s.busy--
	s.last = time.Now()
	s.mu.Unlock()
}

var (
	body100  = []byte(strings.Repeat("x", 100))
	body2k   = []byte(strings.Repeat("y", 2000))
	errBody  = []byte(`{"errorMessage":"boom"}`)
	workFast = func(*http.Request) (time.Duration, []byte) { return 3 * time.Millisecond, body100 }
)

// atOnce is a schedule of n arrivals at the phase start.
type atOnce struct{ n uint64 }

func (a atOnce) At(n uint64) (time.Duration, bool) { return 0, n < a.n }
func (a atOnce) Pace(_ time.Duration, hits uint64) (time.Duration, bool) {
	return 0, hits >= a.n
}
func (a atOnce) Rate(time.Duration) float64 { return 0 }

func burstPhase(name string, n int, dur time.Duration) scenarios.PlannedPhase {
	return scenarios.PlannedPhase{Name: name, Duration: dur, Schedule: atOnce{uint64(n)}, Planned: int64(n)}
}

func idlePhase(name string, dur time.Duration) scenarios.PlannedPhase {
	return scenarios.PlannedPhase{Name: name, Duration: dur, Schedule: atOnce{0}}
}

// score counts one source's cold labels against truth.
type score struct {
	tp, fp, fn, unknown, n int
	warmCalledCold         int
}

func (s score) precision() float64 {
	if s.tp+s.fp == 0 {
		return 1
	}
	return float64(s.tp) / float64(s.tp+s.fp)
}

func (s score) recall() float64 {
	if s.tp+s.fn == 0 {
		return 1
	}
	return float64(s.tp) / float64(s.tp+s.fn)
}

// truthCase is one target and scenario with known truth.
type truthCase struct {
	name string
	// open returns the driver, the truth (read after the run) and the
	// plan; detect is what the engine believes.
	open   func(t *testing.T) (drivers.Driver, func() *truth, *scenarios.Plan)
	detect Detection
	source drivers.ColdSource
	// check says what is wrong with s, or "".
	check func(s score) string
}

// runTruth runs c once and scores the labels of c.source.
func runTruth(t *testing.T, c truthCase, maxInFlight int) (score, *results.Tally) {
	t.Helper()
	d, getTruth, p := c.open(t)
	type label struct {
		temp drivers.Temperature
		src  drivers.ColdSource
	}
	var mu sync.Mutex
	labels := map[string]label{}
	e, err := New(d, p, WithDetection(c.detect), WithMaxInFlight(maxInFlight), WithObserver(func(call *drivers.Call, s results.Sample) {
		mu.Lock()
		labels[call.ID] = label{s.Temp, s.Source}
		mu.Unlock()
	}))
	if err != nil {
		t.Fatal(err)
	}
	tally, err := e.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	tr := getTruth()
	var s score
	for id, l := range labels {
		cold, ok := tr.get(id)
		if !ok {
			continue // not served (throttled, failed)
		}
		s.n++
		predicted := l.temp == drivers.Cold && l.src == c.source
		switch {
		case predicted && cold:
			s.tp++
		case predicted:
			s.fp++
			if l.temp == drivers.Cold {
				s.warmCalledCold++
			}
		case cold:
			s.fn++
		}
		if l.temp == drivers.Unknown {
			s.unknown++
		}
	}
	return s, tally
}

func poolCase(name string, init time.Duration, work func(*http.Request) (time.Duration, []byte), phases func() []scenarios.PlannedPhase, stall time.Duration, check func(score) string) truthCase {
	return truthCase{
		name: name, detect: Detection{Infer: true}, source: drivers.SourceInferred, check: check,
		open: func(t *testing.T) (drivers.Driver, func() *truth, *scenarios.Plan) {
			tr := newTruth()
			p := &pool{tr: tr, init: init, ttl: time.Minute, work: work}
			d := openHTTP(t, p, nil)
			if stall > 0 {
				p.stallAt = time.Now().Add(stall)
			}
			return d, func() *truth { return tr }, plan(phases()...)
		},
	}
}

func truthCases() []truthCase {
	ms := time.Millisecond
	noCold := func(s score) string {
		if s.fp > 0 {
			return fmt.Sprintf("%d requests called cold on a target without cold starts", s.fp)
		}
		return ""
	}
	both95 := func(s score) string {
		if s.precision() < 0.95 || s.recall() < 0.95 {
			return fmt.Sprintf("precision %.3f recall %.3f, want both ≥ 0.95", s.precision(), s.recall())
		}
		return ""
	}
	emu := func(name string, detect Detection, src drivers.ColdSource, edit func(*httpdriver.Config)) truthCase {
		return truthCase{
			name: name, detect: detect, source: src,
			check: func(s score) string {
				if src != drivers.SourceInferred && (s.precision() < 1 || s.recall() < 1) {
					return fmt.Sprintf("precision %.3f recall %.3f, want 1 for the %v signal", s.precision(), s.recall(), src)
				}
				if src == drivers.SourceInferred && s.precision() < 0.9 {
					return fmt.Sprintf("precision %.3f, want ≥ 0.9", s.precision())
				}
				return ""
			},
			open: func(t *testing.T) (drivers.Driver, func() *truth, *scenarios.Plan) {
				cfg := emulator.DefaultConfig()
				cfg.KeepAlive = 700 * ms
				var d drivers.Driver
				var emu *emulator.Emulator
				if src == drivers.SourcePlatform {
					sc := simdriver.DefaultConfig()
					sc.KeepAlive = cfg.KeepAlive
					sd, err := simdriver.Open(context.Background(), sc)
					if err != nil {
						t.Fatal(err)
					}
					t.Cleanup(func() { sd.Close() })
					d, emu = sd, sd.Emulator()
				} else {
					var err error
					if emu, err = emulator.New(cfg); err != nil {
						t.Fatal(err)
					}
					u, err := emu.Start("127.0.0.1:0")
					if err != nil {
						t.Fatal(err)
					}
					t.Cleanup(func() { emu.Close() })
					hc := httpdriver.DefaultConfig()
					hc.URL = u
					if edit != nil {
						edit(hc)
					}
					hd, err := httpdriver.New(hc)
					if err != nil {
						t.Fatal(err)
					}
					t.Cleanup(func() { hd.Close() })
					d = hd
				}
				get := func() *truth {
					tr := newTruth()
					for _, r := range emu.Truth() {
						if r.Status == 200 {
							tr.set(r.RequestID, r.Cold)
						}
					}
					return tr
				}
				// Scale-out on a ramp, an idle gap past the keep-alive,
				// then steady traffic again.
				return d, get, plan(
					constant("low", 20, 800*ms),
					constant("high", 100, 800*ms),
					idlePhase("idle", 1400*ms),
					constant("again", 50, 800*ms),
				)
			},
		}
	}
	return []truthCase{
		// No cold starts at all: 200/s of a 3 ms function.
		poolCase("none", 0, workFast, func() []scenarios.PlannedPhase {
			return []scenarios.PlannedPhase{constant("steady", 200, 2500*ms)}
		}, 0, noCold),
		// Cold after an idle gap: the first request after each 1.8 s
		// pause sleeps 300 ms (3 cold starts, the run's first included).
		{
			name: "idle gap", detect: Detection{Infer: true}, source: drivers.SourceInferred, check: both95,
			open: func(t *testing.T) (drivers.Driver, func() *truth, *scenarios.Plan) {
				tr := newTruth()
				d := openHTTP(t, &idleServer{tr: tr}, nil)
				return d, func() *truth { return tr }, plan(
					constant("a", 50, 600*ms), idlePhase("gap1", 1800*ms),
					constant("b", 50, 600*ms), idlePhase("gap2", 1800*ms),
					constant("c", 50, 600*ms))
			},
		},
		// A burst of 20 at once on a fresh target (20 cold), then warm
		// traffic on the same instances.
		poolCase("fresh burst", 200*ms, workFast, func() []scenarios.PlannedPhase {
			return []scenarios.PlannedPhase{burstPhase("burst", 20, 250*ms), constant("warm", 100, 1500*ms)}
		}, 0, both95),
		// Every request stalls for 1 s at once, with warm traffic before
		// and after: a target-wide slowdown, no cold start but the first.
		poolCase("1 s stall", 0, workFast, func() []scenarios.PlannedPhase {
			return []scenarios.PlannedPhase{constant("steady", 200, 3*time.Second)}
		}, time.Second, noCold),
		// A third of the answers are fast 200s carrying an error (tiny
		// body); the rest take 25 ms. No warm request may be called cold.
		poolCase("fast 200 errors", 200*ms, func(r *http.Request) (time.Duration, []byte) {
			if id := r.Header.Get("X-Request-Id"); id != "" && id[len(id)-1]%3 == 0 {
				return time.Millisecond, errBody
			}
			return 25 * ms, body2k
		}, func() []scenarios.PlannedPhase {
			return []scenarios.PlannedPhase{constant("mixed", 100, 2500*ms)}
		}, 0, func(s score) string {
			if s.warmCalledCold > 0 {
				return fmt.Sprintf("%d warm requests called cold", s.warmCalledCold)
			}
			return ""
		}),
		// The emulator with each of its signals, and with none (inference).
		emu("emulator platform", Detection{Platform: true}, drivers.SourcePlatform, nil),
		emu("emulator header", Detection{Header: true}, drivers.SourceHeader, func(c *httpdriver.Config) { c.ColdHeaders = []string{emulator.HeaderCold} }),
		emu("emulator instance", Detection{Instance: true}, drivers.SourceInstance, func(c *httpdriver.Config) { c.InstanceHeader = emulator.HeaderInstanceID }),
		emu("emulator inferred", Detection{Infer: true}, drivers.SourceInferred, nil),
		// A function that says in its body whether it was cold (cold.body).
		{
			name: "body markers", source: drivers.SourceBody,
			check: func(s score) string {
				if s.precision() < 1 || s.recall() < 1 {
					return fmt.Sprintf("precision %.3f recall %.3f, want 1 for the body signal", s.precision(), s.recall())
				}
				return ""
			},
			open: func(t *testing.T) (drivers.Driver, func() *truth, *scenarios.Plan) {
				tr := newTruth()
				p := &pool{tr: tr, init: 100 * ms, ttl: time.Minute, work: workFast, markers: true}
				d := openHTTP(t, p, func(c *httpdriver.Config) { c.ColdBody = drivers.BodyMarkers{Cold: "cold"} })
				return d, func() *truth { return tr }, plan(burstPhase("burst", 10, 150*ms), constant("warm", 100, 500*ms))
			},
		},
	}
}

func row(c truthCase, cond string, s score) string {
	return fmt.Sprintf("| %s | %s | %v | %d | %d | %d | %d | %d | %.3f | %.3f |",
		c.name, cond, c.source, s.n, s.tp+s.fn, s.tp, s.fp, s.unknown, s.precision(), s.recall())
}

// TestGroundTruth scores every source against known truth, quiet and under
// a CPU hog, and logs the table the README shows.
func TestGroundTruth(t *testing.T) {
	if testing.Short() {
		t.Skip("ground-truth suite: about 50 s")
	}
	if raceEnabled {
		t.Skip("timing-based: make test runs it without the race detector")
	}
	var table []string
	for _, hog := range []bool{false, true} {
		for _, c := range truthCases() {
			if hog && c.source != drivers.SourceInferred {
				continue // header signals do not depend on timing
			}
			cond := "quiet"
			if hog {
				cond = "CPU hog"
			}
			t.Run(c.name+"/"+cond, func(t *testing.T) {
				if hog {
					stop := startHog(t, 30*time.Second)
					defer stop()
				}
				s, _ := runTruth(t, c, 1000)
				msg := c.check(s)
				if msg != "" {
					// Timing on a shared machine: one rerun, said in the log.
					t.Logf("%s (%s): rerunning once", msg, row(c, cond, s))
					s, _ = runTruth(t, c, 1000)
					msg = c.check(s)
				}
				table = append(table, row(c, cond, s))
				t.Log(row(c, cond, s))
				if msg != "" {
					t.Error(msg)
				}
			})
		}
	}
	t.Log("| target | host | source | requests | truly cold | called cold right | called cold wrong | unknown | precision | recall |\n" + strings.Join(table, "\n"))
}

// TestGroundTruthLong is issue 12's must-show for a target without cold
// starts: 300/s for 20 s under the hog, and the generator's limit with
// drops. Not in make test (about 50 s).
func TestGroundTruthLong(t *testing.T) {
	if os.Getenv("COLDBENCH_TRUTH_LONG") == "" {
		t.Skip("set COLDBENCH_TRUTH_LONG=1")
	}
	for _, tc := range []struct {
		name     string
		rate     int
		inFlight int
	}{
		{"300/s for 20 s, CPU hog", 300, 1000},
		{"generator limit, CPU hog", 20000, 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stop := startHog(t, 60*time.Second)
			defer stop()
			dur := 20 * time.Second
			if tc.rate > 1000 {
				dur = 10 * time.Second
			}
			c := poolCase("none", 0, func(*http.Request) (time.Duration, []byte) { return time.Millisecond, body100 },
				func() []scenarios.PlannedPhase { return []scenarios.PlannedPhase{constant("steady", tc.rate, dur)} }, 0, nil)
			s, tally := runTruth(t, c, tc.inFlight)
			var sent, dropped, cold, unknown int64
			for _, p := range tally.Phases {
				sent += p.Sent
				dropped += p.Dropped
				cold += p.Temps[drivers.Cold]
				unknown += p.Temps[drivers.Unknown]
			}
			t.Logf("%s: sent %d, dropped %d, cold %d (%.3f%%), unknown %d, wrongly cold %d", tc.name, sent, dropped, cold,
				100*float64(cold)/float64(max(sent, 1)), unknown, s.fp)
			if float64(cold) > 0.001*float64(sent) {
				t.Errorf("inferred cold %d of %d: more than 0.1%%", cold, sent)
			}
		})
	}
}

// startHog runs a child process that spins every core for at most d, and
// returns a function that kills it.
func startHog(t *testing.T, d time.Duration) func() {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperHog$")
	cmd.Env = append(os.Environ(), "COLDBENCH_HOG="+d.String())
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond) // let it spin up
	return func() {
		cmd.Process.Kill()
		cmd.Wait()
	}
}

// TestHelperHog is the CPU hog's body when run by startHog.
func TestHelperHog(t *testing.T) {
	d, err := time.ParseDuration(os.Getenv("COLDBENCH_HOG"))
	if err != nil {
		t.Skip("a helper process for startHog")
	}
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	for range runtime.NumCPU() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runtime.LockOSThread()
			x := 0
			for time.Now().Before(deadline) {
				for i := range 100000 {
					x += i
				}
			}
			_ = x
		}()
	}
	wg.Wait()
}
