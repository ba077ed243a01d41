package fleet

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"

	pb "github.com/coldbench/coldbench/proto/coldbench/v1"
	"github.com/coldbench/coldbench/scenarios"
)

// assignmentRecorder is a gRPC stream interceptor that keeps every
// Assignment an agent's server receives, as decoded off the wire.
type assignmentRecorder struct {
	mu   sync.Mutex
	asgs []*pb.Assignment
}

func (r *assignmentRecorder) intercept(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	return handler(srv, &recordingStream{ServerStream: ss, r: r})
}

func (r *assignmentRecorder) assignments() []*pb.Assignment {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*pb.Assignment(nil), r.asgs...)
}

type recordingStream struct {
	grpc.ServerStream
	r *assignmentRecorder
}

func (s *recordingStream) RecvMsg(m any) error {
	err := s.ServerStream.RecvMsg(m)
	if cm, ok := m.(*pb.ControllerMessage); ok && err == nil && cm.GetAssignment() != nil {
		s.r.mu.Lock()
		s.r.asgs = append(s.r.asgs, cm.GetAssignment())
		s.r.mu.Unlock()
	}
	return err
}

// loopbackAgent serves an agent over loopback TCP, as an agent in another
// process is served (no handover), and records the assignments it gets.
func loopbackAgent(t *testing.T, opts ...AgentOption) (*Endpoint, *assignmentRecorder) {
	t.Helper()
	a, err := NewAgent(opts...)
	if err != nil {
		t.Fatal(err)
	}
	rec := &assignmentRecorder{}
	srv := grpc.NewServer(grpc.StreamInterceptor(rec.intercept))
	pb.RegisterAgentServer(srv, a)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(srv.Stop)
	eps, err := Dial([]Addr{{Addr: ln.Addr().String()}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eps[0].Close() })
	return eps[0], rec
}

// TestRemoteAgentTargetOverride: a scenario overridden with --target
// (SetTarget) runs on an agent served over loopback TCP, as an agent in
// another process is, with its real http driver. The agent receives the
// file's text byte for byte, comment included, and the override beside
// it; it applies the override before its allow-list, which admits only the
// new target, and every request reaches the new target, none the file's.
func TestRemoteAgentTargetOverride(t *testing.T) {
	t.Parallel()
	var hits atomic.Int64
	tg := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { hits.Add(1) }))
	t.Cleanup(tg.Close)
	var stale atomic.Int64
	old := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { stale.Add(1) }))
	t.Cleanup(old.Close)

	ep, rec := loopbackAgent(t, WithAllowTargets(strings.TrimPrefix(tg.URL, "http://")))
	eps := []*Endpoint{ep}

	src := "# kept: an agent gets the file as written, not a re-encoding\n" +
		"name: remote\n" +
		"target: {driver: http, url: '" + old.URL + "/file'}  # the file's own target\n" +
		"phases:\n  - {name: a, duration: 500ms, rate: 40/s}\n"
	s := mustParse(t, src)
	if err := scenarios.SetTarget(s, tg.URL+"/override"); err != nil {
		t.Fatal(err)
	}
	ctl, err := New(Config{Scenario: s, Agents: eps, StartDelay: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := ctl.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	tally, err := ctl.Wait(context.Background())
	if err != nil {
		t.Fatal(err)
	}

	asgs := rec.assignments()
	if len(asgs) != 1 {
		t.Fatalf("the agent received %d assignments, want 1", len(asgs))
	}
	if got := asgs[0].GetScenarioYaml(); got != src {
		t.Errorf("the agent received\n%s\nwant the source as written:\n%s", got, src)
	}
	if got := asgs[0].GetTargetUrl(); got != tg.URL+"/override" {
		t.Errorf("the agent received target_url %q, want %q", got, tg.URL+"/override")
	}
	if sent := tally.Phases[0].Sent; sent != 20 || hits.Load() != 20 {
		t.Errorf("%d sent, %d reached the --target, want 20 each", sent, hits.Load())
	}
	if n := stale.Load(); n != 0 {
		t.Errorf("%d requests reached the file's own target", n)
	}
}

// TestRemoteAgentNeedsSource: a scenario built in Go has no text to send,
// so Start refuses an agent in another process at once, saying why, and
// the agent gets no assignment.
func TestRemoteAgentNeedsSource(t *testing.T) {
	t.Parallel()
	ep, rec := loopbackAgent(t)
	one := scenarios.Rate(1)
	s := &scenarios.Scenario{Name: "built", Target: scenarios.Target{Driver: "sim"},
		Phases: []scenarios.Phase{{Name: "a", Duration: scenarios.Duration(time.Second), Rate: &one}}}
	s.SetDefaults()
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	ctl, err := New(Config{Scenario: s, Agents: []*Endpoint{ep}})
	if err != nil {
		t.Fatal(err)
	}
	if err := ctl.Start(context.Background()); err == nil || !strings.Contains(err.Error(), "no source text") {
		t.Errorf("Start = %v, want a refusal for want of source text", err)
	}
	if n := len(rec.assignments()); n != 0 {
		t.Errorf("the agent got %d assignments", n)
	}
}
