package scenarios

import (
	"cmp"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coldbench/coldbench/drivers"
	"github.com/coldbench/coldbench/scenarios/replay"
)

// traceFns is a small trace: three functions over three minutes.
var traceFns = []replay.Function{
	{Owner: "o1", App: "a1", Hash: "f1", Trigger: "http", Counts: []uint32{3, 0, 5}},
	{Owner: "o1", App: "a1", Hash: "f2", Trigger: "timer", Counts: []uint32{1, 4, 1}},
	{Owner: "o2", App: "a2", Hash: "f3", Trigger: "queue", Counts: []uint32{0, 7, 2}},
}

// writeTrace writes fns as an Azure invocation-count file of minutes
// minutes into dir and returns its name.
func writeTrace(t *testing.T, dir string, minutes int, fns []replay.Function) string {
	t.Helper()
	f, err := os.Create(filepath.Join(dir, "invocations.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := replay.WriteAzure(f, minutes, fns); err != nil {
		t.Fatal(err)
	}
	return "invocations.csv"
}

// parseIn writes a scenario into dir and parses it from there.
func parseIn(t *testing.T, dir, text string) (*Scenario, error) {
	t.Helper()
	p := filepath.Join(dir, "scenario.yaml")
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return Parse(p, []byte(text))
}

func traceScenario(azure string) string {
	return fmt.Sprintf("name: t\ntarget: {driver: fake}\nphases:\n  - name: trace\n    azure_trace: {%s}\n", azure)
}

// hit is one arrival of a replay: when, and which function it names.
type hit struct {
	t  time.Duration
	fn string
}

// hits walks a share's schedule to its end.
func hits(t *testing.T, pp PlannedPhase) []hit {
	t.Helper()
	var out []hit
	rq := pp.Schedule.(Requester)
	for n := uint64(0); ; n++ {
		at, ok := pp.Schedule.At(n)
		if !ok {
			break
		}
		if at >= pp.Duration || (len(out) > 0 && at < out[len(out)-1].t) {
			t.Fatalf("arrival %d at %v: after the phase (%v) or before the one before", n, at, pp.Duration)
		}
		out = append(out, hit{at, rq.Request(n).Header[DefaultFunctionHeader]})
	}
	if int64(len(out)) != pp.Planned {
		t.Fatalf("%d arrivals, planned %d", len(out), pp.Planned)
	}
	return out
}

// TestAzureTraceCounts: for each spread, minute m of the compressed trace
// holds exactly the trace's counts of minute m for each function, and the
// phase lasts the minutes over the speedup.
func TestAzureTraceCounts(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := writeTrace(t, dir, 3, traceFns)
	for _, spread := range Spreads {
		t.Run(string(spread), func(t *testing.T) {
			s, err := parseIn(t, dir, traceScenario(fmt.Sprintf("file: %s, speedup: 60, spread: %s", file, spread)))
			if err != nil {
				t.Fatal(err)
			}
			plan, err := Compile(s)
			if err != nil {
				t.Fatal(err)
			}
			pp := plan.Phases[0]
			if pp.Duration != 3*time.Second || pp.Planned != 23 {
				t.Fatalf("duration %v, planned %d; want 3s, 23", pp.Duration, pp.Planned)
			}
			got := map[string][]uint32{}
			for _, h := range hits(t, pp) {
				if got[h.fn] == nil {
					got[h.fn] = make([]uint32, 3)
				}
				got[h.fn][h.t/time.Second]++
			}
			for _, f := range traceFns {
				if !slices.Equal(got[f.Hash], f.Counts) {
					t.Errorf("%s: per minute %v, want %v", f.Hash, got[f.Hash], f.Counts)
				}
			}
		})
	}
}

// TestAzureTraceEquidistant: the k-th of c invocations sits in the middle
// of the k-th of c slots of its minute.
func TestAzureTraceEquidistant(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := writeTrace(t, dir, 2, []replay.Function{{Owner: "o", App: "a", Hash: "f", Counts: []uint32{4, 1}}})
	s, err := parseIn(t, dir, traceScenario("file: "+file+", speedup: 60"))
	if err != nil {
		t.Fatal(err)
	}
	plan, err := Compile(s)
	if err != nil {
		t.Fatal(err)
	}
	var got []time.Duration
	for _, h := range hits(t, plan.Phases[0]) {
		got = append(got, h.t)
	}
	ms := time.Millisecond
	if want := []time.Duration{125 * ms, 375 * ms, 625 * ms, 875 * ms, 1500 * ms}; !slices.Equal(got, want) {
		t.Errorf("arrivals %v, want %v", got, want)
	}
}

// TestAzureTraceSharesUnion is the splitting property: for 1 to 5 parts
// and every spread, the parts' arrivals together are the whole's, each
// exactly once, and each part's share is as even as a round robin makes
// it.
func TestAzureTraceSharesUnion(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	fns := slices.Clone(traceFns)
	fns = append(fns, replay.Function{Owner: "o3", App: "a3", Hash: "f4", Counts: []uint32{50, 0, 31}})
	file := writeTrace(t, dir, 3, fns)
	for _, spread := range Spreads {
		s, err := parseIn(t, dir, traceScenario(fmt.Sprintf("file: %s, speedup: 120, spread: %s", file, spread)))
		if err != nil {
			t.Fatal(err)
		}
		whole, err := Compile(s)
		if err != nil {
			t.Fatal(err)
		}
		want := hits(t, whole.Phases[0])
		for parts := 1; parts <= 5; parts++ {
			var union []hit
			for part := range parts {
				share, err := CompileShare(s, part, parts)
				if err != nil {
					t.Fatal(err)
				}
				h := hits(t, share.Phases[0])
				if n, w := len(h), len(want)/parts; n < w || n > w+1 {
					t.Errorf("%s, part %d of %d: %d arrivals of %d", spread, part, parts, n, len(want))
				}
				union = append(union, h...)
			}
			slices.SortStableFunc(union, func(a, b hit) int { return cmp.Or(cmp.Compare(a.t, b.t), strings.Compare(a.fn, b.fn)) })
			sorted := slices.Clone(want)
			slices.SortStableFunc(sorted, func(a, b hit) int { return cmp.Or(cmp.Compare(a.t, b.t), strings.Compare(a.fn, b.fn)) })
			if !slices.Equal(union, sorted) {
				t.Errorf("%s, %d parts: the union of the parts (%d) is not the whole (%d)", spread, parts, len(union), len(sorted))
			}
		}
	}
}

// TestAzureTraceSeeds: random spreads repeat for a seed and change with
// it; exponential gaps vary like a Poisson process's (coefficient of
// variation 1), uniform ones less (1/√3).
func TestAzureTraceSeeds(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := writeTrace(t, dir, 1, []replay.Function{{Owner: "o", App: "a", Hash: "f", Counts: []uint32{20000}}})
	times := func(spread Spread, seed int) []time.Duration {
		s, err := parseIn(t, dir, fmt.Sprintf("seed: %d\n", seed)+traceScenario("file: "+file+", spread: "+string(spread)))
		if err != nil {
			t.Fatal(err)
		}
		plan, err := Compile(s)
		if err != nil {
			t.Fatal(err)
		}
		var out []time.Duration
		for _, h := range hits(t, plan.Phases[0]) {
			out = append(out, h.t)
		}
		return out
	}
	for _, tt := range []struct {
		spread Spread
		cv     float64
	}{{Exponential, 1}, {Uniform, 1 / math.Sqrt(3)}} {
		a, b, c := times(tt.spread, 7), times(tt.spread, 7), times(tt.spread, 8)
		if !slices.Equal(a, b) {
			t.Errorf("%s: seed 7 twice gives different arrivals", tt.spread)
		}
		if slices.Equal(a, c) {
			t.Errorf("%s: seeds 7 and 8 give the same arrivals", tt.spread)
		}
		var sum, sq float64
		for i := 1; i < len(a); i++ {
			g := float64(a[i] - a[i-1])
			sum += g
			sq += g * g
		}
		n := float64(len(a) - 1)
		mean := sum / n
		cv := math.Sqrt(sq/n-mean*mean) / mean
		if math.Abs(cv-tt.cv) > 0.05 {
			t.Errorf("%s: gaps' coefficient of variation %.3f, want %.3f ± 0.05", tt.spread, cv, tt.cv)
		}
	}
}

// TestAzureTraceSelect: functions, top and rank choose what is replayed,
// and the minute range cuts the trace.
func TestAzureTraceSelect(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := writeTrace(t, dir, 3, traceFns)
	tests := []struct {
		opts    string
		dur     time.Duration
		planned int64
		fns     []string
	}{
		// Totals are f1 8, f2 6, f3 9.
		{"functions: [f2]", 3 * time.Second, 6, []string{"f2"}},
		{"top: 2", 3 * time.Second, 17, []string{"f1", "f3"}},
		{"rank: 2", 3 * time.Second, 8, []string{"f1"}},
		// Minutes 2 and 3 only: f3 leads with 9, then f1 and f2 tie at 5.
		{"rank: 2, start: 2", 2 * time.Second, 5, []string{"f1"}},
		{"start: 2, end: 2", time.Second, 11, []string{"f2", "f3"}},
	}
	for _, tt := range tests {
		s, err := parseIn(t, dir, traceScenario("file: "+file+", speedup: 60, "+tt.opts))
		if err != nil {
			t.Fatalf("%s: %v", tt.opts, err)
		}
		plan, err := Compile(s)
		if err != nil {
			t.Fatal(err)
		}
		pp := plan.Phases[0]
		var fns []string
		for _, h := range hits(t, pp) {
			if !slices.Contains(fns, h.fn) {
				fns = append(fns, h.fn)
			}
		}
		slices.Sort(fns)
		if pp.Duration != tt.dur || pp.Planned != tt.planned || !slices.Equal(fns, tt.fns) {
			t.Errorf("%s: %v, %d planned, functions %v; want %v, %d, %v", tt.opts, pp.Duration, pp.Planned, fns, tt.dur, tt.planned, tt.fns)
		}
	}
}

// TestRequestLogCompile: a log replays at its own timing over the speedup,
// each arrival carrying its request, and the parts split it exactly.
func TestRequestLogCompile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	log := `{"timestamp": "2019-07-18T10:00:01Z", "method": "POST", "path": "/b", "body": "x"}
{"timestamp": "2019-07-18T10:00:00Z", "path": "/a"}
{"timestamp": "2019-07-18T10:00:03Z", "headers": {"X-K": "v"}}
`
	if err := os.WriteFile(filepath.Join(dir, "requests.jsonl"), []byte(log), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := parseIn(t, dir, "name: t\ntarget: {driver: fake}\nphases:\n  - name: log\n    request_log: {file: requests.jsonl, speedup: 2}\n")
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, "requests.jsonl"); s.Phases[0].RequestLog.File != want {
		t.Errorf("file %q, want it resolved to %q", s.Phases[0].RequestLog.File, want)
	}
	for parts := 1; parts <= 3; parts++ {
		var at []time.Duration
		var reqs []drivers.Request
		for part := range parts {
			plan, err := CompileShare(s, part, parts)
			if err != nil {
				t.Fatal(err)
			}
			pp := plan.Phases[0]
			if pp.Duration != 1501*time.Millisecond {
				t.Errorf("duration %v, want 1.501s (the last request at 1.5s, and a millisecond)", pp.Duration)
			}
			rq := pp.Schedule.(Requester)
			for n := uint64(0); ; n++ {
				a, ok := pp.Schedule.At(n)
				if !ok {
					break
				}
				at = append(at, a)
				reqs = append(reqs, *rq.Request(n))
			}
		}
		order := []int{0, 1, 2}
		slices.SortFunc(order, func(i, j int) int { return cmp.Compare(at[i], at[j]) })
		want := []struct {
			at     time.Duration
			method string
			path   string
		}{{0, "", "/a"}, {500 * time.Millisecond, "POST", "/b"}, {1500 * time.Millisecond, "", ""}}
		if len(at) != 3 {
			t.Fatalf("%d parts: %d arrivals, want 3", parts, len(at))
		}
		for i, w := range want {
			got, r := at[order[i]], reqs[order[i]]
			if got != w.at || r.Method != w.method || r.Path != w.path {
				t.Errorf("%d parts, request %d: %v %s %s; want %v %s %s", parts, i, got, r.Method, r.Path, w.at, w.method, w.path)
			}
		}
		if r := reqs[order[2]]; r.Header["X-K"] != "v" || r.Body != nil || string(reqs[order[1]].Body) != "x" {
			t.Errorf("%d parts: headers or bodies lost: %+v", parts, reqs)
		}
	}
}

