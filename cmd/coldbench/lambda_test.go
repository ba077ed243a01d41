package main

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coldbench/coldbench/drivers/lambda/lambdafake"
)

// awsEnv is what a coldbench child that talks to a Lambda endpoint on
// loopback adds to this process's environment (coldbenchEnv, gate_test.go):
// static credentials (an emulator checks none; lambdafake checks its own,
// passed as extra) and no shared config or instance metadata, so that the
// SDK looks nowhere else.
func awsEnv(extra ...string) []string {
	env := []string{"AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=AKIDCOLDBENCHTEST", "AWS_SECRET_ACCESS_KEY=coldbench-test", "AWS_SESSION_TOKEN=",
		"AWS_PROFILE=", "AWS_EC2_METADATA_DISABLED=true", "AWS_CONFIG_FILE=" + os.DevNull, "AWS_SHARED_CREDENTIALS_FILE=" + os.DevNull}
	return append(env, extra...)
}

// lockedBuffer collects a child's output while it runs.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// freeAddr is a loopback address with a port free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// rie is a running AWS Lambda Runtime Interface Emulator with the
// internal/lambdafn handler in it: one instance, which serves one
// invocation at a time.
type rie struct {
	url string
	out *lockedBuffer // RIE's and the handler's output: START/REPORT lines
}

// invocations counts the invocations RIE has started so far.
func (r *rie) invocations() int { return strings.Count(r.out.String(), "START RequestId:") }

// startRIE starts RIE on loopback with the lambdafn handler, whose first
// invocation sleeps init. RIE is the binary COLDBENCH_RIE names (`make
// test` installs it into bin/tools), else bin/tools/aws-lambda-rie; without
// it the test is skipped, except in CI, where it fails.
func startRIE(t *testing.T, init time.Duration) *rie {
	t.Helper()
	path := os.Getenv("COLDBENCH_RIE")
	if path == "" {
		path, _ = filepath.Abs("../../bin/tools/aws-lambda-rie")
	}
	if _, err := os.Stat(path); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("the Lambda Runtime Interface Emulator is missing (%v): `make rie` installs it", err)
		}
		t.Skipf("the Lambda Runtime Interface Emulator is not installed (%v): run `make rie`", err)
	}
	fn := filepath.Join(t.TempDir(), "lambdafn")
	if out, err := exec.Command("go", "build", "-o", fn, "../../internal/lambdafn").CombinedOutput(); err != nil {
		t.Fatalf("build the handler: %v\n%s", err, out)
	}
	addr := freeAddr(t)
	// RIE's own Runtime API port too, or two RIEs at once (other tests,
	// other packages) would both take its default 127.0.0.1:9001.
	cmd := exec.Command(path, "--runtime-interface-emulator-address", addr, "--runtime-api-address", freeAddr(t), fn)
	cmd.Env = append(os.Environ(), "COLDBENCH_FN_INIT="+init.String(), "AWS_LAMBDA_FUNCTION_TIMEOUT=30")
	r := &rie{url: "http://" + addr, out: &lockedBuffer{}}
	cmd.Stdout, cmd.Stderr = r.out, r.out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("RIE output:\n%s", r.out.String())
		}
	})
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("RIE did not listen on %s within 10s:\n%s", addr, r.out.String())
		}
	}
}

// rieScenario invokes RIE's one function ("function") with payload:
// one request, a pause, then warm traffic; RIE serves one invocation at a
// time, hence max_in_flight: 1.
func rieScenario(t *testing.T, url, payload, extra string) string {
	return writeScenario(t, fmt.Sprintf(`name: rie
target:
  driver: lambda
  function: function
  endpoint: %s
  payload: '%s'
  timeout: 20s
cold:
  body: {cold: cold, instance: instance}
max_in_flight: 1
phases:
  - {name: first, duration: 800ms, burst: {requests: 1}}
  - {name: warm, duration: 1500ms, rate: 10/s}
%s`, url, payload, extra))
}

