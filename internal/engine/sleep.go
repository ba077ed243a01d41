package engine

import (
	"context"
	"time"
)

// sleeper waits for the pacer. It is not safe for concurrent use; the
// pacer loop owns it.
//
// Go's timers are precise only while the process is busy: a process with
// nothing to run waits for its next timer in epoll_wait, whose timeout is
// whole milliseconds, so a wait of 100 µs can last a millisecond. At
// 10 000/s that is most waits, and it is the generator's own lag that
// latency from the intended send time then reports. Where the platform
// has a kernel timer the poller can wait on (timerfd, sleep_linux.go),
// short waits use it: the poller wakes when it fires, to the microsecond.
type sleeper struct {
	timer *time.Timer // one reusable timer: a new one per arrival would be an allocation each
	fine  fineTimer   // nil where the platform has none, or it could not be made
	tried bool
}

// fineBelow is the wait under which the fine timer is used: above it the
// millisecond rounding of Go's timer is a small share of the wait, and
// the long part of a wait is slept on Go's timer, the last stretch on
// the fine one.
const fineBelow = 2 * time.Millisecond

// until waits until t or until ctx is done, and returns ctx's error then.
// A t already past returns at once: a late arrival is sent now and its
// latency still counts from its due time.
func (s *sleeper) until(ctx context.Context, t time.Time) error {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err()
	}
	if !s.tried {
		s.tried = true
		s.fine = newFineTimer()
	}
	if s.fine != nil {
		if d > fineBelow {
			if err := s.coarse(ctx, d-fineBelow); err != nil {
				return err
			}
		}
		return s.fine.until(ctx, t)
	}
	return s.coarse(ctx, d)
}

// coarse waits d on Go's timer.
func (s *sleeper) coarse(ctx context.Context, d time.Duration) error {
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
	if s.fine != nil {
		s.fine.close()
	}
}

// fineTimer waits until a time with the kernel's precision.
type fineTimer interface {
	until(ctx context.Context, t time.Time) error
	close()
}
