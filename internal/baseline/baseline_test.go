package baseline

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/coldbench/coldbench/results"
)

func writeRun(t *testing.T, complete bool) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "run")
	r := results.Summarize(nil, results.Meta{Scenario: "smoke", StartedAt: time.Unix(1e9, 0), FinishedAt: time.Unix(1e9+5, 0),
		Complete: complete, Interrupted: map[bool]string{false: "signal: interrupt"}[complete]})
	if err := results.Write(dir, r); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, results.ScenarioFile), []byte("name: smoke\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestBaselines: set copies the record byte for byte, replaces a baseline
// of the same name whole, refuses incomplete runs and unsafe names; list,
// get and remove see what set made.
func TestBaselines(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cache", "baselines")
	run := writeRun(t, true)
	if _, err := Set(dir, "nightly", run, false); err != nil {
		t.Fatal(err)
	}
	want, _ := os.ReadFile(filepath.Join(run, results.RunFile))
	got, err := os.ReadFile(filepath.Join(dir, "nightly", results.RunFile))
	if err != nil || string(got) != string(want) {
		t.Errorf("run.json not copied byte for byte (%v)", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "nightly", results.ScenarioFile)); err != nil {
		t.Error(err)
	}
	// Again, over the first: one baseline, no temporary directories left.
	if _, err := Set(dir, "nightly", run, false); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("%d entries in the baseline directory after replacing, want 1", len(entries))
	}
	r, info, err := Get(dir, "nightly")
	if err != nil || r.Scenario != "smoke" || info.Source != run || info.Name != "nightly" {
		t.Errorf("get: %v, scenario %q, info %+v", err, r.Scenario, info)
	}
	if _, err := Set(dir, "partial", writeRun(t, false), false); err == nil {
		t.Error("an incomplete run became a baseline")
	}
	if _, err := Set(dir, "partial", writeRun(t, false), true); err != nil {
		t.Errorf("--force: %v", err)
	}
	for _, bad := range []string{"", "../x", ".hidden", "a/b", "-x"} {
		if _, err := Set(dir, bad, run, false); err == nil {
			t.Errorf("name %q accepted", bad)
		}
	}
	infos, err := List(dir)
	if err != nil || len(infos) != 2 || infos[0].Name != "nightly" || infos[1].Name != "partial" {
		t.Errorf("list: %v %+v", err, infos)
	}
	if err := Remove(dir, "partial"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Get(dir, "partial"); !errors.Is(err, ErrNotFound) {
		t.Errorf("get after rm: %v, want ErrNotFound", err)
	}
	if infos, err := List(filepath.Join(dir, "nope")); err != nil || len(infos) != 0 {
		t.Errorf("list of a missing directory: %v %v", infos, err)
	}
}

func TestDir(t *testing.T) {
	t.Setenv(EnvDir, "/from/env")
	if d := Dir("/from/flag"); d != "/from/flag" {
		t.Errorf("flag: %s", d)
	}
	if d := Dir(""); d != "/from/env" {
		t.Errorf("env: %s", d)
	}
	t.Setenv(EnvDir, "")
	if d := Dir(""); d != DefaultDir {
		t.Errorf("default: %s", d)
	}
}
