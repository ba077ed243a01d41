package engine

import (
	"context"
	"time"
)

// sleeper waits for the pacer with one reusable timer: a new timer per
// arrival would be an allocation and a heap timer per request. It is not
// safe for concurrent use; the pacer loop owns it.
type sleeper struct{ timer *time.Timer }

// until waits until t or until ctx is done, and returns ctx's error then.
// A t already past returns at once: a late arrival is sent now and its
// latency still counts from its due time.
func (s *sleeper) until(ctx context.Context, t time.Time) error {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err()
	}
	if s.timer == nil {
		s.timer = time.NewTimer(d)
	} else {
		// Since Go 1.23 Reset on a fired or stopped timer discards any stale
		// value, so no drain is needed.
		s.timer.Reset(d)
	}
	select {
	case <-ctx.Done():
		s.timer.Stop()
		return ctx.Err()
	case <-s.timer.C:
		return nil
	}
}

func (s *sleeper) stop() {
	if s.timer != nil {
		s.timer.Stop()
	}
}
