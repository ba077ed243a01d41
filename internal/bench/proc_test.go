package bench

import (
	"context"
	"os"
	"runtime"
	"testing"
	"time"
)

// TestRunSplitsMemory: a generator process run by the harness has its
// getrusage peak and its sampled anon/file peaks recorded; a heap of
// 48 MiB shows as anonymous memory. The process is this test binary.
func TestRunSplitsMemory(t *testing.T) {
	if os.Getenv("COLDBENCH_BENCH_CHILD") == "1" {
		b := make([]byte, 48<<20)
		for i := range b {
			b[i] = 1 // resident, not just reserved
		}
		time.Sleep(300 * time.Millisecond)
		runtime.KeepAlive(b)
		os.Exit(0)
	}
	if runtime.GOOS != "linux" {
		t.Skip("the split is read from Linux's /proc")
	}
	t.Setenv("COLDBENCH_BENCH_CHILD", "1")
	_, u, err := run(context.Background(), 30*time.Second, os.Args[0], "-test.run", "^TestRunSplitsMemory$")
	if err != nil {
		t.Fatal(err)
	}
	if len(u.MaxRSS) != 1 || len(u.PeakAnon) != 1 || len(u.PeakFile) != 1 {
		t.Fatalf("usage %+v: want one process", u)
	}
	if u.Anon() < 48<<20 || u.File() <= 0 || u.RSS() < u.Anon() {
		t.Errorf("rss %d, anon %d, file %d: want anon ≥ 48 MiB ≤ rss, some file pages", u.RSS(), u.Anon(), u.File())
	}
}
