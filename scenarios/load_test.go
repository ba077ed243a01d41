package scenarios

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// ok is a valid scenario for the fake driver; rows below vary it.
const ok = `name: t
target: {driver: fake}
phases:
  - name: a
    duration: 1s
    rate: 10
`

// TestParseErrors checks each kind of error: where it is reported
// (line:column), on which field, and what it says.
func TestParseErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		yaml  string
		pos   string // "line:col"
		field string
		msg   string // a substring of the message
	}{
		// Unknown fields: suggest a close name, else list the known ones.
		{"unknown top-level field, close", "nmae: t\n" + ok[8:], "1:1", "nmae", `did you mean "name"`},
		{"unknown phase field, close", "name: t\ntarget: {driver: fake}\nphases:\n  - name: a\n    duration: 1s\n    ratee: 10\n", "6:5", "phases[0].ratee", `did you mean "rate"`},
		{"unknown field, not close", ok + "colour: red\n", "7:1", "colour", "known: name, description, target"},
		{"unknown ramp field", "name: t\ntarget: {driver: fake}\nphases:\n  - name: a\n    duration: 1s\n    ramp: {from: 1, too: 5}\n", "6:21", "phases[0].ramp.too", `did you mean "to"`},

		// Wrong types.
		{"string for an integer", strings.Replace(ok, "name: t\n", "name: t\nmax_in_flight: lots\n", 1), "2:16", "max_in_flight", `expected an integer, got string "lots"`},
		{"string for a list", "name: t\ntarget: {driver: fake}\nphases: warm\n", "3:9", "phases", `expected a list, got string "warm"`},
		{"list for a mapping", "name: t\ntarget: [fake]\nphases: []\n", "2:9", "target", "expected a mapping with driver: and its settings, got a list"},
		{"mapping for a string", "name: {first: t}\n" + ok[8:], "1:7", "name", "expected a string, got a mapping"},
		{"number for a bool", strings.Replace(ok, "rate: 10", "idle: 1", 1), "6:11", "phases[0].idle", "expected true or false, got number 1"},
		{"scalar for a list of headers", ok + "cold: {headers: X-Cold}\n", "7:17", "cold.headers", "expected a list"},
		{"fraction for an integer", ok + "max_in_flight: 2.5\n", "7:16", "max_in_flight", "expected an integer, got number 2.5"},

		// Durations.
		{"zero duration", strings.Replace(ok, "1s", "0s", 1), "5:15", "phases[0].duration", "must be positive, got 0s"},
		{"negative duration", strings.Replace(ok, "1s", "-5s", 1), "5:15", "phases[0].duration", "must be positive, got -5s"},
		{"invalid duration string", strings.Replace(ok, "1s", "5 minutes", 1), "5:15", "phases[0].duration", `want a Go duration such as "250ms"`},
		{"bare number duration", strings.Replace(ok, "1s", "30", 1), "5:15", "phases[0].duration", `a number needs a unit, such as "30s"`},
		{"quoted bare number duration", strings.Replace(ok, "1s", `"30"`, 1), "5:15", "phases[0].duration", `such as "30s"`},
		{"mapping for a duration", strings.Replace(ok, "1s", "{s: 1}", 1), "5:15", "phases[0].duration", "expected a duration"},
		{"phase too long", strings.Replace(ok, "1s", "10000h", 1), "5:15", "phases[0].duration", "longer than the maximum"},

		// Missing required fields: reported at the enclosing mapping.
		{"missing name", ok[8:], "1:1", "name", "is required"},
		{"missing driver", "name: t\ntarget: {url: x}\nphases: [{name: a, duration: 1s, rate: 1}]\n", "2:9", "target.driver", "is required (known drivers: fake"},
		{"missing target", "name: t\nphases: [{name: a, duration: 1s, rate: 1}]\n", "1:1", "target.driver", "is required"},
		{"missing phases", "name: t\ntarget: {driver: fake}\n", "1:1", "phases", "at least one phase is required"},
		{"empty phases", "name: t\ntarget: {driver: fake}\nphases: []\n", "3:9", "phases", "at least one phase is required"},
		{"missing phase name", "name: t\ntarget: {driver: fake}\nphases:\n  - duration: 1s\n    rate: 10\n", "4:5", "phases[0].name", "is required"},
		{"missing phase duration", "name: t\ntarget: {driver: fake}\nphases:\n  - name: a\n    rate: 10\n", "4:5", "phases[0].duration", `is required, such as "30s"`},

		// Arrival shapes.
		{"no arrival shape", "name: t\ntarget: {driver: fake}\nphases:\n  - name: a\n    duration: 1s\n", "4:5", "phases[0]", "no arrival shape"},
		{"two arrival shapes", ok + "    burst: {requests: 5}\n", "7:12", "phases[0].burst", "already has rate"},
		{"null shape is no shape", strings.Replace(ok, "rate: 10", "rate:", 1), "4:5", "phases[0]", "no arrival shape"},

		// Rates.
		{"rate zero", strings.Replace(ok, "rate: 10", "rate: 0", 1), "6:11", "phases[0].rate", "must be positive, got 0/s"},
		{"rate negative string", strings.Replace(ok, "rate: 10", `rate: "-5/s"`, 1), "6:11", "phases[0].rate", "must be positive, got -5/s"},
		{"rate bad unit", strings.Replace(ok, "rate: 10", "rate: 5/ms", 1), "6:11", "phases[0].rate", `unit "ms" is not s, m or h`},
		{"rate not a number", strings.Replace(ok, "rate: 10", "rate: fast", 1), "6:11", "phases[0].rate", `invalid rate "fast": want a number (per second) or a string such as "100/s"`},
		{"rate infinite", strings.Replace(ok, "rate: 10", "rate: .inf", 1), "6:11", "phases[0].rate", "must be a finite number"},
		{"rate list", strings.Replace(ok, "rate: 10", "rate: [10]", 1), "6:11", "phases[0].rate", "expected a rate"},
		{"rate too high", strings.Replace(ok, "rate: 10", "rate: 1e12", 1), "6:11", "phases[0].rate", "above the maximum"},
		{"poisson zero", strings.Replace(ok, "rate: 10", "poisson: 0/m", 1), "6:14", "phases[0].poisson", "must be positive"},
		{"ramp from 0 to 0", strings.Replace(ok, "rate: 10", "ramp: {from: 0, to: 0}", 1), "6:11", "phases[0].ramp", "from 0 to 0 sends nothing"},
		{"ramp to negative", strings.Replace(ok, "rate: 10", "ramp: {from: 10, to: -1}", 1), "6:26", "phases[0].ramp.to", "must not be negative"},
		{"ramp from negative", strings.Replace(ok, "rate: 10", "ramp: {from: -1/s, to: 5}", 1), "6:18", "phases[0].ramp.from", "must not be negative"},
		{"ramp missing to", strings.Replace(ok, "rate: 10", "ramp: {from: 10}", 1), "6:11", "phases[0].ramp.to", "is required"},

		// Bursts.
		{"burst zero requests", strings.Replace(ok, "rate: 10", "burst: {requests: 0}", 1), "6:23", "phases[0].burst.requests", "must be positive"},
		{"burst missing requests", strings.Replace(ok, "rate: 10", "burst: {within: 1s}", 1), "6:12", "phases[0].burst.requests", "is required"},
		{"burst within longer than phase", strings.Replace(ok, "rate: 10", "burst: {requests: 5, within: 2s}", 1), "6:34", "phases[0].burst.within", "2s is longer than the phase (1s)"},
		{"burst negative within", strings.Replace(ok, "rate: 10", "burst: {requests: 5, within: -1s}", 1), "6:34", "phases[0].burst.within", "must not be negative"},

		// Steps.
		{"steps empty", "name: t\ntarget: {driver: fake}\nphases:\n  - name: a\n    steps: []\n", "5:12", "phases[0].steps", "at least one step"},
		{"step zero rate", "name: t\ntarget: {driver: fake}\nphases:\n  - name: a\n    steps:\n      - {rate: 0, duration: 1s}\n", "6:16", "phases[0].steps[0].rate", "must be positive"},
		{"step missing duration", "name: t\ntarget: {driver: fake}\nphases:\n  - name: a\n    steps:\n      - {rate: 1}\n      - {rate: 2}\n", "7:9", "phases[1-1].steps[1].duration", "is required"},
		{"step not a mapping", "name: t\ntarget: {driver: fake}\nphases:\n  - name: a\n    steps: [10/s]\n", "5:13", "phases[0].steps[0]", "expected a mapping"},
		{"steps disagree with duration", "name: t\ntarget: {driver: fake}\nphases:\n  - name: a\n    duration: 5s\n    steps: [{rate: 1, duration: 2s}]\n", "5:15", "phases[0].duration", "differs from the steps' total 2s"},

		// Phases.
		{"duplicate phase names", ok + "  - name: a\n    duration: 1s\n    idle: true\n", "7:11", "phases[1].name", `duplicate phase name "a" (also phases[0])`},
		{"negative max_in_flight", ok + "max_in_flight: -1\n", "7:16", "max_in_flight", "must not be negative"},
		{"empty list entry", ok + "  -\n", "7:4", "phases[1]", "empty list entry"},
		{"empty cold header", ok + "cold: {headers: [X-Cold, '']}\n", "7:26", "cold.headers[1]", "empty header name"},
		{"cold body names no field", ok + "cold: {body: {}}\n", "7:14", "cold.body", "names no field"},
		{"cold body empty dotted key", ok + "cold: {body: {cold: a..b}}\n", "7:21", "cold.body.cold", `"a..b" has an empty key`},
		{"cold body with a driver that reads no body", ok + "cold: {body: {instance: /id}}\n", "7:14", "cold.body", "driver fake does not read response bodies"},

		// Drivers and their settings.
		{"unknown driver", strings.Replace(ok, "driver: fake", "driver: lambdaa", 1), "2:18", "target.driver", `unknown driver "lambdaa" (known: fake, fakenourl, http`},
		{"unknown driver, close", strings.Replace(ok, "driver: fake", "driver: fak", 1), "2:18", "target.driver", `did you mean "fake"?`},
		{"unknown driver setting, close", strings.Replace(ok, "{driver: fake}", "{driver: fake, retrys: 2}", 1), "2:24", "target.retrys", `did you mean "retries"`},
		{"unknown driver setting lists driver", strings.Replace(ok, "{driver: fake}", "{driver: fake, color: 2}", 1), "2:24", "target.color", "known: url, mode, timeout, retries, headers, tls, driver"},
		{"driver setting wrong type", strings.Replace(ok, "{driver: fake}", "{driver: fake, retries: many}", 1), "2:33", "target.retries", `expected an integer, got string "many"`},
		{"driver setting bare duration", strings.Replace(ok, "{driver: fake}", "{driver: fake, timeout: 5}", 1), "2:33", "target.timeout", `such as "5s"`},
		{"driver nested unknown setting", strings.Replace(ok, "{driver: fake}", "{driver: fake, tls: {ca: x}}", 1), "2:30", "target.tls.ca", "known: ca_file, insecure_skip_verify"},
		{"driver map wrong value type", strings.Replace(ok, "{driver: fake}", "{driver: fake, headers: {A: [1]}}", 1), "2:37", "target.headers.A", "expected a string, got a list"},
		{"driver Validate field error", strings.Replace(ok, "{driver: fake}", "{driver: fake, retries: 50}", 1), "2:33", "target.retries", "50: want 0 to 10"},
		{"driver Validate nested field error", "name: t\ntarget:\n  driver: fake\n  tls:\n    ca_file: ca.crt\n" + ok[31:], "5:14", "target.tls.ca_file", `"ca.crt": want a .pem file`},
		{"driver Validate absent field: at target", strings.Replace(ok, "{driver: fake}", "{driver: fake, mode: strict}", 1), "2:9", "target.url", "is required in strict mode"},
		{"driver Validate plain error: at target", strings.Replace(ok, "{driver: fake}", "{driver: fake, mode: broken}", 1), "2:9", "target", "mode broken is not supported"},

		// YAML itself.
		{"duplicate key", ok + "name: u\n", "7:1", "name", `"name" is set twice (first at line 1)`},
		{"syntax error", "name: t\nphases: [\n", "2:9", "", "invalid YAML"},                                         // the '[' left open
		{"syntax error deep", ok + "  - name: c\n    rate: 10\n    duration: 1s: 2s\n", "9:15", "", "invalid YAML"}, // the value "1s" that a second colon follows
		{"tab indent", "name: t\n\tphases: []\n", "2:1", "", "invalid YAML"},
		{"binary", "name: t\n\x00\x01\x02", "2:1", "", "not a text file: byte 0x00 at offset 8"},
		{"invalid UTF-8", "name: t\x80x\n", "1:8", "", "not a text file: byte 0x80 at offset 7"},
		{"second document", ok + "---\nname: u\n", "7:1", "", "a second YAML document"},
		{"empty file", "", "1:1", "", "empty scenario"},
		{"only a comment", "# nothing\n", "1:1", "", "empty scenario"},
		{"top level is a list", "- a\n", "1:1", "", "expected a mapping, got a list"},
		{"non-string key", ok + "[a]: 1\n", "7:1", "", "a key must be a string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.field = strings.ReplaceAll(tt.field, "[1-1]", "[0]")
			_, err := Parse("t.yaml", []byte(tt.yaml))
			var errs Errors
			if !errors.As(err, &errs) {
				t.Fatalf("Parse() error = %v, want Errors", err)
			}
			for _, e := range errs {
				if fmt.Sprintf("%d:%d", e.Line, e.Column) == tt.pos && e.Field == tt.field && strings.Contains(e.Msg, tt.msg) {
					if !strings.HasPrefix(e.Error(), "t.yaml:") {
						t.Errorf("Error() = %q, want a t.yaml: prefix", e.Error())
					}
					return
				}
			}
			t.Errorf("no error at %s on %q containing %q; got:\n%v", tt.pos, tt.field, tt.msg, err)
		})
	}
}

