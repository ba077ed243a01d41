package engine

import (
	"context"
	"os"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// timerfd is a fineTimer on a Linux timerfd that Go's poller waits on
// like a socket: when it fires, epoll_wait returns at once, where a Go
// timer would have waited for the next whole millisecond.
type timerfd struct {
	f  *os.File // the timerfd, non-blocking, registered with the poller
	fd int

	ctx    context.Context // the context the AfterFunc below watches
	stopAf func() bool

	mu     sync.Mutex // orders the AfterFunc's arm against close: never arm a closed fd
	closed bool
}

// newFineTimer returns a timerfd, or nil if the kernel will not make one
// (seccomp, old kernel): Go's timer serves then.
func newFineTimer() fineTimer {
	fd, err := unix.TimerfdCreate(unix.CLOCK_MONOTONIC, unix.TFD_NONBLOCK|unix.TFD_CLOEXEC)
	if err != nil {
		return nil
	}
	return &timerfd{f: os.NewFile(uintptr(fd), "timerfd"), fd: fd}
}

func (tf *timerfd) until(ctx context.Context, t time.Time) error {
	if ctx != tf.ctx {
		// One registration per context, not per wait: a cancelled ctx
		// fires the timer at once, which ends the wait below.
		if tf.stopAf != nil {
			tf.stopAf()
		}
		tf.ctx = ctx
		tf.stopAf = context.AfterFunc(ctx, func() { tf.arm(1) })
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	d := time.Until(t)
	if d <= 0 {
		return nil
	}
	if err := tf.arm(d); err != nil {
		return err
	}
	var buf [8]byte // the count of expirations
	for {
		_, err := tf.f.Read(buf[:])
		if err == nil {
			break
		}
		// Re-armed before a stale expiry was read, or interrupted: the
		// timer runs until t in any case.
		if !isAgain(err) {
			return err
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	// The cancellation's expiry may have raced a re-arm; a wait that
	// returns early is caught here rather than sending early.
	if d := time.Until(t); d > 0 {
		return tf.until(ctx, t)
	}
	return nil
}

// arm sets the timer to fire once, d from now. The kernel serialises
// settings: the cancellation's arm(1) may be overridden by a later arm,
// which only delays noticing the cancellation to the end of that wait.
func (tf *timerfd) arm(d time.Duration) error {
	tf.mu.Lock()
	defer tf.mu.Unlock()
	if tf.closed {
		return os.ErrClosed
	}
	spec := unix.ItimerSpec{Value: unix.NsecToTimespec(int64(d))}
	return unix.TimerfdSettime(tf.fd, 0, &spec, nil)
}

func isAgain(err error) bool {
	pe, ok := err.(*os.PathError)
	return ok && (pe.Err == unix.EAGAIN || pe.Err == unix.EINTR)
}

func (tf *timerfd) close() {
	if tf.stopAf != nil {
		tf.stopAf()
	}
	tf.mu.Lock()
	tf.closed = true
	tf.mu.Unlock()
	tf.f.Close()
}
