package scenarios

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse checks that Parse never panics, that every positioned error
// has a line of at least 1, and that whatever Parse accepts compiles to
// schedules whose At agrees with Planned. The seed corpus is in
// testdata/fuzz/FuzzParse and the testdata scenarios.
func FuzzParse(f *testing.F) {
	f.Add([]byte(ok))
	paths, _ := filepath.Glob("testdata/*/*.yaml")
	for _, p := range paths {
		if data, err := os.ReadFile(p); err == nil {
			f.Add(data)
		}
	}
	for _, name := range BuiltinNames() {
		data, _ := BuiltinSource(name)
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse("fuzz.yaml", data)
		if err != nil {
			if s != nil {
				t.Fatalf("Parse returned a scenario and an error")
			}
			var errs Errors
			if !errors.As(err, &errs) || len(errs) == 0 {
				t.Fatalf("Parse error %T %v, want a non-empty Errors", err, err)
			}
			for _, e := range errs {
				if e.Msg == "" || e.File != "fuzz.yaml" {
					t.Fatalf("error without a message or file: %#v", e)
				}
				if (e.Line != 0 || e.Column != 0) && (e.Line < 1 || e.Column < 0) {
					t.Fatalf("error at a bad position: %#v", e)
				}
			}
			return
		}
		p, err := Compile(s)
		if err != nil {
			t.Fatalf("Parse accepted a scenario that Compile refuses: %v", err)
		}
		for _, ph := range p.Phases {
			if ph.Planned < 0 {
				continue
			}
			n := uint64(ph.Planned)
			if _, ok := ph.Schedule.At(n); ok {
				t.Fatalf("phase %s: At(Planned = %d) is true", ph.Name, n)
			}
			if at, ok := ph.Schedule.At(n - 1); n > 0 && (!ok || at < 0 || at >= ph.Duration) {
				t.Fatalf("phase %s: At(Planned-1 = %d) = %v, %v in a phase of %v", ph.Name, n-1, at, ok, ph.Duration)
			}
		}
	})
}
