package results

import (
	"sync"
	"time"
)

// ProcMemory is a process's resident memory as the kernel splits it in
// /proc/PID/status: anonymous pages (heap, stacks: what the process
// allocated) apart from file-backed ones (mostly its own executable's text
// and read-only data, mapped whole large folios at a time on recent
// kernels), so that a reader can tell a growing heap from a big binary.
type ProcMemory struct {
	RSS  int64 // VmRSS: resident now
	HWM  int64 // VmHWM: peak resident over the process's life
	Anon int64 // RssAnon
	File int64 // RssFile
}

// MemoryPeaks is the highest anonymous and file-backed resident memory a
// process was seen with while watched, and its lifetime peak (VmHWM). The
// anon and file peaks may fall at different times.
type MemoryPeaks struct {
	Anon, File, HWM int64
}

// MemoryWatch samples a process's ProcMemory on its own goroutine until
// Stop.
type MemoryWatch struct {
	stop chan struct{}
	done chan struct{}
	mu   sync.Mutex
	peak MemoryPeaks
}

// WatchMemory samples process pid (0: this process) every interval from
// now until Stop. Where /proc is not readable (not Linux, or the process
// is gone) it records nothing. Reading /proc/PID/status costs some tens
// of microseconds, so 20 samples a second are well under 0.1 % of a core.
func WatchMemory(pid int, every time.Duration) *MemoryWatch {
	w := &MemoryWatch{stop: make(chan struct{}), done: make(chan struct{})}
	w.sample(pid)
	go func() {
		defer close(w.done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-w.stop:
				w.sample(pid)
				return
			case <-t.C:
				w.sample(pid)
			}
		}
	}()
	return w
}

func (w *MemoryWatch) sample(pid int) {
	m, err := ReadProcMemory(pid)
	if err != nil {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.peak.Anon = max(w.peak.Anon, m.Anon)
	w.peak.File = max(w.peak.File, m.File)
	w.peak.HWM = max(w.peak.HWM, m.HWM)
}

// Stop takes a last sample, ends the watch and returns the peaks. It may
// be called more than once.
func (w *MemoryWatch) Stop() MemoryPeaks {
	select {
	case <-w.stop:
	default:
		close(w.stop)
	}
	<-w.done
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.peak
}