// TestParseReportsAllErrors checks that one pass reports every problem of a
// file, in file order, each once.
func TestParseReportsAllErrors(t *testing.T) {
	t.Parallel()
	src := `name: many
target:
  driver: fake
  retries: 99
  timout: 1s
max_in_flight: -3
phases:
  - name: a
    duration: 30
    rate: 10
  - name: a
    duration: 1s
    ramp: {from: 0, to: 0}
  - name: c
    duration: 2s
    burst: {requests: -1, within: 3s}
  - name: d
    rate: 5/ms
`
	want := []string{
		`bad.yaml:4:12: target.retries: 99: want 0 to 10`,
		`bad.yaml:5:3: target.timout: unknown field "timout" (did you mean "timeout"?)`,
		`bad.yaml:6:16: max_in_flight: must not be negative, got -3`,
		`bad.yaml:9:15: phases[0].duration: invalid duration 30: a number needs a unit, such as "30s"`,
		`bad.yaml:11:11: phases[1].name: duplicate phase name "a" (also phases[0])`,
		`bad.yaml:13:11: phases[1].ramp: from 0 to 0 sends nothing; use idle: true for a pause`,
		`bad.yaml:16:23: phases[2].burst.requests: must be positive, got -1`,
		`bad.yaml:16:35: phases[2].burst.within: 3s is longer than the phase (2s)`,
		`bad.yaml:17:5: phases[3].duration: is required, such as "30s"`,
		`bad.yaml:18:11: phases[3].rate: invalid rate "5/ms": unit "ms" is not s, m or h; want a number (per second) or a string such as "100/s", "6000/m" or "360000/h"`,
	}
	_, err := Parse("bad.yaml", []byte(src))
	if err == nil {
		t.Fatal("Parse() succeeded")
	}
	got := strings.Split(err.Error(), "\n")
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("Parse() errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestParseManyErrors checks that a file with a great many errors lists
// the first hundred and counts the rest.
func TestParseManyErrors(t *testing.T) {
	t.Parallel()
	src := "name: many\ntarget: {driver: fake}\nphases:\n" + strings.Repeat("  - {name: x, duration: 0s, rate: 0}\n", 200)
	_, err := Parse("many.yaml", []byte(src))
	var errs Errors
	if !errors.As(err, &errs) {
		t.Fatalf("Parse() = %v", err)
	}
	if len(errs) != maxErrors+1 || !strings.HasSuffix(err.Error(), "and 499 more errors") {
		t.Errorf("Parse() gave %d errors, ending %q", len(errs), errs[len(errs)-1])
	}
}

// TestParseGood checks decoding, driver settings over the driver's
// defaults, and the scenario defaults.
func TestParseGood(t *testing.T) {
	t.Parallel()
	src := `name: good
description: all shapes
target:
  driver: fake
  url: http://x
  headers: {A: b}
  tls: {insecure_skip_verify: true}
cold:
  headers: [X-Cold]
  infer: false
base: &base
phases:
  - {name: r, duration: 1s, rate: 6000/m}
  - {name: ramp, duration: 10s, ramp: {from: 0, to: 100}}
  - name: s
    steps: [{rate: 1, duration: 1s}, {rate: "2", duration: 500ms}]
  - {name: b, duration: 1s, burst: {requests: 3}}
  - {name: i, duration: 1m30s, idle: true}
  - {name: p, duration: 2s, poisson: 360000/h}
`
	src = strings.Replace(src, "base: &base\n", "", 1)
	s, err := Parse("good.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	cfg, ok := s.Target.Config.(*fakeConfig)
	if !ok {
		t.Fatalf("Target.Config = %T, want *fakeConfig", s.Target.Config)
	}
	if cfg.URL != "http://x" || cfg.Headers["A"] != "b" || !cfg.TLS.Insecure || cfg.Timeout != 5*time.Second || cfg.Retries != 1 {
		t.Errorf("config = %+v, want settings over the defaults", cfg)
	}
	if s.File != "good.yaml" || s.MaxInFlight != DefaultMaxInFlight || s.Seed != DefaultSeed || s.Cold.InferEnabled() {
		t.Errorf("scenario = %+v", s)
	}
	if r := *s.Phases[0].Rate; r != 100 {
		t.Errorf("rate 6000/m = %v, want 100/s", r)
	}
	if r := s.Phases[2].Steps[1].Rate; r != 2 {
		t.Errorf(`rate "2" = %v, want 2/s`, r)
	}
	if r := *s.Phases[5].Poisson; r != 100 {
		t.Errorf("rate 360000/h = %v, want 100/s", r)
	}
	if d := time.Duration(s.Phases[4].Duration); d != 90*time.Second {
		t.Errorf("duration 1m30s = %v", d)
	}
}

// TestParseMergeAndAliases checks that anchors, aliases and merge keys work,
// and that explicit keys win over merged ones.
func TestParseMergeAndAliases(t *testing.T) {
	t.Parallel()
	src := `name: merge
target: {driver: fake}
phases:
  - &warm {name: warm, duration: 2s, rate: 10}
  - <<: *warm
    name: warm2
    rate: 20
`
	s, err := Parse("m.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if p := s.Phases[1]; p.Name != "warm2" || *p.Rate != 20 || p.Duration != Duration(2*time.Second) {
		t.Errorf("merged phase = %+v", p)
	}
}

// TestValidateGoScenario checks Validate on a scenario built in Go: field
// paths, no positions.
func TestValidateGoScenario(t *testing.T) {
	t.Parallel()
	r := Rate(-1)
	s := &Scenario{
		Name:   "go",
		Target: Target{Driver: "fake", Config: &fakeConfig{Timeout: time.Second, Retries: 20}},
		Phases: []Phase{{Name: "a", Duration: Duration(time.Second), Rate: &r}, {Name: "b", Ramp: &Ramp{To: 5}}},
	}
	want := "target.retries: 20: want 0 to 10\nphases[0].rate: must be positive, got -1/s\nphases[1].duration: must be positive, got 0s"
	if err := s.Validate(); err == nil || err.Error() != want {
		t.Errorf("Validate() = %v, want\n%s", err, want)
	}
	s.Target.Config = &noURLConfig{}
	if err := s.Validate(); err == nil || !strings.Contains(err.Error(), "target: config is *scenarios.noURLConfig, but driver fake wants *scenarios.fakeConfig") {
		t.Errorf("Validate() with a wrong config type = %v", err)
	}
	good := &Scenario{Name: "go", Target: Target{Driver: "fake"}, Phases: []Phase{{Name: "i", Duration: Duration(time.Second), Idle: true}}}
	if err := good.Validate(); err != nil {
		t.Errorf("Validate() = %v", err)
	}
	good.SetDefaults()
	if _, ok := good.Target.Config.(*fakeConfig); !ok || good.Seed != 1 || good.MaxInFlight != 1000 {
		t.Errorf("SetDefaults() = %+v", good)
	}
}

// TestSetTarget checks the --target override both ways.
func TestSetTarget(t *testing.T) {
	t.Parallel()
	s, err := Parse("t.yaml", []byte(ok))
	if err != nil {
		t.Fatal(err)
	}
	if err := SetTarget(s, "https://fn.example/run"); err != nil {
		t.Fatal(err)
	}
	if s.Target.Driver != "fake" || s.Target.Config.(*fakeConfig).URL != "https://fn.example/run" {
		t.Errorf("URLSetter target = %+v", s.Target)
	}
	// The override is kept beside the source, which stays as parsed: an
	// agent in another process gets both and applies it the same way.
	if s.TargetURL != "https://fn.example/run" || string(s.Source) != ok {
		t.Errorf("after SetTarget: TargetURL %q, source changed %v", s.TargetURL, string(s.Source) != ok)
	}
	if err := SetTarget(s, "nonsense"); err == nil {
		t.Error("SetTarget(nonsense) succeeded; want the driver's error")
	}
	if s.TargetURL != "https://fn.example/run" {
		t.Errorf("a refused SetTarget recorded TargetURL %q", s.TargetURL)
	}
	s.Target = Target{Driver: "fakenourl"}
	if err := SetTarget(s, "https://fn.example/run"); err != nil {
		t.Fatal(err)
	}
	if s.Target.Driver != "http" || s.Target.Config == nil {
		t.Errorf("switched target = %+v, want the http driver", s.Target)
	}
}

// TestLoad checks files, built-in names and the error for neither.
func TestLoad(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "s.yaml")
	if err := os.WriteFile(path, []byte(ok), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := Load(path)
	if err != nil || s.File != path {
		t.Fatalf("Load(file) = %v, %v", s, err)
	}
	_, err = Load("no-such-scenario")
	if err == nil || !strings.Contains(err.Error(), "built-ins: demo, plan-demo, smoke") {
		t.Errorf("Load(unknown) = %v, want the list of built-ins", err)
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing.yaml")); err == nil {
		t.Error("Load(missing file) succeeded")
	}
}

// TestBuiltins checks that every built-in is listed, described, loads
// strictly against its driver's settings, and fits its time budget.
func TestBuiltins(t *testing.T) {
	t.Parallel()
	bs := Builtins()
	var names []string
	for _, b := range bs {
		names = append(names, b.Name)
		if b.Description == "" {
			t.Errorf("built-in %s has no description", b.Name)
		}
	}
	if strings.Join(names, ",") != "demo,plan-demo,smoke,tune-demo" {
		t.Fatalf("Builtins() = %v", names)
	}
	budget := map[string][2]time.Duration{"smoke": {5 * time.Second, 13 * time.Second}, "demo": {40 * time.Second, 60 * time.Second},
		"tune-demo": {2 * time.Second, 5 * time.Second}, // phases per setting; coldbench demo sweeps 12
		"plan-demo": {5 * time.Second, 5 * time.Second}} // coldbench plan ramps its capacity: block instead
	for _, b := range bs {
		s, err := Load(b.Name)
		if err != nil {
			t.Errorf("Load(%s): %v", b.Name, err)
			continue
		}
		if s.File != "builtin:"+b.Name || s.Target.Driver != "sim" {
			t.Errorf("%s: File %q, driver %q", b.Name, s.File, s.Target.Driver)
		}
		p, err := Compile(s)
		if err != nil {
			t.Errorf("Compile(%s): %v", b.Name, err)
			continue
		}
		if d := p.Duration(); d < budget[b.Name][0] || d > budget[b.Name][1] {
			t.Errorf("%s lasts %s, want %s to %s", b.Name, d, budget[b.Name][0], budget[b.Name][1])
		}
	}
}
