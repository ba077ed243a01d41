package results

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

func TestWriteLoadRoundTrip(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	r := fixtureRun(t)
	if err := Write(dir, r); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{dir, filepath.Join(dir, RunFile)} {
		got, err := Load(path)
		if err != nil {
			t.Fatalf("Load(%s): %v", path, err)
		}
		if !reflect.DeepEqual(got, r) {
			a, _ := json.Marshal(got)
			b, _ := json.Marshal(r)
			t.Errorf("Load(%s) differs from what was written:\n got %s\nwant %s", path, a, b)
		}
	}
	// No temporary file is left behind.
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) != 1 || ents[0].Name() != RunFile {
		t.Errorf("run directory holds %v, want only %s", ents, RunFile)
	}
}

func TestLoadErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		content string // "" means no file
		want    string // in the error, besides the file name
	}{
		// no run.json at all
		{"missing", "", "no run record"},
		// a record of a future schema
		{"wrong schema", `{"schema":"coldbench.run/v9","scenario":"x"}`, `schema "coldbench.run/v9" is not supported`},
		// some other JSON document
		{"no schema", `{"scenario":"x"}`, `no "schema" field`},
		// a file cut short
		{"corrupt", `{"schema":"coldbench.run/v1","scenario":`, "not a JSON run record"},
		// the right schema with a field of the wrong type
		{"bad field", `{"schema":"coldbench.run/v1","totals":{"requests":"many"}}`, "requests"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			file := filepath.Join(dir, RunFile)
			if tt.content != "" {
				if err := os.WriteFile(file, []byte(tt.content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			_, err := Load(dir)
			if err == nil {
				t.Fatal("Load succeeded")
			}
			if !strings.Contains(err.Error(), file) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not name %s and say %q", err, file, tt.want)
			}
		})
	}
}

// TestWriteAtomicConcurrentReaders rewrites run.json over and over while
// readers load it: a reader sees one whole record or the other, never a
// partial file.
func TestWriteAtomicConcurrentReaders(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	a := fixtureRun(t)
	b := fixtureRun(t)
	b.Scenario = "other"
	b.Complete = false
	if err := Write(dir, a); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			r := a
			if i%2 == 1 {
				r = b
			}
			if err := Write(dir, r); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	for i := 0; i < 100; i++ {
		got, err := Load(dir)
		if err != nil {
			t.Errorf("load %d: %v", i, err)
			break
		}
		if got.Scenario != a.Scenario && got.Scenario != b.Scenario {
			t.Errorf("load %d: scenario %q", i, got.Scenario)
		}
	}
	close(stop)
	wg.Wait()
}

// TestLoadIgnoresLeftoverTemp covers a writer killed between creating its
// temporary file and renaming it.
func TestLoadIgnoresLeftoverTemp(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := Write(dir, fixtureRun(t)); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, ".run.json.tmp-123"), []byte(`{"schema":"coldb`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(dir); err != nil {
		t.Fatal(err)
	}
	if err := Write(dir, fixtureRun(t)); err != nil {
		t.Fatalf("write beside a leftover temp file: %v", err)
	}
}

// TestWriteSurvivesSIGKILL kills a process that rewrites run.json in a loop
// at arbitrary moments: what it leaves always loads.
func TestWriteSurvivesSIGKILL(t *testing.T) {
	if os.Getenv("COLDBENCH_TEST_WRITER_DIR") != "" {
		return // we are the child; TestMain runs the writer loop
	}
	if testing.Short() {
		t.Skip("spawns processes")
	}
	t.Parallel()
	for _, wait := range []time.Duration{20 * time.Millisecond, 45 * time.Millisecond, 70 * time.Millisecond, 100 * time.Millisecond} {
		t.Run(wait.String(), func(t *testing.T) {
			t.Parallel()
			killWriter(t, wait)
		})
	}
}

// killWriter starts a writer process, lets it write for wait after its
// first complete write, kills it and loads what it left.
func killWriter(t *testing.T, wait time.Duration) {
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "COLDBENCH_TEST_WRITER_DIR="+dir)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	killed := false
	defer func() {
		if !killed {
			cmd.Process.Kill()
			cmd.Wait()
		}
	}()
	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, err := os.Stat(filepath.Join(dir, RunFile)); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("writer never wrote run.json")
		}
		time.Sleep(time.Millisecond)
	}
	time.Sleep(wait)
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	killed = true
	cmd.Wait()
	if _, err := Load(dir); err != nil {
		t.Errorf("after SIGKILL: %v", err)
	}
}

// TestMain doubles as the writer process of TestWriteSurvivesSIGKILL.
func TestMain(m *testing.M) {
	if dir := os.Getenv("COLDBENCH_TEST_WRITER_DIR"); dir != "" {
		r := Summarize(fixtureTally(), fixtureMeta())
		for i := 0; ; i++ {
			r.Scenario = "loop-" + strings.Repeat("x", i%50)
			if err := Write(dir, r); err != nil {
				os.Exit(3)
			}
		}
	}
	os.Exit(m.Run())
}

func TestNewDir(t *testing.T) {
	t.Parallel()
	base := filepath.Join(t.TempDir(), "results")
	now := time.Date(2026, 11, 25, 18, 1, 2, 0, time.FixedZone("CET", 3600))
	d1, err := NewDir(base, "cold and warm/v2", now)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(base, "20261125T170102Z-cold-and-warm-v2"); d1 != want {
		t.Errorf("NewDir = %s, want %s", d1, want)
	}
	d2, err := NewDir(base, "cold and warm/v2", now)
	if err != nil {
		t.Fatal(err)
	}
	if d2 != d1+"-2" {
		t.Errorf("second NewDir in the same second = %s, want %s-2", d2, d1)
	}
	for _, d := range []string{d1, d2} {
		if fi, err := os.Stat(d); err != nil || !fi.IsDir() {
			t.Errorf("%s: not a directory (%v)", d, err)
		}
	}
}

func TestSanitize(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"cold-and-warm", "cold-and-warm"}, // already safe
		{"Tune_1.5", "Tune_1.5"},           // letters, digits, '_', '.' kept
		{"a b//c", "a-b-c"},                // runs of others become one '-'
		{"../../etc", "etc"},               // no path escape, no leading dot
		{"  ", "run"},                      // nothing left
		{"", "run"},                        // no name
		{"démo ☃", "d-mo"},                 // non-ASCII replaced
		{strings.Repeat("a", 70), strings.Repeat("a", 64)}, // capped
	}
	for _, tt := range tests {
		if got := sanitize(tt.in); got != tt.want {
			t.Errorf("sanitize(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
