package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	"github.com/coldbench/coldbench/internal/certs"
	pb "github.com/coldbench/coldbench/proto/coldbench/v1"
)

// Helpers of the fleet tests: a target that records arrivals, agent and
// controller processes, and a gRPC client without a certificate.

// target is an HTTP target that counts requests and records their
// arrival times.
type target struct {
	URL   string
	mu    sync.Mutex
	times []time.Time
}

func newTarget(t *testing.T) *target {
	t.Helper()
	tg := &target{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		now := time.Now()
		tg.mu.Lock()
		tg.times = append(tg.times, now)
		tg.mu.Unlock()
		w.Write([]byte("ok"))
	}))
	t.Cleanup(srv.Close)
	tg.URL = srv.URL + "/fn"
	return tg
}

func (tg *target) arrivals() []time.Time {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	return slices.Clone(tg.times)
}

// between counts the arrivals in [from, to).
func (tg *target) between(from, to time.Time) int {
	n := 0
	for _, at := range tg.arrivals() {
		if !at.Before(from) && at.Before(to) {
			n++
		}
	}
	return n
}

// waitFirst waits for the first request and returns when it arrived.
func (tg *target) waitFirst(t *testing.T, timeout time.Duration) time.Time {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if a := tg.arrivals(); len(a) > 0 {
			return a[0]
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no request reached the target within %v", timeout)
	return time.Time{}
}

// syncBuffer collects a process's output from several goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// agentProc is a running `coldbench agent`.
type agentProc struct {
	cmd  *exec.Cmd
	addr string
	log  *syncBuffer
}

// startAgent starts an agent listening on host (port chosen by the
// system) and waits until it listens. At the end of the test it is sent
// SIGTERM and must exit cleanly.
func startAgent(t *testing.T, host string, args ...string) *agentProc {
	t.Helper()
	return startAgentEnv(t, nil, host, args...)
}

// startAgentEnv is startAgent with environment variables added.
func startAgentEnv(t *testing.T, env []string, host string, args ...string) *agentProc {
	t.Helper()
	a := &agentProc{log: &syncBuffer{}}
	// A plaintext agent needs an allow-list; the tests' targets are all
	// on loopback.
	if slices.Contains(args, "--insecure") && !slices.Contains(args, "--allow-target") {
		args = append(args, "--allow-target", "127.0.0.1:*")
	}
	a.cmd = exec.Command(bin, append([]string{"agent", "--listen", host + ":0"}, args...)...)
	if env != nil {
		a.cmd.Env = append(os.Environ(), env...)
	}
	a.cmd.Stderr = a.log
	stdout, err := a.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := a.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			default:
			}
			a.log.Write(append(sc.Bytes(), '\n'))
		}
		exited <- a.cmd.Wait()
	}()
	select {
	case line := <-lines:
		_, rest, ok := strings.Cut(line, "listening on ")
		if !ok {
			t.Fatalf("agent said %q", line)
		}
		a.addr, _, _ = strings.Cut(rest, " ")
	case err := <-exited:
		t.Fatalf("agent exited: %v\n%s", err, a.log)
	case <-time.After(10 * time.Second):
		a.cmd.Process.Kill()
		t.Fatalf("agent did not start\n%s", a.log)
	}
	t.Cleanup(func() {
		select {
		case <-exited:
			return // the test killed it
		default:
		}
		a.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-exited:
			if err != nil {
				t.Errorf("agent %s: SIGTERM: %v\n%s", a.addr, err, a.log)
			}
		case <-time.After(15 * time.Second):
			a.cmd.Process.Kill()
			t.Errorf("agent %s did not stop on SIGTERM\n%s", a.addr, a.log)
		}
	})
	return a
}

// controller is a `coldbench run` started in the background.
type controller struct {
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan struct{}
	err  error
}

func startController(t *testing.T, args ...string) *controller {
	t.Helper()
	c := &controller{out: &syncBuffer{}, done: make(chan struct{})}
	c.cmd = exec.Command(bin, args...)
	c.cmd.Stdout, c.cmd.Stderr = c.out, c.out
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { c.err = c.cmd.Wait(); close(c.done) }()
	t.Cleanup(func() {
		c.cmd.Process.Kill()
		<-c.done
	})
	return c
}

// wait waits for the controller to exit and returns its exit code.
func (c *controller) wait(t *testing.T, timeout time.Duration) int {
	t.Helper()
	select {
	case <-c.done:
	case <-time.After(timeout):
		t.Fatalf("controller still running after %v\n%s", timeout, c.out)
	}
	var ee *exec.ExitError
	if errors.As(c.err, &ee) {
		return ee.ExitCode()
	}
	if c.err != nil {
		t.Fatal(c.err)
	}
	return 0
}

func agentAddrs(agents ...*agentProc) string {
	var s []string
	for _, a := range agents {
		s = append(s, a.addr)
	}
	return strings.Join(s, ",")
}

// infoWithoutCert asks the agent at addr for its Info over TLS, trusting
// caFile, without presenting a client certificate.
func infoWithoutCert(caFile, addr string) error {
	caPEM, err := os.ReadFile(caFile)
	if err != nil {
		return err
	}
	pool, err := certs.Pool(caPEM)
	if err != nil {
		return err
	}
	conn, err := grpc.NewClient("passthrough:///"+addr,
		grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS13})))
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err = pb.NewAgentClient(conn).Info(ctx, &pb.InfoRequest{})
	return err
}

// emulator is a `coldbench sim` process: a target that counts what it
// serves.
type emulator struct {
	url string
}

// startEmulator starts an emulator on 127.0.0.1 with a 1 ms handler at full
// CPU, 1 ms cold starts and no concurrency limit.
func startEmulator(t *testing.T) *emulator {
	t.Helper()
	cmd := exec.Command(bin, "sim", "--listen", "127.0.0.1:0", "--handler", "1ms", "--handler-jitter", "0",
		"--init", "1ms", "--init-stddev", "0", "--memory", "1769", "--concurrency-limit", "0")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	_, rest, ok := strings.Cut(line, "listening on ")
	if err != nil || !ok {
		t.Fatalf("emulator said %q: %v", line, err)
	}
	url, _, _ := strings.Cut(rest, " ")
	go io.Copy(io.Discard, stdout)
	return &emulator{url: url}
}

// requests is how many requests the emulator has answered, served or
// throttled.
func (e *emulator) requests(t *testing.T) int64 {
	t.Helper()
	resp, err := http.Get(e.url + "/_sim/state")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st struct {
		Stats struct {
			Invocations int64 `json:"invocations"`
			Throttled   int64 `json:"throttled"`
		} `json:"stats"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	return st.Stats.Invocations + st.Stats.Throttled
}
