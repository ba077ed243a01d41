package results

import (
	"encoding/json"
	"runtime"
	"strings"
	"testing"
)

// TestReadRuntime: the process's own figures are read and reach run.json's
// host block; a record without them (written before, or not by a run)
// leaves the block out.
func TestReadRuntime(t *testing.T) {
	keep := make([]byte, 8<<20)
	runtime.GC()
	r := ReadRuntime()
	if r.HeapAllocBytes < 8<<20 || r.HeapLiveBytes == 0 || r.GoMemoryBytes < r.HeapLiveBytes || r.GCCycles == 0 || r.Goroutines == 0 {
		t.Errorf("runtime %+v", r)
	}
	if runtime.GOOS == "linux" && (r.PeakRSSBytes < 8<<20 || r.CPUSeconds <= 0) {
		t.Errorf("peak RSS %d, CPU %g s", r.PeakRSSBytes, r.CPUSeconds)
	}
	runtime.KeepAlive(keep)
	b, err := json.Marshal(Host{Hostname: "h", Runtime: r})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"runtime":{"peak_rss_bytes":`) && runtime.GOOS == "linux" {
		t.Errorf("host block %s", b)
	}
	if b, _ := json.Marshal(Host{Hostname: "h"}); strings.Contains(string(b), "runtime") {
		t.Errorf("host block without runtime %s", b)
	}
}
