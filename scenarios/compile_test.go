package scenarios

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden .err files in testdata/bad")

// TestTestdata loads the good files (and compiles them) and checks the bad
// files' errors against golden files; -update rewrites those.
func TestTestdata(t *testing.T) {
	t.Parallel()
	good, _ := filepath.Glob("testdata/good/*.yaml")
	bad, _ := filepath.Glob("testdata/bad/*.yaml")
	if len(good) == 0 || len(bad) == 0 {
		t.Fatal("no testdata")
	}
	for _, path := range good {
		s, err := Load(path)
		if err != nil {
			t.Errorf("Load(%s): %v", path, err)
			continue
		}
		if _, err := Compile(s); err != nil {
			t.Errorf("Compile(%s): %v", path, err)
		}
	}
	for _, path := range bad {
		_, err := Load(path)
		if err == nil {
			t.Errorf("Load(%s) succeeded", path)
			continue
		}
		golden := strings.TrimSuffix(path, ".yaml") + ".err"
		got := err.Error() + "\n"
		if *update {
			if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, rerr := os.ReadFile(golden)
		if rerr != nil {
			t.Errorf("%v (run go test -update)", rerr)
			continue
		}
		if got != string(want) {
			t.Errorf("Load(%s) errors:\n%s\nwant (%s):\n%s", path, got, golden, want)
		}
	}
}

// TestCompile checks phase offsets, counts and rates of a whole plan.
func TestCompile(t *testing.T) {
	t.Parallel()
	s, err := Load("testdata/good/all-shapes.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p, err := Compile(s)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		name    string
		start   time.Duration
		dur     time.Duration
		planned int64
		rate    float64
	}{
		{"cold", 0, 2 * sec, 20, 10},
		{"ramp", 2 * sec, 10 * sec, 500, 50},
		{"steady", 12 * sec, time.Minute, 6000, 100},
		{"gap", 72 * sec, 15 * sec, 0, 0},
		{"steps", 87 * sec, 15 * sec, 50 + 100 + 3, (10 + 20 + 0.5) / 3}, // 1800/h for 5s: 2.5, so 3
		{"random", 102 * sec, 30 * sec, -1, 25},
	}
	if len(p.Phases) != len(want) || p.Part != 0 || p.Parts != 1 {
		t.Fatalf("plan = %+v", p)
	}
	for i, w := range want {
		ph := p.Phases[i]
		if ph.Name != w.name || ph.Start != w.start || ph.Duration != w.dur || ph.Planned != w.planned || !near(ph.Rate, w.rate) {
			t.Errorf("phase %d = {%s %v %v %d %g}, want %+v", i, ph.Name, ph.Start, ph.Duration, ph.Planned, ph.Rate, w)
		}
	}
	if p.Duration() != 132*sec || p.Planned() != -1 {
		t.Errorf("Duration() = %v, Planned() = %d", p.Duration(), p.Planned())
	}
	if !strings.Contains(p.String(), "steady") {
		t.Errorf("String() = %q", p.String())
	}
}

func near(a, b float64) bool { return a == b || (a-b)*(a-b) < 1e-18*(a*a+b*b) }

// TestCompileShare checks that shares of a plan add up to the whole, that
// poisson parts get their own streams, and that bad parts are refused.
func TestCompileShare(t *testing.T) {
	t.Parallel()
	s, err := Load("testdata/good/all-shapes.yaml")
	if err != nil {
		t.Fatal(err)
	}
	whole, _ := Compile(s)
	const parts = 3
	sums := make([]int64, len(whole.Phases))
	var firstPoisson []time.Duration
	for i := range parts {
		p, err := CompileShare(s, i, parts)
		if err != nil {
			t.Fatal(err)
		}
		if p.Part != i || p.Parts != parts {
			t.Errorf("share %d: Part %d, Parts %d", i, p.Part, p.Parts)
		}
		for j, ph := range p.Phases {
			sums[j] += ph.Planned
			if ph.Start != whole.Phases[j].Start || ph.Duration != whole.Phases[j].Duration {
				t.Errorf("share %d phase %s at %v for %v", i, ph.Name, ph.Start, ph.Duration)
			}
		}
		at, _ := p.Phases[5].Schedule.At(0)
		firstPoisson = append(firstPoisson, at)
	}
	for j, ph := range whole.Phases {
		if ph.Planned >= 0 && sums[j] != ph.Planned {
			t.Errorf("phase %s: shares plan %d, the whole %d", ph.Name, sums[j], ph.Planned)
		}
	}
	if firstPoisson[0] == firstPoisson[1] || firstPoisson[1] == firstPoisson[2] {
		t.Errorf("poisson shares share a stream: first arrivals %v", firstPoisson)
	}
	for _, bad := range [][2]int{{0, 0}, {-1, 2}, {2, 2}} {
		if _, err := CompileShare(s, bad[0], bad[1]); err == nil {
			t.Errorf("CompileShare(part %d of %d) succeeded", bad[0], bad[1])
		}
	}
	if _, err := Compile(&Scenario{Name: "invalid"}); err == nil {
		t.Error("Compile(invalid) succeeded")
	}
}
