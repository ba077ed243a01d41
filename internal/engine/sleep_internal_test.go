package engine

import (
	"context"
	"slices"
	"testing"
	"time"
)

// BenchmarkSleeperLag paces 100 µs arrivals (10 000/s) in an otherwise
// idle process and reports how late the pacer woke: Go's timer alone
// (coarse) against the sleeper (fine timer for short waits).
func BenchmarkSleeperLag(b *testing.B) {
	for _, bc := range []struct {
		name  string
		until func(*sleeper, context.Context, time.Time) error
	}{
		{"coarse", func(s *sleeper, ctx context.Context, t time.Time) error { return s.coarse(ctx, time.Until(t)) }},
		{"sleeper", (*sleeper).until},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var s sleeper
			defer s.stop()
			ctx := context.Background()
			lags := make([]time.Duration, 0, b.N)
			start := time.Now()
			for i := range b.N {
				due := start.Add(time.Duration(i+1) * 100 * time.Microsecond)
				if err := bc.until(&s, ctx, due); err != nil {
					b.Fatal(err)
				}
				lags = append(lags, time.Since(due))
			}
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
		if err := s.until(ctx, time.Now().Add(50*time.Microsecond)); err != nil {
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
