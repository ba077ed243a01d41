package sim

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// control sends one control request in-process and returns the recorder.
func controlReq(e *Emulator, method, path, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	return rec
}

func TestControlPartialUpdate(t *testing.T) {
	t.Parallel()
	e := newEmu(t, testConfig())
	before := e.Config()

	rec := controlReq(e, http.MethodPut, PathConfig, `{"keep_alive_ms": 1500, "init_stddev_ms": 0.5}`)
	if rec.Code != http.StatusOK {
		t.Fatalf("PUT: %d %s", rec.Code, rec.Body)
	}
	var got Config
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	want := before
	want.KeepAlive = 1500 * time.Millisecond
	want.InitStddev = 500 * time.Microsecond
	if got != want || e.Config() != want {
		t.Errorf("after partial update: answered %+v, emulator has %+v, want %+v", got, e.Config(), want)
	}

	rec = controlReq(e, http.MethodGet, PathConfig, "")
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"keep_alive_ms":1500`) {
		t.Errorf("GET config: %d %s", rec.Code, rec.Body)
	}
}

func TestControlValidation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		body      string
		wantField string // field named in the error, "" for none
	}{
		{"memory below range", `{"memory_mb": 64}`, "memory_mb"},
		{"negative keep-alive", `{"keep_alive_ms": -1}`, "keep_alive_ms"},
		{"min above limit", `{"min_instances": 5, "concurrency_limit": 4}`, "min_instances"},
		{"wrong type", `{"memory_mb": "big"}`, "memory_mb"},
		{"unknown field (typo)", `{"memory": 512}`, ""},
		{"read-only field", `{"seed": 3}`, ""},
		{"not JSON", `memory=512`, ""},
		{"empty body", ``, ""},
		{"two objects", `{} {}`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEmu(t, testConfig())
			before := e.Config()
			rec := controlReq(e, http.MethodPut, PathConfig, tt.body)
			if rec.Code != http.StatusBadRequest {
				t.Fatalf("status %d, want 400; body %s", rec.Code, rec.Body)
			}
			var eb errorBody
			if err := json.Unmarshal(rec.Body.Bytes(), &eb); err != nil || eb.Error == "" {
				t.Fatalf("error body %q is not a JSON error", rec.Body)
			}
			if eb.Field != tt.wantField {
				t.Errorf("field %q, want %q (%s)", eb.Field, tt.wantField, eb.Error)
			}
			if e.Config() != before {
				t.Error("a rejected update changed the config")
			}
		})
	}
}

func TestControlRoutes(t *testing.T) {
	t.Parallel()
	e := newEmu(t, testConfig())
	tests := []struct {
		method, path string
		want         int
		wantAllow    string
	}{
		{http.MethodGet, PathState, http.StatusOK, ""},
		{http.MethodGet, PathTruth, http.StatusOK, ""},
		{http.MethodPost, PathRecycle, http.StatusOK, ""},
		{http.MethodPost, PathConfig, http.StatusMethodNotAllowed, "GET, PUT"}, // config is GET or PUT
		{http.MethodGet, PathRecycle, http.StatusMethodNotAllowed, "POST"},     // recycling is not safe to GET
		{http.MethodGet, "/_sim/nope", http.StatusNotFound, ""},
		{http.MethodGet, "/_sim", http.StatusNotFound, ""}, // reserved, not an invocation
		{http.MethodGet, PathTruth + "?id=missing", http.StatusNotFound, ""},
		{http.MethodDelete, "/anything/else", http.StatusOK, ""}, // any other path invokes
	}
	for _, tt := range tests {
		rec := controlReq(e, tt.method, tt.path, "")
		if rec.Code != tt.want {
			t.Errorf("%s %s: %d, want %d (%s)", tt.method, tt.path, rec.Code, tt.want, rec.Body)
		}
		if got := rec.Header().Get("Allow"); got != tt.wantAllow {
			t.Errorf("%s %s: Allow %q, want %q", tt.method, tt.path, got, tt.wantAllow)
		}
		if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
			t.Errorf("%s %s: Content-Type %q, want JSON", tt.method, tt.path, ct)
		}
	}
}

func TestControlState(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	cfg.MinInstances = 1
	cfg.InitMean = 5 * time.Millisecond
	e := newEmu(t, cfg)
	waitFor(t, 2*time.Second, "ready", func() bool { return e.State().Ready })

	rec := controlReq(e, http.MethodGet, PathState, "")
	var m map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]any{"memory_mb": 1769.0, "min_instances": 1.0, "live": 1.0, "busy": 0.0, "idle": 1.0, "ready": true} {
		if m[k] != want {
			t.Errorf("state %s = %v, want %v (%s)", k, m[k], want, rec.Body)
		}
	}
	if _, ok := m["config"].(map[string]any); !ok {
		t.Errorf("state has no config object: %s", rec.Body)
	}

	// A memory change through the API: not ready until re-prewarmed.
	rec = controlReq(e, http.MethodPut, PathConfig, `{"memory_mb": 256}`)
	if rec.Code != http.StatusOK {
		t.Fatalf("PUT memory: %d %s", rec.Code, rec.Body)
	}
	if st := e.State(); st.Ready || st.MemoryMB != 256 {
		t.Errorf("right after a memory change: %+v, want not ready at 256 MB", st)
	}
}

// FuzzPutConfig checks that no body makes the control API panic or leave an
// invalid config behind.
func FuzzPutConfig(f *testing.F) {
	for _, s := range []string{`{}`, `{"memory_mb": 512}`, `{"keep_alive_ms": 1e308}`, `{"handler_ms": -0}`, `[`, `null`} {
		f.Add(s)
	}
	e, err := New(testConfig())
	if err != nil {
		f.Fatal(err)
	}
	defer e.Close()
	f.Fuzz(func(t *testing.T, body string) {
		rec := controlReq(e, http.MethodPut, PathConfig, body)
		if rec.Code != http.StatusOK && rec.Code != http.StatusBadRequest {
			t.Fatalf("status %d for %q", rec.Code, body)
		}
		if err := e.Config().Validate(); err != nil {
			t.Fatalf("body %q left an invalid config: %v", body, err)
		}
	})
}
