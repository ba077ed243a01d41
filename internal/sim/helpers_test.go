package sim

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"
)

// testConfig is a fast function: at FullCPUMemoryMB the handler time is
// Handler exactly, and init is a fixed 20 ms so headers are predictable.
func testConfig() Config {
	c := DefaultConfig()
	c.MemoryMB = FullCPUMemoryMB
	c.KeepAlive = time.Minute
	c.Handler = 2 * time.Millisecond
	c.InitMean = 20 * time.Millisecond
	c.InitStddev = 0
	return c
}

// newEmu makes an emulator closed at the end of the test.
func newEmu(t *testing.T, cfg Config) *Emulator {
	t.Helper()
	e, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

// startEmu serves an emulator on loopback and returns it, its URL and a
// client for it.
func startEmu(t *testing.T, cfg Config) (*Emulator, string, *http.Client) {
	t.Helper()
	e := newEmu(t, cfg)
	url, err := e.Start("127.0.0.1:0")
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	hc := &http.Client{
		Transport: &http.Transport{MaxIdleConnsPerHost: 128},
		Timeout:   10 * time.Second,
	}
	t.Cleanup(hc.CloseIdleConnections)
	return e, url, hc
}

// reply is what a client saw of one invocation.
type reply struct {
	Status  int
	Header  http.Header
	Body    invokeBody
	Elapsed time.Duration
}

func (r reply) instance() string { return r.Header.Get(HeaderInstanceID) }
func (r reply) cold() bool       { return r.Header.Get(HeaderCold) == "true" }

// initMS parses the init header; -1 when it is not a number.
func (r reply) initMS() float64 {
	v, err := strconv.ParseFloat(r.Header.Get(HeaderInitDuration), 64)
	if err != nil {
		return -1
	}
	return v
}

// invoke sends one request with X-Request-Id: id (none if empty). It returns
// an error rather than failing the test, so goroutines can use it.
func invoke(hc *http.Client, url, id string) (reply, error) {
	req, err := http.NewRequest(http.MethodPost, url+"/invoke", nil)
	if err != nil {
		return reply{}, err
	}
	if id != "" {
		req.Header.Set(HeaderRequestID, id)
	}
	start := time.Now()
	resp, err := hc.Do(req)
	if err != nil {
		return reply{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return reply{}, err
	}
	r := reply{Status: resp.StatusCode, Header: resp.Header, Elapsed: time.Since(start)}
	if resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(b, &r.Body); err != nil {
			return r, fmt.Errorf("decode body %q: %w", b, err)
		}
	}
	return r, nil
}

func mustInvoke(t *testing.T, hc *http.Client, url, id string) reply {
	t.Helper()
	r, err := invoke(hc, url, id)
	if err != nil {
		t.Fatalf("invoke %q: %v", id, err)
	}
	return r
}

// serve invokes e in-process, without a network, for tests that only care
// about the model.
func serve(e *Emulator, id string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, "/fn", nil)
	if id != "" {
		req.Header.Set(HeaderRequestID, id)
	}
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	return rec
}

// waitFor polls cond every 2 ms for at most limit.
func waitFor(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", limit, what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// checkInvariant checks that the pool's counts add up.
func checkInvariant(t *testing.T, st State) {
	t.Helper()
	if st.Live != st.Busy+st.Idle+st.Warming {
		t.Errorf("live %d != busy %d + idle %d + warming %d", st.Live, st.Busy, st.Idle, st.Warming)
	}
}
