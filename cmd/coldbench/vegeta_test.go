package main

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
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
