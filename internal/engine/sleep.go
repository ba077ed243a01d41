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
// whole milliseconds, so a wait of 100 µs can last a millisecond or more.
// At 10 000/s that is most waits, and latency from the intended send time
// reports it as the generator's own lag. Where the platform has a kernel
// timer the poller can wait on (timerfd, sleep_linux.go), the last
// stretch of a wait is slept on it instead, to the microsecond.
//
// A wake-up is not free, though: on a virtual machine waking an idle
// thread costs tens of microseconds of CPU, more than a request. So the
// pacer wakes at most once per tick: arrivals closer together than that
// are sent together at the first wake at or after their due time. Lag is
// then below one tick (plus the wake-up's own), and a rate above 1/tick
// costs one wake-up per tick instead of one per request. Below that rate
// each arrival has its own wake-up, on time.
type sleeper struct {
	timer *time.Timer // one reusable timer: a new one per arrival would be an allocation each
	fine  fineTimer   // nil where the platform has none, or it could not be made
	init  bool
	woke  time.Time     // the last wake-up's due time
	tick  time.Duration // fixed tick (tests, benchmarks); 0: from the arrival rate
	last  time.Time     // the last due time asked for
	gap   time.Duration // moving average of the time between due times
}

// fineBelow is the wait under which the fine timer is used: above it the
// millisecond rounding of Go's timer is a small share of the wait, and
// the long part of a wait is slept on Go's timer, the last stretch on
// the fine one.
const fineBelow = 2 * time.Millisecond

// The pacer's tick: tickArrivals arrivals' worth at the current rate,
// within [minTick, maxTick]. A wake-up costs about as much CPU as a few
// requests, so fewer than a handful a tick is mostly wake-ups; and lag
// is under a tick, so the tick stays short where the rate is high. On 2
// cores at 10 000/s: 0.6 ms, lag p99 about 0.8 ms; at 5 000/s, 1 ms.
// Below 1 000/s arrivals are over a tick apart and each has its own
// wake-up, on time.
const (
	tickArrivals = 6
	minTick      = 500 * time.Microsecond
	maxTick      = time.Millisecond
)

// until waits until t or until ctx is done, and returns ctx's error then.
// A t already past returns at once: a late arrival is sent now and its
// latency still counts from its due time. It never returns before t.
func (s *sleeper) until(ctx context.Context, t time.Time) error {
	if !s.init {
		s.init = true
		s.fine = newFineTimer()
		s.gap = maxTick
	}
	s.observe(t)
	if !t.After(time.Now()) {
		return ctx.Err()
	}
	if next := s.woke.Add(s.currentTick()); t.Before(next) {
		t = next // batched with the arrivals of the next tick
	}
	s.woke = t
	d := time.Until(t)
	if s.fine == nil {
		return s.coarse(ctx, d)
	}
	if d > fineBelow {
		if err := s.coarse(ctx, d-fineBelow); err != nil {
			return err
		}
	}
	return s.fine.until(ctx, t)
}

// observe takes due time t into the average time between arrivals.
func (s *sleeper) observe(t time.Time) {
	if g := t.Sub(s.last); g >= 0 && g < time.Second {
		s.gap += (g - s.gap) / 16
	}
	s.last = t
}

// currentTick is the shortest time between two wake-ups now.
func (s *sleeper) currentTick() time.Duration {
	if s.tick != 0 {
		return s.tick
	}
	return min(max(tickArrivals*s.gap, minTick), maxTick)
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