// TestLambdaRIE runs the lambda driver through the binary against a real
// Lambda runtime that coldbench did not write: the Runtime Interface
// Emulator, with a Go handler built on aws-lambda-go. RIE serves only the
// Invoke API and sends no log tail, so the run goes invoke-only (one
// warning) and the cold flag comes from the body: exactly one cold start,
// the rest warm. A throwing handler is a function error; tune refuses
// before sending anything (exit 2).
//
// Cost: about 10 s (building the handler, three short runs).
func TestLambdaRIE(t *testing.T) {
	r := startRIE(t, 300*time.Millisecond)

	t.Run("run", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "run")
		out, code := coldbenchEnv(t, "", awsEnv(), "run", rieScenario(t, r.url, `{"seq": {{.Seq}}}`, ""), "--out", dir, "--quiet")
		if code != 0 {
			t.Fatalf("exit %d\n%s", code, out)
		}
		if n := strings.Count(out, "warning:"); n != 1 || !strings.Contains(out, "GetFunctionConfiguration: HTTP 404 Not Found, not a Lambda API error (endpoint "+r.url+"); running invoke-only") {
			t.Errorf("want one invoke-only warning naming the call and the endpoint, got:\n%s", out)
		}
		run := loadRun(t, dir)
		tot := run.Totals
		t.Logf("sent %d: cold %d (p50 %.1f ms), warm %d (p50 %.1f ms), dropped %d, sources %+v",
			tot.Sent, tot.Cold.Count, tot.Cold.P50Ms, tot.Warm.Count, tot.Warm.P50Ms, tot.Dropped, run.ColdDetection)
		if !run.Complete || tot.Sent < 10 || tot.OK != tot.Sent || tot.Cold.Count != 1 || tot.Warm.Count != tot.Sent-1 {
			t.Errorf("complete %v, sent %d, ok %d, cold %d, warm %d: want complete, ≥ 10 sent, all ok, exactly 1 cold and the rest warm",
				run.Complete, tot.Sent, tot.OK, tot.Cold.Count, tot.Warm.Count)
		}
		if run.ColdDetection.Body != tot.Sent {
			t.Errorf("cold detection %+v: want all %d from the body", run.ColdDetection, tot.Sent)
		}
		if int64(r.invocations()) != tot.Sent {
			t.Errorf("RIE started %d invocations, coldbench sent %d", r.invocations(), tot.Sent)
		}
	})

	t.Run("function error", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "run")
		out, code := coldbenchEnv(t, "", awsEnv(), "run", rieScenario(t, r.url, `{"fail": true}`, ""), "--out", dir, "--quiet")
		if code != 0 {
			t.Fatalf("exit %d\n%s", code, out)
		}
		tot := loadRun(t, dir).Totals
		if tot.Sent == 0 || tot.Errors["function_error"] != tot.Sent || tot.OK != 0 {
			t.Errorf("sent %d, ok %d, errors %v: want every request a function_error", tot.Sent, tot.OK, tot.Errors)
		}
	})

	t.Run("tune refuses", func(t *testing.T) {
		before := r.invocations()
		out, code := coldbenchEnv(t, "", awsEnv(), "tune", rieScenario(t, r.url, `{}`, "tune: {memory: [512, 1024]}\n"), "--out", t.TempDir(), "--quiet")
		msg := "lambda function at " + r.url + " has no Lambda control plane for coldbench (GetFunctionConfiguration: HTTP 404 Not Found, not a Lambda API error), so coldbench cannot set its memory or prewarm"
		if code != exitUsage || !strings.Contains(out, msg) || !strings.Contains(out, "`coldbench run` works invoke-only") || strings.Contains(out, "warning:") {
			t.Errorf("exit %d, want %d and the reason %q:\n%s", code, exitUsage, msg, out)
		}
		if n := r.invocations() - before; n != 0 {
			t.Errorf("tune sent %d invocations before refusing", n)
		}
	})
}

// lambdaFake starts lambdafake with a function "fn" and returns it with
// the child's environment for its credentials and region.
func lambdaFake(t *testing.T, opts lambdafake.Options) (*lambdafake.Server, []string) {
	s := lambdafake.New(t, opts)
	s.AddFunction("fn", lambdafake.FunctionOptions{})
	return s, awsEnv(s.Env()...)
}

