package engine

import (
	"context"
	"slices"
	"testing"
	"time"
)

// BenchmarkSleeperLag paces 100 µs arrivals (10 000/s) in an otherwise
// idle process and reports how late the pacer woke and its CPU time per
// arrival: Go's timer alone, the fine timer for every arrival, and the
// fine timer once per pacer tick (the engine's default).
func BenchmarkSleeperLag(b *testing.B) {
	for _, bc := range []struct {
		name string
		tick time.Duration
		fine bool
	}{
		{"go-timer", time.Nanosecond, false},
		{"fine-every-arrival", time.Nanosecond, true},
		{"fine-tick-" + minTick.String(), minTick, true},
		{"fine-tick-" + maxTick.String(), maxTick, true},
		{"fine-tick-by-rate", 0, true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			s := sleeper{init: true, tick: bc.tick}
			if bc.fine {
				if s.fine = newFineTimer(); s.fine == nil {
					b.Skip("no fine timer here")
				}
			}
			defer s.stop()
			ctx := context.Background()
			lags := make([]time.Duration, 0, b.N)
			start := time.Now()
			cpu0 := cpuTime()
			for i := range b.N {
				due := start.Add(time.Duration(i+1) * 100 * time.Microsecond)
				if err := s.until(ctx, due); err != nil {
					b.Fatal(err)
				}
				lags = append(lags, time.Since(due))
			}
			b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/op")
			slices.Sort(lags)
			b.ReportMetric(float64(lags[len(lags)/2].Microseconds()), "p50-µs")
			b.ReportMetric(float64(lags[len(lags)*99/100].Microseconds()), "p99-µs")
			b.ReportMetric(float64(lags[len(lags)-1].Microseconds()), "max-µs")
		})
	}
}

// TestSleeperNeverEarly: the pacer must not send before the due time,
// whichever timer serves the wait.
func TestSleeperNeverEarly(t *testing.T) {
	var s sleeper
	defer s.stop()
	ctx := context.Background()
	for i := range 300 {
		due := time.Now().Add(time.Duration(i%30) * 100 * time.Microsecond)
		if i%100 == 99 {
			due = time.Now().Add(fineBelow + 3*time.Millisecond) // coarse, then fine
		}
		if err := s.until(ctx, due); err != nil {
			t.Fatal(err)
		}
		if now := time.Now(); now.Before(due) {
			t.Fatalf("wait %d returned %v early", i, due.Sub(now))
		}
	}
}

// TestSleeperCancel: a cancelled context ends a wait at once, on either
// timer, and every later wait with it.
func TestSleeperCancel(t *testing.T) {
	for _, fine := range []bool{false, true} {
		var s sleeper
		ctx, cancel := context.WithCancel(context.Background())
		if err := s.until(ctx, time.Now().Add(50*time.Microsecond)); err != nil { // makes the fine timer
			t.Fatal(err)
		}
		until := s.until
		if fine {
			if s.fine == nil {
				t.Skip("no fine timer on this platform")
			}
			until = s.fine.until // a long wait on the fine timer alone
		}
		time.AfterFunc(20*time.Millisecond, cancel)
		began := time.Now()
		if err := until(ctx, time.Now().Add(10*time.Second)); err != context.Canceled {
			t.Fatalf("fine %v: %v, want context.Canceled", fine, err)
		}
		if el := time.Since(began); el > 2*time.Second {
			t.Errorf("fine %v: wait ended %v after it began, long after the cancellation", fine, el)
		}
		if err := s.until(ctx, time.Now().Add(time.Millisecond)); err != context.Canceled {
			t.Fatalf("after cancel: %v", err)
		}
		s.stop()
	}
}

// TestSleeperTick: arrivals closer together than a tick share a wake-up,
// and none is sent before its due time.
func TestSleeperTick(t *testing.T) {
	s := sleeper{init: true, tick: 500 * time.Microsecond, fine: newFineTimer()}
	defer s.stop()
	ctx := context.Background()
	start := time.Now().Add(time.Millisecond)
	sleeps := 0
	const n = 40 // 4 ms at 100 µs apart: 8 ticks
	for i := range n {
		due := start.Add(time.Duration(i) * 100 * time.Microsecond)
		if time.Now().Before(due) {
			sleeps++ // a wait that has to sleep: the batch's first
		}
		if err := s.until(ctx, due); err != nil {
			t.Fatal(err)
		}
		if time.Now().Before(due) {
			t.Fatalf("arrival %d sent early", i)
		}
	}
	// A slow machine only merges more of them.
	if sleeps > n*100/500+1 {
		t.Errorf("%d wake-ups for %d arrivals 100 µs apart, want at most one per 500 µs tick (%d)", sleeps, n, n*100/500+1)
	}
}

// TestSleeperTickFollowsRate: the tick is a few arrivals' worth at the
// current rate, within its bounds, and follows the rate when it changes.
func TestSleeperTickFollowsRate(t *testing.T) {
	var s sleeper
	s.gap = maxTick
	at := time.Now()
	for _, tc := range []struct {
		every time.Duration
		want  time.Duration
	}{
		{100 * time.Microsecond, tickArrivals * 100 * time.Microsecond}, // 10 000/s
		{20 * time.Microsecond, minTick},                                // 50 000/s
		{200 * time.Microsecond, maxTick},                               // 5 000/s
		{5 * time.Millisecond, maxTick},                                 // 200/s: arrivals a tick apart anyway
	} {
		for range 200 {
			at = at.Add(tc.every)
			s.observe(at)
		}
		if got := s.currentTick(); got < tc.want*95/100 || got > tc.want*105/100 {
			t.Errorf("arrivals %v apart: tick %v, want %v", tc.every, got, tc.want)
		}
	}
}
