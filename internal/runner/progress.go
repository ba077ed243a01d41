package runner

import (
	"fmt"
	"io"
	"time"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"

	"github.com/coldbench/coldbench/internal/engine"
)

// progressSource is what shows progress: the controller's merged view of
// its agents.
type progressSource interface {
	Progress() engine.Progress
	Duration() time.Duration
}

// showProgress reports a run's progress until the returned stop is called:
// a redrawn bar on a terminal, plain lines every few seconds otherwise (CI
// logs should not fill with carriage returns).
func showProgress(w io.Writer, tty bool, eng progressSource) (stop func()) {
	total := eng.Duration()
	done := make(chan struct{})
	finished := make(chan struct{})
	if !tty {
		go func() {
			defer close(finished)
			tick := time.NewTicker(5 * time.Second)
			defer tick.Stop()
			for {
				select {
				case <-done:
					return
				case <-tick.C:
					fmt.Fprintln(w, line(eng.Progress(), total))
				}
			}
		}()
		return func() { close(done); <-finished }
	}

	p := mpb.New(mpb.WithOutput(w), mpb.WithRefreshRate(200*time.Millisecond), mpb.WithWidth(32))
	bar := p.New(int64(total/time.Millisecond),
		mpb.BarStyle(),
		mpb.PrependDecorators(decor.Any(func(decor.Statistics) string {
			pr := eng.Progress()
			return fmt.Sprintf("%s/%s", pr.Elapsed.Truncate(time.Second), total.Truncate(time.Second))
		})),
		mpb.AppendDecorators(decor.Any(func(decor.Statistics) string {
			return status(eng.Progress())
		})),
	)
	go func() {
		defer close(finished)
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				bar.SetCurrent(int64(total / time.Millisecond))
				bar.Abort(false)
				p.Wait()
				return
			case <-tick.C:
				bar.SetCurrent(int64(min(eng.Progress().Elapsed, total) / time.Millisecond))
			}
		}
	}()
	return func() { close(done); <-finished }
}

func line(p engine.Progress, total time.Duration) string {
	return fmt.Sprintf("%s/%s %s", p.Elapsed.Truncate(time.Second), total.Truncate(time.Second), status(p))
}

func status(p engine.Progress) string {
	rate := 0.0
	if s := p.Elapsed.Seconds(); s > 0 {
		rate = float64(p.Sent) / s
	}
	return fmt.Sprintf("%.0f req/s  sent %d  in flight %d  errors %d  dropped %d  cold %d",
		rate, p.Sent, p.InFlight, p.Errors, p.Dropped, p.Cold)
}
