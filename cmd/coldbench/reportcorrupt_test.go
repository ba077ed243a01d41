package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestReportCorruptHistogram: a run.json whose stored histogram is corrupt
// is refused the same way by every format (exit 2, naming the histogram),
// where text rendered it (exit 0) and html failed (exit 3).
func TestReportCorruptHistogram(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "run")
	if out, code := coldbench(t, "run", writeScenario(t, `
name: corrupt
target: {driver: sim, handler: 1ms, init: {mean: 5ms, stddev: 1ms}}
phases:
  - {name: a, duration: 500ms, rate: 40}
`), "--out", dir, "--quiet"); code != 0 {
		t.Fatalf("run: exit %d\n%s", code, out)
	}
	path := filepath.Join(dir, "run.json")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// Every stored histogram string becomes one that is base64 but not an
	// HDR histogram.
	hist := regexp.MustCompile(`"histogram": "[^"]+"`)
	if !hist.Match(b) {
		t.Fatal("run.json holds no histogram")
	}
	b = hist.ReplaceAll(b, []byte(`"histogram": "SGVsbG8gd29ybGQ="`))
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"text", "json", "md", "html", "hgrm", "csv"} {
		out, code := coldbench(t, "report", dir, "--format", f)
		if code != 2 || !strings.Contains(out, ".histogram") || !strings.Contains(out, "decode histogram") {
			t.Errorf("report --format %s: exit %d, want 2 naming the corrupt histogram:\n%s", f, code, out)
		}
	}
}
