package main

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coldbench/coldbench/scenarios"
	"github.com/coldbench/coldbench/scenarios/replay"
)

// writeAzureTrace generates a small Azure Functions invocation-count file
// into a temporary directory and returns the directory.
func writeAzureTrace(t *testing.T, minutes int, fns []replay.Function) string {
	t.Helper()
	dir := t.TempDir()
	f, err := os.Create(filepath.Join(dir, "invocations.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if err := replay.WriteAzure(f, minutes, fns); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return dir
}

// recorder is an HTTP target that keeps every request it receives.
type recorder struct {
	URL string
	mu  sync.Mutex
	got []recorded
}

type recorded struct {
	at     time.Time
	method string
	uri    string
	header http.Header
	body   string
}

func newRecorder(t *testing.T) *recorder {
	t.Helper()
	rec := &recorder{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		at := time.Now()
		body, _ := io.ReadAll(r.Body)
		rec.mu.Lock()
		rec.got = append(rec.got, recorded{at, r.Method, r.RequestURI, r.Header.Clone(), string(body)})
		rec.mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	rec.URL = srv.URL
	return rec
}

func (rec *recorder) requests() []recorded {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return slices.Clone(rec.got)
}

// TestAzureTraceReplay replays a generated two-minute trace of three
// functions at speedup 30 (a trace minute lasts 2 s) through `coldbench
// run`, on its own and split over two agents. The target counts arrivals
// per function (by the X-Coldbench-Function header) and per compressed
// minute (from the phase start in the run record): the counts are exactly
// the trace's. The spread is equidistant, so each arrival is due at least
// 2 s / (2·4) = 250 ms before its minute ends: the slack for a busy
// machine's lateness.
func TestAzureTraceReplay(t *testing.T) {
	fns := []replay.Function{
		{Owner: "o1", App: "a1", Hash: "f1", Trigger: "http", Counts: []uint32{3, 1}},
		{Owner: "o1", App: "a1", Hash: "f2", Trigger: "timer", Counts: []uint32{0, 4}},
		{Owner: "o2", App: "a2", Hash: "f3", Trigger: "queue", Counts: []uint32{2, 2}},
		{Owner: "o2", App: "a2", Hash: "f4", Trigger: "http", Counts: []uint32{0, 0}},
	}
	const speedup, minute = 30, 2 * time.Second
	dir := writeAzureTrace(t, 2, fns)
	tests := []struct {
		name   string
		agents []string // loopback hosts for agents; none runs locally
	}{
		{"local", nil},
		{"two agents", []string{"127.0.0.30", "127.0.0.31"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tg := newRecorder(t)
			p := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "-")+".yaml")
			scen := fmt.Sprintf(`
name: azure
target: {driver: http, url: %q, timeout: 5s}
cold: {infer: false}
phases:
  - name: trace
    azure_trace: {file: invocations.csv, top: 3, speedup: %d}
`, tg.URL+"/fn", speedup)
			if err := os.WriteFile(p, []byte(scen), 0o644); err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(t.TempDir(), "run")
			args := []string{"run", p, "--out", out, "--quiet"}
			if len(tt.agents) > 0 {
				var agents []*agentProc
				for _, h := range tt.agents {
					agents = append(agents, startAgent(t, h, "--insecure"))
				}
				args = append(args, "--agents", agentAddrs(agents...), "--insecure")
			}
			text, code := coldbench(t, args...)
			if code != 0 {
				t.Fatalf("exit %d:\n%s", code, text)
			}
			r := loadRun(t, out)
			ph := r.Phases[0]
			if ph.Planned != 12 || r.Totals.Requests != 12 || ph.PlannedDurationS != 4 {
				t.Errorf("planned %d over %gs, %d requests; want 12 over 4s, 12", ph.Planned, ph.PlannedDurationS, r.Totals.Requests)
			}
			if len(tt.agents) > 0 && len(r.Agents) != len(tt.agents) {
				t.Errorf("%d agents in the record, want %d", len(r.Agents), len(tt.agents))
			}
			for _, a := range r.Agents {
				if a.Requests != 12/int64(len(r.Agents)) {
					t.Errorf("agent %s sent %d requests, want %d (every other invocation)", a.Name, a.Requests, 12/len(r.Agents))
				}
			}
			got := map[string][]uint32{}
			var late time.Duration
			for _, q := range tg.requests() {
				fn := q.header.Get(scenarios.DefaultFunctionHeader)
				off := q.at.Sub(ph.StartedAt)
				m := int(off / minute)
				if got[fn] == nil {
					got[fn] = make([]uint32, 3) // a third minute would be an error
				}
				got[fn][min(max(m, 0), 2)]++
				if off < 0 {
					t.Errorf("%s arrived %v before the phase start", fn, -off)
				}
				late = max(late, off)
			}
			for _, f := range fns[:3] {
				if want := append(slices.Clone(f.Counts), 0); !slices.Equal(got[f.Hash], want) {
					t.Errorf("%s: per minute %v, want %v", f.Hash, got[f.Hash], want)
				}
			}
			if _, ok := got["f4"]; ok || len(got) != 3 {
				t.Errorf("functions seen %v; want f1, f2, f3 (the top 3)", got)
			}
			t.Logf("last arrival %v after the phase start", late)
		})
	}
}

// TestRequestLogReplay replays a CSV request log at speedup 2 through
// `coldbench run`: each request reaches the target with its method, path,
// query, headers and body, at its logged offset from the first request
// over 2, within 150 ms.
func TestRequestLogReplay(t *testing.T) {
	tg := newRecorder(t)
	dir := t.TempDir()
	log := `timestamp,method,path,headers,body
2019-07-18T10:00:00Z,POST,/orders?id=1,"{""Content-Type"": ""application/json"", ""X-Trace"": ""a""}","{""qty"": 1}"
2019-07-18T10:00:01Z,GET,/orders/1,"{""X-Trace"": ""b""}",
2019-07-18T10:00:02.4Z,PUT,/orders/1?force=true,"{""X-Trace"": ""c""}",shipped
2019-07-18T10:00:04Z,DELETE,/orders/1,"{""X-Trace"": ""d""}",
`
	if err := os.WriteFile(filepath.Join(dir, "requests.csv"), []byte(log), 0o644); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "scenario.yaml")
	scen := fmt.Sprintf(`
name: log
target: {driver: http, url: %q, method: GET, headers: {X-Trace: configured}, timeout: 5s}
cold: {infer: false}
phases:
  - name: replay
    request_log: {file: requests.csv, speedup: 2}
`, tg.URL+"/base")
	if err := os.WriteFile(p, []byte(scen), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "run")
	if text, code := coldbench(t, "run", p, "--out", out, "--quiet"); code != 0 {
		t.Fatalf("exit %d:\n%s", code, text)
	}
	want := []struct {
		at                 time.Duration
		method, uri, ctype string
		body               string
	}{
		{0, "POST", "/orders?id=1", "application/json", `{"qty": 1}`},
		{500 * time.Millisecond, "GET", "/orders/1", "", ""},
		{1200 * time.Millisecond, "PUT", "/orders/1?force=true", "", "shipped"},
		{2000 * time.Millisecond, "DELETE", "/orders/1", "", ""},
	}
	got := tg.requests()
	if len(got) != len(want) {
		t.Fatalf("%d requests at the target, want %d", len(got), len(want))
	}
	byTrace := map[string]recorded{}
	for _, q := range got {
		byTrace[q.header.Get("X-Trace")] = q
	}
	first := byTrace["a"].at
	for i, w := range want {
		q, ok := byTrace[string(rune('a'+i))]
		if !ok {
			t.Fatalf("request %d never arrived (X-Trace values: %v)", i, byTrace)
		}
		if q.method != w.method || q.uri != w.uri || q.header.Get("Content-Type") != w.ctype || q.body != w.body {
			t.Errorf("request %d: %s %s (%q) %q; want %s %s (%q) %q", i, q.method, q.uri, q.header.Get("Content-Type"), q.body, w.method, w.uri, w.ctype, w.body)
		}
		if d := q.at.Sub(first) - w.at; d < -150*time.Millisecond || d > 150*time.Millisecond {
			t.Errorf("request %d at %v after the first, want %v ± 150ms", i, q.at.Sub(first), w.at)
		}
	}
}

