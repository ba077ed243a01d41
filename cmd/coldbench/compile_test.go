package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/coldbench/coldbench/scenarios"
)

// TestRunCompilesOnce: `coldbench run` compiles its scenario once. The
// controller compiles it and hands the compiled share to the agent in the
// same process, which neither parses YAML nor compiles again, and the run
// does not compile it for checking first. Not parallel: the count is the
// whole process's.
func TestRunCompilesOnce(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "once.yaml")
	src := "name: once\ntarget: {driver: sim, keep_alive: 1s, handler: 1ms, init: {mean: 5ms}}\n" +
		"phases:\n  - {name: a, duration: 300ms, rate: 20/s}\n"
	if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	before := scenarios.Compilations()
	code := run(context.Background(), []string{"run", file, "--quiet", "--out", filepath.Join(dir, "run")}, &out, &out)
	got := scenarios.Compilations() - before
	if code != exitOK {
		t.Fatalf("exit %d:\n%s", code, out.String())
	}
	if got != 1 {
		t.Errorf("one local run compiled its scenario %d times, want 1", got)
	}
}
