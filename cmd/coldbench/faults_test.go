package main

import (
	"bytes"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// TestTargetFaultsBinary: `coldbench run` against faulty targets. The run
// completes (exit 0: failed requests are data, not a failed run) and
// run.json counts every request in its error class. The engine-level
// suite (internal/engine TestTargetFaults) covers each fault in detail;
// this checks that the classes survive to the record.
func TestTargetFaultsBinary(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		url    func(t *testing.T) string
		netns  bool             // run in a network namespace of its own
		rate   int              // requests per second for 2 s
		want   map[string]int64 // run.json totals.errors
		wantOK int64
	}{
		// One target cycling through five answers: ok, 429, 503, headers
		// after the 500 ms timeout, and a reset in the middle of the body.
		{"mixed", chaosTarget, false, 50,
			map[string]int64{"throttled": 20, "5xx": 20, "timeout": 20, "connect": 20}, 20},
		{"connection refused", func(t *testing.T) string {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			ln.Close()
			return "http://" + ln.Addr().String() + "/fn"
		}, false, 20, map[string]int64{"connect": 40}, 0},
		// Go's resolver never sends a .onion name to DNS (RFC 7686), and
		// the namespace has no route anyway: no query leaves the machine.
		{"DNS failure", func(*testing.T) string { return "http://coldbench-fault.onion/fn" }, true, 20,
			map[string]int64{"connect": 40}, 0},
		{"TLS untrusted certificate", func(t *testing.T) string {
			srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
			srv.Config.ErrorLog = log.New(io.Discard, "", 0)
			srv.StartTLS()
			t.Cleanup(srv.Close)
			return srv.URL + "/fn"
		}, false, 20, map[string]int64{"connect": 40}, 0},
		// A redirect is not followed (the load must not go elsewhere) and
		// is not a success: the function never ran.
		{"redirect", redirectTarget, false, 20, map[string]int64{"redirect": 20}, 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir() + "/run"
			cmd := exec.Command(bin, "run", writeScenario(t, fmt.Sprintf(`
name: fault
target: {driver: http, url: %q, timeout: 500ms}
cold: {infer: false}
phases:
  - {name: steady, duration: 2s, rate: %d/s}
`, tt.url(t), tt.rate)), "--out", dir, "--quiet")
			cmd.Env = append(os.Environ(), "GODEBUG=netdns=go")
			if tt.netns {
				if os.Geteuid() != 0 {
					t.Skip("a network namespace needs root")
				}
				cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNET}
			}
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Run(); err != nil {
				t.Fatalf("coldbench run: %v\n%s", err, out.String())
			}
			r := loadRun(t, dir)
			total := tt.wantOK
			for _, n := range tt.want {
				total += n
			}
			if !r.Complete || r.Totals.Sent != total || r.Totals.OK != tt.wantOK || len(r.Totals.Errors) != len(tt.want) {
				t.Errorf("complete %v, sent %d, ok %d, errors %v; want complete, %d sent, %d ok, errors %v",
					r.Complete, r.Totals.Sent, r.Totals.OK, r.Totals.Errors, total, tt.wantOK, tt.want)
			}
			for class, n := range tt.want {
				if r.Totals.Errors[class] != n {
					t.Errorf("%s: %d, want %d (errors %v)", class, r.Totals.Errors[class], n, r.Totals.Errors)
				}
			}
		})
	}
}

// redirectTarget answers every other request with a 302 to a server that
// counts what reaches it (nothing must), the others with 200.
func redirectTarget(t *testing.T) string {
	var elsewhere atomic.Int64
	other := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { elsewhere.Add(1) }))
	t.Cleanup(func() {
		other.Close()
		if n := elsewhere.Load(); n != 0 {
			t.Errorf("%d requests followed the redirect", n)
		}
	})
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1)%2 == 0 {
			http.Redirect(w, r, other.URL+"/elsewhere", http.StatusFound)
			return
		}
		w.Write([]byte("ok"))
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/fn"
}

// chaosTarget answers request n by n mod 5: ok, 429, 503, headers after
// 2 s, and a 100 kB body reset after 1 kB. Counting by arrival keeps the
// classes exact whatever connection a request came on; a reset after the
// headers is not retried by the client, unlike one before them.
func chaosTarget(t *testing.T) string {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch (n.Add(1) - 1) % 5 {
		case 1:
			w.WriteHeader(http.StatusTooManyRequests)
		case 2:
			w.WriteHeader(http.StatusServiceUnavailable)
		case 3:
			select {
			case <-r.Context().Done():
			case <-time.After(2 * time.Second):
			}
		case 4:
			c, buf, err := http.NewResponseController(w).Hijack()
			if err != nil {
				panic(err)
			}
			fmt.Fprintf(buf, "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n%s", bytes.Repeat([]byte("x"), 1000))
			buf.Flush()
			time.Sleep(20 * time.Millisecond)
			c.(*net.TCPConn).SetLinger(0)
			c.Close()
		default:
			w.Write([]byte("ok"))
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/fn"
}