func fakeScenario(t *testing.T, url, extra string) string {
	return writeScenario(t, fmt.Sprintf(`name: fake
target: {driver: lambda, function: fn, endpoint: %s%s}
phases:
  - {name: a, duration: 500ms, rate: 10/s}
`, url, extra))
}

// TestLambdaInvokeOnly: an endpoint that answers 404 to the control plane
// runs with one warning; control: false makes no control-plane call at
// all; tune and plan refuse before invoking (exit 2).
func TestLambdaInvokeOnly(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		control string // the target's control: setting
		warn    bool
		calls   int // control-plane calls the endpoint sees in a run
	}{
		{"404 to the control plane", "", true, 1},
		{"control: false", ", control: false", false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, env := lambdaFake(t, lambdafake.Options{InvokeOnly: true})
			dir := filepath.Join(t.TempDir(), "run")
			out, code := coldbenchEnv(t, "", env, "run", fakeScenario(t, s.URL, tc.control), "--out", dir, "--quiet")
			if code != 0 {
				t.Fatalf("exit %d\n%s", code, out)
			}
			if warned := strings.Contains(out, "coldbench run: warning: lambda fn: GetFunctionConfiguration: HTTP 404 Not Found"); warned != tc.warn {
				t.Errorf("warned %v, want %v:\n%s", warned, tc.warn, out)
			}
			if n := s.ControlCalls(); n != tc.calls {
				t.Errorf("%d control-plane calls, want %d", n, tc.calls)
			}
			if tot := loadRun(t, dir).Totals; tot.Sent == 0 || tot.OK != tot.Sent || int64(s.Calls("Invoke")) != tot.Sent {
				t.Errorf("sent %d, ok %d, invocations %d", tot.Sent, tot.OK, s.Calls("Invoke"))
			}
			for _, cmd := range []struct{ name, block string }{{"tune", "tune: {memory: [512, 1024]}\n"}, {"plan", "capacity: {start: 5, step: 5, max: 10, measure: 1s}\n"}} {
				p := fakeScenario(t, s.URL, tc.control)
				if err := os.WriteFile(p, append(must(os.ReadFile(p)), cmd.block...), 0o644); err != nil {
					t.Fatal(err)
				}
				invokes := s.Calls("Invoke")
				out, code := coldbenchEnv(t, "", env, cmd.name, p, "--out", t.TempDir(), "--quiet")
				if code != exitUsage || !strings.Contains(out, "lambda fn at "+s.URL+" ") || !strings.Contains(out, "cannot set its memory or prewarm") || strings.Contains(out, "warning:") {
					t.Errorf("%s: exit %d, want %d and the reason:\n%s", cmd.name, code, exitUsage, out)
				}
				if n := s.Calls("Invoke") - invokes; n != 0 {
					t.Errorf("%s invoked %d times before refusing", cmd.name, n)
				}
			}
		})
	}
}

// TestRunTargetNotOpened: a target that cannot be opened (a function
// Lambda does not know) exits 3 and leaves a run directory whose run.json
// says why, complete: false, for CI jobs that archive it.
func TestRunTargetNotOpened(t *testing.T) {
	t.Parallel()
	s, env := lambdaFake(t, lambdafake.Options{})
	p := writeScenario(t, fmt.Sprintf("name: gone\ntarget: {driver: lambda, function: gone, endpoint: %s}\nphases:\n  - {name: a, duration: 1s, rate: 10/s}\n", s.URL))
	dir := filepath.Join(t.TempDir(), "run")
	out, code := coldbenchEnv(t, "", env, "run", p, "--out", dir, "--quiet")
	want := "lambda gone: GetFunctionConfiguration: not found: Function not found"
	if code != exitIncomplete || !strings.Contains(out, want) || !strings.Contains(out, dir) {
		t.Fatalf("exit %d, want %d, %q and the run directory:\n%s", code, exitIncomplete, want, out)
	}
	r := loadRun(t, dir)
	if r.Complete || !strings.Contains(r.Interrupted, "could not start") || !strings.Contains(r.Interrupted, want) || r.Totals.Sent != 0 {
		t.Errorf("run.json: complete %v, interrupted %q, sent %d", r.Complete, r.Interrupted, r.Totals.Sent)
	}
	for _, f := range []string{"scenario.yaml", "report.md"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