// TestReplayFileErrors: a malformed row in a trace, or entry in a request
// log, fails `coldbench validate` and `coldbench run` with exit 2 and an
// error naming the scenario's line and field and the file's line and
// column; nothing is sent.
func TestReplayFileErrors(t *testing.T) {
	t.Parallel()
	tg := newRecorder(t)
	dir := t.TempDir()
	files := map[string]string{
		"bad.csv":   "HashOwner,HashApp,HashFunction,Trigger,1,2\no,a,f1,http,1,2\no,a,f2,http,3\n",
		"bad.jsonl": "{\"timestamp\": 1, \"path\": \"/a\"}\n{\"timestamp\": \"soon\"}\n",
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct{ phase, want string }{
		{"azure_trace: {file: bad.csv}", "scenario.yaml:6:25: phases[0].azure_trace.file: " + filepath.Join(dir, "bad.csv") + ":3: 5 columns, but the header has 6"},
		{"request_log: {file: bad.jsonl}", "scenario.yaml:6:25: phases[0].request_log.file: " + filepath.Join(dir, "bad.jsonl") + `:2: timestamp: invalid timestamp "soon"`},
	}
	for _, tt := range tests {
		p := filepath.Join(dir, "scenario.yaml")
		scen := fmt.Sprintf("name: bad\ntarget: {driver: http, url: %q}\nphases:\n  - name: replay\n    # the file is read when the scenario is\n    %s\n", tg.URL, tt.phase)
		if err := os.WriteFile(p, []byte(scen), 0o644); err != nil {
			t.Fatal(err)
		}
		for _, cmd := range []string{"validate", "run"} {
			out, code := coldbench(t, cmd, p)
			if code != exitUsage || !strings.Contains(out, tt.want) {
				t.Errorf("coldbench %s: exit %d, want %d and %q in:\n%s", cmd, code, exitUsage, tt.want, out)
			}
		}
	}
	if n := len(tg.requests()); n != 0 {
		t.Errorf("%d requests sent", n)
	}
}
