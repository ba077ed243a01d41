package engine

import (
	"context"
	"os"
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
	tick  time.Duration
	woke  time.Time // the last wake-up's due time
	init  bool
}

// fineBelow is the wait under which the fine timer is used: above it the
// millisecond rounding of Go's timer is a small share of the wait, and
// the long part of a wait is slept on Go's timer, the last stretch on
// the fine one.
const fineBelow = 2 * time.Millisecond

// pacerTick is the shortest time between two wake-ups of the pacer.
var pacerTick = 500 * time.Microsecond

func (s *sleeper) setup() {
	s.init = true
	s.tick = pacerTick
	if v, err := time.ParseDuration(os.Getenv("COLDBENCH_PACER_TICK")); err == nil { // EXPERIMENT
		s.tick = v
	}
	if os.Getenv("COLDBENCH_PACER_COARSE") == "" { // EXPERIMENT
		s.fine = newFineTimer()
	}
}

// until waits until t or until ctx is done, and returns ctx's error then.
// A t already past returns at once: a late arrival is sent now and its
// latency still counts from its due time. It never returns before t.
func (s *sleeper) until(ctx context.Context, t time.Time) error {
	if !s.init {
		s.setup()
	}
	if !t.After(time.Now()) {
		return ctx.Err()
	}
	if next := s.woke.Add(s.tick); t.Before(next) {
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
