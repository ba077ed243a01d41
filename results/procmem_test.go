package results

import (
	"os"
	"os/exec"
	"runtime"
	"testing"
	"time"
)

// TestWatchMemorySeesChild: watching another process (as the bench
// harness watches each generator) sees its heap grow as anonymous memory,
// kept apart from its file-backed pages; the watch survives the process's
// exit. The child is this test binary, holding 64 MiB for a moment.
func TestWatchMemorySeesChild(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("/proc is Linux's")
	}
	if os.Getenv("COLDBENCH_PROCMEM_CHILD") == "1" {
		b := make([]byte, 64<<20)
		for i := range b {
			b[i] = 1 // touch every page: resident, not just reserved
		}
		time.Sleep(300 * time.Millisecond)
		runtime.KeepAlive(b)
		os.Exit(0)
	}
	t.Parallel()
	cmd := exec.Command(os.Args[0], "-test.run", "^TestWatchMemorySeesChild$")
	cmd.Env = append(os.Environ(), "COLDBENCH_PROCMEM_CHILD=1")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w := WatchMemory(cmd.Process.Pid, 20*time.Millisecond)
	err := cmd.Wait()
	p := w.Stop()
	if err != nil {
		t.Fatal(err)
	}
	if p.Anon < 64<<20 || p.File <= 0 || p.File > p.Anon || p.HWM < p.Anon {
		t.Errorf("peaks %+v: want anon ≥ 64 MiB, some file pages, HWM ≥ anon", p)
	}
	if p2 := w.Stop(); p2 != p {
		t.Errorf("second Stop %+v, first %+v", p2, p)
	}
}

// TestWatchMemorySelf: this process's own split is read (pid 0), as the
// runner does for run.json's host block.
func TestWatchMemorySelf(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("/proc is Linux's")
	}
	t.Parallel()
	p := WatchMemory(0, time.Hour).Stop()
	m, err := ReadProcMemory(0)
	if err != nil || p.Anon <= 0 || p.File <= 0 || m.RSS <= 0 {
		t.Errorf("peaks %+v, now %+v, %v", p, m, err)
	}
}
