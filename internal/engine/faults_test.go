package engine

import (
	"bufio"
	"context"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coldbench/coldbench/drivers"
	httpdriver "github.com/coldbench/coldbench/drivers/http"
	"github.com/coldbench/coldbench/results"
)

// Target faults: the http driver through the engine against loopback
// servers that fail in one way each. Every request must land in its error
// class, nothing may crash, and no goroutine may outlive the run.

// faultCase is one misbehaving target.
type faultCase struct {
	name string
	// target starts the server and returns the URL and config edits.
	target func(t *testing.T) (url string, edit func(*httpdriver.Config))
	want   drivers.Outcome
}

// TestTargetFaults: 20 requests at each faulty target are all counted in
// the expected class, none as a success, and the run leaves no goroutine
// behind once the driver and server are closed.
//
// Not parallel: the goroutine count is the whole process's.
func TestTargetFaults(t *testing.T) {
	short := func(c *httpdriver.Config) { c.Timeout = 300 * time.Millisecond }
	tests := []faultCase{
		// Nothing listens on the port.
		{"connection refused", func(t *testing.T) (string, func(*httpdriver.Config)) {
			return "http://" + deadAddr(t), nil
		}, drivers.Connect},
		// Accepts, reads the request, resets before answering.
		{"reset before response", func(t *testing.T) (string, func(*httpdriver.Config)) {
			return "http://" + rawServer(t, func(c *net.TCPConn) {
				readRequest(c)
				reset(c)
			}), nil
		}, drivers.Connect},
		// Headers and part of a 1 MB body, then a reset.
		{"reset mid-body", func(t *testing.T) (string, func(*httpdriver.Config)) {
			return "http://" + rawServer(t, func(c *net.TCPConn) {
				readRequest(c)
				fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n%s", strings.Repeat("x", 1000))
				time.Sleep(20 * time.Millisecond) // let the client read the headers
				reset(c)
			}), nil
		}, drivers.Connect},
		// Headers only after 10 s, beyond the 300 ms timeout.
		{"slow headers", func(t *testing.T) (string, func(*httpdriver.Config)) {
			return httpServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				select {
				case <-r.Context().Done():
				case <-time.After(10 * time.Second):
				}
			})), short
		}, drivers.Timeout},
		// A body that trickles a byte every 10 ms and never ends.
		{"endless body", func(t *testing.T) (string, func(*httpdriver.Config)) {
			return httpServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				rc := http.NewResponseController(w)
				for {
					if _, err := w.Write([]byte("x")); err != nil {
						return
					}
					if rc.Flush() != nil {
						return
					}
					select {
					case <-r.Context().Done():
						return
					case <-time.After(10 * time.Millisecond):
					}
				}
			})), short
		}, drivers.Timeout},
		// Every request throttled.
		{"429 storm", func(t *testing.T) (string, func(*httpdriver.Config)) {
			return httpServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Retry-After", "1")
				w.WriteHeader(http.StatusTooManyRequests)
			})), nil
		}, drivers.Throttled},
		// Each 5xx a gateway or function gives.
		{"5xx", func(t *testing.T) (string, func(*httpdriver.Config)) {
			var n atomic.Int64
			codes := []int{500, 502, 503, 504}
			return httpServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(codes[n.Add(1)%4])
			})), nil
		}, drivers.ServerError},
		// A name that does not resolve; the lookup goes to a DNS server on
		// loopback that answers NXDOMAIN (see withLoopbackDNS).
		{"DNS failure", func(t *testing.T) (string, func(*httpdriver.Config)) {
			withLoopbackDNS(t)
			return "http://coldbench-fault.invalid:80/", nil
		}, drivers.Connect},
		// A certificate no configured CA signed.
		{"TLS untrusted certificate", func(t *testing.T) (string, func(*httpdriver.Config)) {
			srv := tlsServer(t)
			return srv.URL, nil
		}, drivers.Connect},
		// A trusted certificate for another name.
		{"TLS hostname mismatch", func(t *testing.T) (string, func(*httpdriver.Config)) {
			srv := tlsServer(t)
			ca := filepath.Join(t.TempDir(), "ca.pem")
			if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
				t.Fatal(err)
			}
			return srv.URL, func(c *httpdriver.Config) { c.TLS.CAFile, c.TLS.ServerName = ca, "mismatch.invalid" }
		}, drivers.Connect},
		// https:// to a plaintext server.
		{"TLS handshake to plaintext", func(t *testing.T) (string, func(*httpdriver.Config)) {
			return strings.Replace(httpServer(t, okHandler), "http://", "https://", 1), nil
		}, drivers.Connect},
	}
	baseline := liveGoroutines()
	for _, client := range clients {
		for _, tt := range tests {
			runFault(t, client, tt, baseline)
		}
	}
}

