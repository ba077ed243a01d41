// Package procs keeps a load generator on as few threads as its load
// needs.
//
// A generator at a steady rate spends most of its CPU waking threads: on
// every request handed to a worker or answered while another processor
// is idle, Go's scheduler wakes a second thread to look for work, and on
// a virtual machine each such wake-up costs tens of microseconds, more
// than the request itself. On one processor there is no second thread to
// wake. So a run starts on one, and gets every processor as soon as one
// is not enough: when the process is busy most of the interval, or
// goroutines wait to be scheduled (the first sign of a starved
// generator, and of a busy machine).
package procs

import (
	"context"
	"os"
	"runtime"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"time"
)

const (
	interval = 100 * time.Millisecond
	// busy is the share of one processor above which the run gets all.
	busy = 0.6
	// waited is the scheduling latency (runnable to running) whose
	// exceedance by 1 % of the interval's goroutine wake-ups gets all.
	waited = 200 * time.Microsecond
	// minSlow is the fewest slow wake-ups that count: an idle process's
	// few wake-ups say little.
	minSlow = 10
)

// Governor is the state of one Start.
type Governor struct {
	mu     sync.Mutex
	all    int // the processors the process had before Start
	start  time.Time
	raised time.Time // when it got them back; zero while on one
	why    string
}

// Start puts the process on one processor if it has more and the user did
// not choose (GOMAXPROCS unset), and watches the load until ctx is done;
// it returns nil when it leaves the process alone.
func Start(ctx context.Context) *Governor {
	n := runtime.GOMAXPROCS(0)
	if n < 2 || os.Getenv("GOMAXPROCS") != "" || os.Getenv("COLDBENCH_PROCS") == "all" {
		return nil
	}
	g := &Governor{all: n, start: time.Now()}
	runtime.GOMAXPROCS(1)
	current.Store(g)
	go g.watch(ctx)
	return g
}

// current is the process's governor, for Current.
var current atomic.Pointer[Governor]

// Use is what a run record says of the governor.
type Use struct {
	Procs  int     // the processors the process had
	Raised float64 // seconds after the start it got all of them; 0: ran on one to the end
	Why    string  // what made it: "busy" or "scheduling latency"
}

// Current says what the process's governor did, if it has one.
func Current() (Use, bool) {
	g := current.Load()
	if g == nil {
		return Use{}, false
	}
	at, why := g.Raised()
	u := Use{Procs: g.all, Why: why}
	if !at.IsZero() {
		u.Raised = at.Sub(g.start).Seconds()
	}
	return u, true
}

// Raised says when the process got all its processors back and why; zero
// when it ran on one to the end.
func (g *Governor) Raised() (time.Time, string) {
	if g == nil {
		return time.Time{}, ""
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.raised, g.why
}

func (g *Governor) raise(why string) {
	runtime.GOMAXPROCS(g.all)
	g.mu.Lock()
	g.raised, g.why = time.Now(), why
	g.mu.Unlock()
}

func (g *Governor) watch(ctx context.Context) {
	t := time.NewTicker(interval)
	defer t.Stop()
	// How long goroutines waited to run, from the scheduler's own
	// account; the process's CPU time from the kernel's.
	sample := []metrics.Sample{{Name: "/sched/latencies:seconds"}}
	metrics.Read(sample)
	prevLat := sample[0].Value.Float64Histogram()
	prevCPU, prevAt := cpuTime(), time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			metrics.Read(sample)
			lat, cpu := sample[0].Value.Float64Histogram(), cpuTime()
			share := float64(cpu-prevCPU) / float64(now.Sub(prevAt))
			slow, all := above(prevLat, lat, waited.Seconds())
			prevLat, prevCPU, prevAt = lat, cpu, now
			switch {
			case share > busy:
				g.raise("busy")
				return
			case slow >= minSlow && slow*100 > all:
				g.raise("scheduling latency")
				return
			}
		}
	}
}

// above counts the observations of cur not in prev at or above v, and
// all of them.
func above(prev, cur *metrics.Float64Histogram, v float64) (n, all uint64) {
	for i, c := range cur.Counts {
		d := c
		if i < len(prev.Counts) {
			d -= prev.Counts[i]
		}
		all += d
		if cur.Buckets[i] >= v {
			n += d
		}
	}
	return n, all
}