// TestReplayErrors: options, and problems inside the trace or log file,
// are reported at the scenario's file:line:column and field, and an error
// inside the file names that file's line and column.
func TestReplayErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := writeTrace(t, dir, 3, traceFns)
	bad := "HashOwner,HashApp,HashFunction,Trigger,1,2\no,a,f,http,1,2\no,a,g,http,1,two\n"
	if err := os.WriteFile(filepath.Join(dir, "bad.csv"), []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "bad.jsonl"), []byte("{\"timestamp\": 1}\n{\"timestamp\": 2, \"path\": \"x\"}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, phase, want string // want: the error after the scenario path
	}{
		{"malformed row", "azure_trace: {file: bad.csv}",
			":5:25: phases[0].azure_trace.file: " + filepath.Join(dir, "bad.csv") + `:3: column 6 (minute 2): invalid count "two": want a whole number of invocations`},
		{"malformed log entry", "request_log: {file: bad.jsonl}",
			":5:25: phases[0].request_log.file: " + filepath.Join(dir, "bad.jsonl") + `:2: path: "x": want a path starting with / (and a query), without spaces`},
		{"no file", "azure_trace: {speedup: 2}", ":5:18: phases[0].azure_trace.file: is required: a path relative to the scenario file"},
		{"missing file", "azure_trace: {file: nope.csv}", ":5:25: phases[0].azure_trace.file: stat " + filepath.Join(dir, "nope.csv") + ": no such file or directory"},
		{"two selections", "azure_trace: {file: " + file + ", top: 2, rank: 1}", ":5:56: phases[0].azure_trace.rank: the trace already selects by top; choose one of functions, top and rank"},
		{"bad spread", "azure_trace: {file: " + file + ", spread: poisson}", ":5:50: phases[0].azure_trace.spread: unknown spread \"poisson\" (want equidistant, uniform or exponential)"},
		{"bad speedup", "azure_trace: {file: " + file + ", speedup: -1}", ":5:51: phases[0].azure_trace.speedup: must be a positive number up to 1e+06, got -1"},
		{"start after end", "azure_trace: {file: " + file + ", start: 3, end: 2}", ":5:49: phases[0].azure_trace.start: minute 3 is after the end minute 2"},
		{"end beyond", "azure_trace: {file: " + file + ", end: 4}", ":5:25: phases[0].azure_trace.file: " + filepath.Join(dir, file) + ":1: header: the trace has 3 minutes; minute 4 is beyond it"},
		{"unknown hash", "azure_trace: {file: " + file + ", functions: [f9]}", ":5:25: phases[0].azure_trace.file: " + filepath.Join(dir, file) + `: no function with hash "f9"`},
		{"short duration", "duration: 2s\n    azure_trace: {file: " + file + ", speedup: 60}", ":5:15: phases[0].duration: 2s is shorter than the replay (3s); leave it out to take the replay's length"},
		{"unknown option", "azure_trace: {file: " + file + ", speedupp: 2}", ":5:42: phases[0].azure_trace.speedupp: unknown field \"speedupp\" (did you mean \"speedup\"?)"},
		{"bad format", "request_log: {file: bad.jsonl, format: xml}", ":5:44: phases[0].request_log.format: unknown format \"xml\" (want csv or jsonl)"},
		{"two shapes", "rate: 5\n    azure_trace: {file: " + file + "}", ":6:18: phases[0].azure_trace: the phase already has rate; a phase has exactly one arrival shape"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseIn(t, dir, "name: t\ntarget: {driver: fake}\nphases:\n  - name: p\n    "+tt.phase+"\n")
			want := filepath.Join(dir, "scenario.yaml") + tt.want
			if err == nil || err.Error() != want {
				t.Fatalf("got %v\nwant %s", err, want)
			}
		})
	}
}

