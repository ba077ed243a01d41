package coldbench_test

import (
	"go/build"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/coldbench/coldbench"

// deps is every package of this module that pkg imports, directly or not
// (what `go list -deps` lists, the standard library and other modules
// left out), without test files.
func deps(t *testing.T, pkg string) []string {
	t.Helper()
	seen := map[string]bool{}
	var walk func(path string)
	walk = func(path string) {
		// The module's packages lie below this directory: ImportDir
		// reads their files without asking the go command.
		p, err := build.ImportDir(filepath.FromSlash("."+strings.TrimPrefix(path, module)), 0)
		if err != nil {
			t.Fatalf("import %s: %v", path, err)
		}
		for _, imp := range p.Imports {
			if (imp == module || strings.HasPrefix(imp, module+"/")) && !seen[imp] {
				seen[imp] = true
				walk(imp)
			}
		}
	}
	walk(module + "/" + pkg)
	out := make([]string, 0, len(seen))
	for p := range seen {
		out = append(out, strings.TrimPrefix(p, module+"/"))
	}
	slices.Sort(out)
	return out
}

// TestLayers holds the one-way core: libraries return values and cmd
// renders them, so nothing below cmd imports the report layer; and the
// scenario schema, which agents and tools import, stands on nothing
// internal.
func TestLayers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		pkg    string
		banned func(dep string) bool
		why    string
	}{
		{"internal/runner", is("report"), "a run returns its record; cmd renders it"},
		{"internal/tune", is("report"), "a sweep returns its record; cmd renders it"},
		{"internal/capacity", is("report"), "a ramp returns its record; cmd renders it"},
		{"scenarios", is("report"), "the schema knows nothing of rendering"},
		{"scenarios", under("internal"), "the schema imports no internal package"},
		{"internal/capacity", is("internal/tune"), "the ramp shares the cost model, not the sweep"},
	}
	// A control: the binary does import the report layer, so the walk
	// finds what it is meant to.
	if !slices.Contains(deps(t, "cmd/coldbench"), "report") {
		t.Fatal("cmd/coldbench's dependencies lack report: the walk is broken")
	}
	for _, tt := range tests {
		for _, d := range deps(t, tt.pkg) {
			if tt.banned(d) {
				t.Errorf("%s imports %s: %s", tt.pkg, d, tt.why)
			}
		}
	}
}

func is(pkg string) func(string) bool { return func(d string) bool { return d == pkg } }

func under(dir string) func(string) bool {
	return func(d string) bool { return strings.HasPrefix(d, dir+"/") }
}
