package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// TestVegetaTargets: a vegeta targets file, in either of vegeta's formats,
// drives a phase: its rate paces the arrivals and every target arrives at
// the target as written (method, path and query, headers, body), in turn.
// A broken targets file is an error naming file:line and the field.
func TestVegetaTargets(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		seen[fmt.Sprintf("%s %s x-test=%q ct=%q body=%q", r.Method, r.URL.RequestURI(), r.Header.Get("X-Test"), r.Header.Get("Content-Type"), b)]++
		mu.Unlock()
	}))
	defer srv.Close()

	dir := t.TempDir()
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("body.json", `{"n": 1}`)
	write("targets.http", `GET http://ignored.example/a?x=1
X-Test: one

# a comment between targets
POST http://ignored.example/b
Content-Type: application/json
@body.json

DELETE http://ignored.example/c
`)
	write("targets.json", `{"method": "PUT", "url": "http://ignored.example/j", "header": {"X-Test": ["json"]}, "body": "aGVsbG8="}
{"method": "GET", "url": "http://ignored.example/k?q=2"}
`)
	want := map[string]map[string]int{
		"http": {
			`GET /a?x=1 x-test="one" ct="" body=""`:                     10,
			`POST /b x-test="" ct="application/json" body="{\"n\": 1}"`: 10,
			`DELETE /c x-test="" ct="" body=""`:                         10,
		},
		"json": {
			`PUT /j x-test="json" ct="" body="hello"`: 15,
			`GET /k?q=2 x-test="" ct="" body=""`:      15,
		},
	}
	for format, file := range map[string]string{"http": "targets.http", "json": "targets.json"} {
		scenario := filepath.Join(dir, format+".yaml")
		write(format+".yaml", fmt.Sprintf(`
name: vegeta-%s
target: {driver: http, url: %q, method: PATCH, body: configured, timeout: 5s}
cold: {infer: false}
phases:
  - {name: replay, duration: 1s, rate: 30/s, targets: {file: %s, format: %s}}
`, format, srv.URL, file, format))
		mu.Lock()
		clear(seen)
		mu.Unlock()
		if out, code := coldbench(t, "run", scenario, "--quiet", "--out", filepath.Join(dir, "run-"+format)); code != 0 {
			t.Fatalf("%s: exit %d\n%s", format, code, out)
		}
		mu.Lock()
		if fmt.Sprint(seen) != fmt.Sprint(want[format]) {
			t.Errorf("%s targets: the target saw\n%v\nwant\n%v", format, seen, want[format])
		}
		mu.Unlock()
	}

	// Broken files: the error names the targets file's line, and the
	// scenario's field.
	write("bad.http", "GET http://ignored.example/a\nX-Test one\n")
	write("bad.json", "{\"method\": \"GET\", \"url\": \"http://x/\"}\n{\"method\": \"GET\"}\n")
	for _, c := range []struct{ file, format, want string }{
		{"bad.http", "http", "bad.http:2: bad header: X-Test one"},
		{"bad.json", "json", "bad.json:2: target: required url is missing"},
		{"nosuch.http", "http", "no such file"},
	} {
		write("bad.yaml", fmt.Sprintf(`
name: bad
target: {driver: http, url: %q}
phases:
  - {name: replay, duration: 1s, rate: 10/s, targets: {file: %s, format: %s}}
`, srv.URL, c.file, c.format))
		out, code := coldbench(t, "validate", filepath.Join(dir, "bad.yaml"))
		if code != exitUsage || !strings.Contains(out, "phases[0].targets.file") || !strings.Contains(out, c.want) {
			t.Errorf("%s: exit %d, want %d and %q with the field in:\n%s", c.file, code, exitUsage, c.want, out)
		}
	}
}

// TestVegetaResults: a run made with --requests renders as vegeta's JSON
// results stream, and vegeta's own metrics (what `vegeta report` prints)
// count what run.json counts: requests sent, successes, status codes. A
// run without --requests says why it has none, with exit 2. Where the
// vegeta binary is installed (bin/tools, as `make bench` installs it),
// `vegeta report` itself reads the stream too.
func TestVegetaResults(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1)%4 == 0 {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()
	p := writeScenario(t, fmt.Sprintf(`
name: vegeta-results
target: {driver: http, url: %q, timeout: 5s}
cold: {infer: false}
phases:
  - {name: a, duration: 1s, rate: 40/s}
  - {name: b, duration: 500ms, burst: {requests: 20}}
`, srv.URL))
	dir := filepath.Join(t.TempDir(), "run")
	if out, code := coldbench(t, "run", p, "--quiet", "--requests", "--out", dir); code != 0 {
		t.Fatalf("run: exit %d\n%s", code, out)
	}
	cmd := exec.Command(bin, "report", dir, "--format", "vegeta")
	stream, err := cmd.Output()
	if err != nil {
		t.Fatalf("report --format vegeta: %v", err)
	}
	r := loadRun(t, dir)
	var m vegeta.Metrics
	dec := vegeta.NewJSONDecoder(bytes.NewReader(stream))
	for {
		var res vegeta.Result
		if err := dec(&res); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		m.Add(&res)
	}
	m.Close()
	tot := r.Totals
	if int64(m.Requests) != tot.Sent || int64(math.Round(m.Success*float64(m.Requests))) != tot.OK ||
		int64(m.StatusCodes["503"]) != tot.Errors["5xx"] || int64(m.StatusCodes["200"]) != tot.OK {
		t.Errorf("vegeta counts %d requests, success %.3f, codes %v; run.json %d sent, %d ok, errors %v",
			m.Requests, m.Success, m.StatusCodes, tot.Sent, tot.OK, tot.Errors)
	}
	if tot.Sent != 60 || tot.Errors["5xx"] == 0 {
		t.Fatalf("run.json: %d sent, errors %v; want 60 with some 503s", tot.Sent, tot.Errors)
	}

	vegetaBin, _ := filepath.Abs("../../bin/tools/vegeta")
	if _, err := os.Stat(vegetaBin); err == nil {
		f := filepath.Join(t.TempDir(), "results.json")
		if err := os.WriteFile(f, stream, 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(vegetaBin, "report", "-type", "json", f).Output()
		if err != nil {
			t.Fatalf("vegeta report: %v", err)
		}
		var vm struct {
			Requests    int64            `json:"requests"`
			StatusCodes map[string]int64 `json:"status_codes"`
		}
		if err := json.Unmarshal(out, &vm); err != nil {
			t.Fatalf("vegeta report: %v\n%s", err, out)
		}
		if vm.Requests != tot.Sent || vm.StatusCodes["200"] != tot.OK || vm.StatusCodes["503"] != tot.Errors["5xx"] {
			t.Errorf("vegeta report: %s; run.json %d sent, %d ok, errors %v", out, tot.Sent, tot.OK, tot.Errors)
		}
	}

	plain := filepath.Join(t.TempDir(), "plain")
	if out, code := coldbench(t, "run", p, "--quiet", "--out", plain); code != 0 {
		t.Fatalf("run: exit %d\n%s", code, out)
	}
	if out, code := coldbench(t, "report", plain, "--format", "vegeta"); code != exitUsage || !strings.Contains(out, "run it with --requests") {
		t.Errorf("report --format vegeta of a run without --requests: exit %d\n%s", code, out)
	}
}