// clients are the http driver's clients; the fault suite runs on each.
var clients = []string{"net/http", httpdriver.ClientFast}

func runFault(t *testing.T, client string, tt faultCase, baseline int) {
	{
		t.Run(client+"/"+tt.name, func(t *testing.T) {
			func() {
				// The servers and the driver close at the end of this
				// function's subtest scope, before the leak check.
				url, edit := tt.target(t)
				cfg := httpdriver.DefaultConfig()
				cfg.URL, cfg.Client = url, client
				if edit != nil {
					edit(cfg)
				}
				d, err := httpdriver.New(cfg)
				if err != nil {
					t.Fatal(err)
				}
				defer d.Close()
				e, err := New(d, plan(constant("fault", 100, 200*time.Millisecond)))
				if err != nil {
					t.Fatal(err)
				}
				tally, err := e.Run(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				p := tally.Phases[0]
				if p.Sent != 20 || p.Outcomes[tt.want] != 20 {
					t.Errorf("sent %d, outcomes %v: want all 20 %s", p.Sent, outcomeCounts(p.Outcomes), tt.want)
				}
				for k := range p.Hists {
					// The generator's lag is kept once per phase, whatever the outcome.
					if k.Outcome != tt.want && k != results.LagKey {
						t.Errorf("a %s histogram: errors must stay out of other classes' latency", k.Outcome)
					}
				}
			}()
		})
		// t.Cleanup of the subtest has run: servers are closed.
		if !t.Failed() {
			settleGoroutines(t, baseline, client+"/"+tt.name)
		}
	}
}

// TestHugeBody: five responses of 1 GB each through the engine, under the
// http driver's 1 MiB response cap. Each request is a success that read
// exactly the cap; the server stops writing far short of 1 GB; and the
// process allocates and holds a few MiB, not gigabytes.
//
// Not parallel: memory statistics are the whole process's.
func TestHugeBody(t *testing.T) {
	for _, client := range clients {
		t.Run(client, func(t *testing.T) { hugeBody(t, client) })
	}
}

func hugeBody(t *testing.T, client string) {
	const size = 1 << 30
	var written atomic.Int64
	chunk := make([]byte, 64<<10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", fmt.Sprint(size))
		for sent := 0; sent < size; sent += len(chunk) {
			n, err := w.Write(chunk)
			written.Add(int64(n))
			if err != nil {
				return
			}
		}
	}))
	t.Cleanup(srv.Close)
	cfg := httpdriver.DefaultConfig()
	cfg.URL, cfg.Client = srv.URL, client
	d, err := httpdriver.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()

	var read atomic.Int64
	e, err := New(d, plan(constant("huge", 10, 500*time.Millisecond)),
		WithObserver(func(c *drivers.Call, _ results.Sample) { read.Add(c.BytesIn) }))
	if err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	tally, err := e.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	p := tally.Phases[0]
	if p.Sent != 5 || p.Outcomes[drivers.OK] != 5 {
		t.Errorf("sent %d, outcomes %v: want 5 ok", p.Sent, outcomeCounts(p.Outcomes))
	}
	if got, want := read.Load(), 5*cfg.MaxBody; got != want {
		t.Errorf("read %d bytes, want 5 × the %d byte cap", got, cfg.MaxBody)
	}
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("server wrote %d MiB of 5 GiB offered; allocated %d KiB during the run; heap in use %d → %d KiB",
		written.Load()>>20, alloc>>10, before.HeapInuse>>10, after.HeapInuse>>10)
	if alloc > 64<<20 {
		t.Errorf("allocated %d MiB while reading five 1 GB bodies: the cap does not bound memory", alloc>>20)
	}
	if after.HeapInuse > before.HeapInuse+64<<20 {
		t.Errorf("heap in use grew from %d to %d MiB", before.HeapInuse>>20, after.HeapInuse>>20)
	}
	if w := written.Load(); w > 5*256<<20 {
		t.Errorf("the server wrote %d MiB: the driver kept reading past its cap", w>>20)
	}
}

var okHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) })

// tlsServer is an httptest TLS server that does not log the handshakes
// the test makes fail.
func tlsServer(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(okHandler)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

func httpServer(t *testing.T, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

// deadAddr returns a loopback address nothing listens on.
func deadAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// rawServer serves each TCP connection with handle, below HTTP, and waits
// for the handlers when the test ends.
func rawServer(t *testing.T, handle func(*net.TCPConn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				handle(c.(*net.TCPConn))
			}()
		}
	}()
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	return ln.Addr().String()
}

// readRequest reads one request's header block.
func readRequest(c net.Conn) {
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	r := bufio.NewReader(c)
	for {
		line, err := r.ReadString('\n')
		if err != nil || line == "\r\n" {
			return
		}
	}
}

// reset closes c with an RST instead of a FIN.
func reset(c *net.TCPConn) {
	c.SetLinger(0)
	c.Close()
}

// settleGoroutines waits up to 10 s for the goroutine count to fall back to
// baseline, and fails with every stack when it does not.
func settleGoroutines(t *testing.T, baseline int, after string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		n := liveGoroutines()
		if n <= baseline {
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			t.Fatalf("after %s: %d goroutines, %d before: leaked\n%s", after, n, baseline, buf)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// liveGoroutines counts the process's goroutines except fasthttp's
// idle-connection cleaners: one per client, it sleeps out its idle
// period (90 s) after Close and then exits, holding no connection.
func liveGoroutines() int {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	n := 0
	for _, g := range strings.Split(string(buf), "\n\n") {
		if !strings.Contains(g, "fasthttp.(*HostClient).connsCleaner") {
			n++
		}
	}
	return n
}

func outcomeCounts(o [drivers.NumOutcomes]int64) map[string]int64 {
	m := map[string]int64{}
	for i, n := range o {
		if n != 0 {
			m[drivers.Outcome(i).String()] = n
		}
	}
	return m
}

// withLoopbackDNS points the process's resolver at a DNS server on
// loopback that answers every query NXDOMAIN, for the rest of the test, so
// that a lookup fails as it would for an unknown name and no query leaves
// the machine (the system's resolv.conf names a server elsewhere). The
// test must not be parallel: net.DefaultResolver is process-wide. It fails
// the test if no query reached the server.
func withLoopbackDNS(t *testing.T) {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var queries atomic.Int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 512)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			if n < 12 {
				continue
			}
			queries.Add(1)
			// Echo the query with QR set, RA set and RCODE 3 (NXDOMAIN).
			resp := append([]byte(nil), buf[:n]...)
			resp[2] |= 0x80
			resp[3] = resp[3]&0x70 | 0x80 | 3
			pc.WriteTo(resp, from)
		}
	}()
	saved := net.DefaultResolver
	net.DefaultResolver = &net.Resolver{
		PreferGo: true,
		Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "udp", pc.LocalAddr().String())
		},
	}
	t.Cleanup(func() {
		net.DefaultResolver = saved
		pc.Close()
		<-done
		if queries.Load() == 0 {
			t.Errorf("no DNS query reached the loopback server")
		}
	})
}