// TestReplayDurationGiven: a duration longer than the replay pads the
// phase with quiet time.
func TestReplayDurationGiven(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := writeTrace(t, dir, 3, traceFns)
	s, err := parseIn(t, dir, "name: t\ntarget: {driver: fake}\nphases:\n  - name: p\n    duration: 5s\n    azure_trace: {file: "+file+", speedup: 60}\n  - {name: q, duration: 1s, rate: 1}\n")
	if err != nil {
		t.Fatal(err)
	}
	plan, err := Compile(s)
	if err != nil {
		t.Fatal(err)
	}
	if pp := plan.Phases[0]; pp.Duration != 5*time.Second || pp.Planned != 23 || plan.Phases[1].Start != 5*time.Second {
		t.Errorf("phase %v with %d planned, next at %v; want 5s, 23, 5s", pp.Duration, pp.Planned, plan.Phases[1].Start)
	}
}

// TestReplayPeak: an agent's rate cap sees a trace's busiest compressed
// minute and a log's busiest second.
func TestReplayPeak(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := writeTrace(t, dir, 3, traceFns) // minutes of 4, 11 and 8 invocations
	log := "timestamp\n0\n0.5\n0.9\n1.2\n5\n"
	if err := os.WriteFile(filepath.Join(dir, "log.csv"), []byte(log), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		phase string
		want  float64
	}{
		{"azure_trace: {file: " + file + ", speedup: 60}", 11},
		{"azure_trace: {file: " + file + ", speedup: 30}", 5.5},
		{"request_log: {file: log.csv}", 3},             // 0, 0.5 and 0.9 (or 0.5, 0.9, 1.2)
		{"request_log: {file: log.csv, speedup: 5}", 4}, // 0 to 0.24 s
	} {
		s, err := parseIn(t, dir, "name: t\ntarget: {driver: fake}\nphases:\n  - name: p\n    "+tt.phase+"\n")
		if err != nil {
			t.Fatal(err)
		}
		if got := s.Phases[0].ReplayPeak(s.File); math.Abs(got-tt.want) > 1e-9 {
			t.Errorf("%s: peak %g/s, want %g/s", tt.phase, got, tt.want)
		}
	}
}
