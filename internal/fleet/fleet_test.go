package fleet

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coldbench/coldbench/drivers"
	pb "github.com/coldbench/coldbench/proto/coldbench/v1"
	"github.com/coldbench/coldbench/results"
	"github.com/coldbench/coldbench/scenarios"
)

// fakeDriver answers every call at once with a warm 200 and records when
// each call came.
type fakeDriver struct {
	mu    sync.Mutex
	times []time.Time
}

func (d *fakeDriver) Invoke(ctx context.Context, c *drivers.Call) error {
	d.mu.Lock()
	d.times = append(d.times, time.Now())
	d.mu.Unlock()
	c.Status, c.Temp, c.Source = 200, drivers.Warm, drivers.SourcePlatform
	return nil
}

func (d *fakeDriver) Close() error { return nil }

func (d *fakeDriver) calls() []time.Time {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]time.Time(nil), d.times...)
}

// localFleet serves n in-process agents, each with a fakeDriver.
func localFleet(t *testing.T, n int, opts ...AgentOption) ([]*Endpoint, []*fakeDriver) {
	t.Helper()
	var eps []*Endpoint
	var ds []*fakeDriver
	for range n {
		d := &fakeDriver{}
		a, err := NewAgent(append([]AgentOption{WithDriver(d)}, opts...)...)
		if err != nil {
			t.Fatal(err)
		}
		ep := Local(a)
		t.Cleanup(func() { ep.Close() })
		eps, ds = append(eps, ep), append(ds, d)
	}
	return eps, ds
}

func mustParse(t *testing.T, text string) *scenarios.Scenario {
	t.Helper()
	s, err := scenarios.Parse("test.yaml", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestControllerMergesAgents: three agents split a schedule exactly, and
// the merged tally is the sum of theirs, histograms included.
func TestControllerMergesAgents(t *testing.T) {
	t.Parallel()
	eps, ds := localFleet(t, 3)
	s := mustParse(t, "name: m\ntarget: {driver: sim}\nphases:\n  - {name: a, duration: 1s, rate: 301/s}\n  - {name: b, duration: 500ms, burst: {requests: 10}}\n")
	ctl, err := New(Config{Scenario: s, Agents: eps, StartDelay: 100 * time.Millisecond})
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
	if got := tally.Phases[0].Sent + tally.Phases[1].Sent; got != 311 {
		t.Errorf("merged sent %d, want 311", got)
	}
	if tally.Phases[0].Planned != 301 || tally.Phases[0].Rate != 301 {
		t.Errorf("merged phase plans %d at %g/s, want the whole schedule's 301 at 301/s", tally.Phases[0].Planned, tally.Phases[0].Rate)
	}
	f := ctl.Fleet()
	if f.Degraded {
		t.Errorf("degraded: %v", f.DegradedReasons)
	}
	union := results.NewHistogram()
	for i, a := range f.Agents {
		// 301 = 101 + 100 + 100; 10 = 4 + 3 + 3.
		want := []int64{105, 103, 103}[i]
		if a.Requests != want || int64(len(ds[i].calls())) != want || a.Status != "done" {
			t.Errorf("agent %d: %d requests recorded, %d sent, status %s; want %d done", i, a.Requests, len(ds[i].calls()), a.Status, want)
		}
		if a.Snapshots == 0 || a.SnapshotBytes == 0 || a.StartSkewMs == nil {
			t.Errorf("agent %d: %d snapshots of %d bytes, skew %v", i, a.Snapshots, a.SnapshotBytes, a.StartSkewMs)
		}
		h, err := a.Latency.Decode()
		if err != nil {
			t.Fatal(err)
		}
		union.Merge(h)
	}
	merged := results.NewHistogram()
	for _, p := range tally.Phases {
		for k, h := range p.Hists {
			if k.Outcome == drivers.OK && k.Kind == results.Latency {
				merged.Merge(h)
			}
		}
	}
	if !union.Equals(merged) {
		t.Error("merged latency histogram differs from the union of the agents'")
	}
}

// TestAgentLoss: an agent lost mid-run under each policy. The run keeps its
// data and is degraded; continue and rebalance complete, abort stops.
// Checks are made against when the loss was seen, not against the clock:
// closing an in-process agent takes its time on a loaded machine.
func TestAgentLoss(t *testing.T) {
	t.Parallel()
	const text = "name: loss\ntarget: {driver: sim}\nphases:\n  - {name: a, duration: 2s, rate: 150/s}\n"
	for _, policy := range scenarios.AgentLossPolicies {
		t.Run(string(policy), func(t *testing.T) {
			t.Parallel()
			eps, ds := localFleet(t, 3)
			ctl, err := New(Config{Scenario: mustParse(t, text), Agents: eps, OnAgentLoss: policy,
				StartDelay: 100 * time.Millisecond, Snapshot: 200 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			if err := ctl.Start(context.Background()); err != nil {
				t.Fatal(err)
			}
			time.AfterFunc(time.Until(ctl.StartTime().Add(time.Second)), func() { eps[2].Close() })
			_, err = ctl.Wait(context.Background())
			var ae *AbortError
			if (policy == scenarios.LossAbort) != errors.As(err, &ae) {
				t.Fatalf("Wait: %v", err)
			}
			f := ctl.Fleet()
			lost := f.Agents[2]
			if !f.Degraded || !strings.Contains(strings.Join(f.DegradedReasons, " "), "agent local lost") || lost.Status != "lost" || lost.LostAt == nil {
				t.Fatalf("degraded %v %q, lost agent status %q", f.Degraded, f.DegradedReasons, lost.Status)
			}
			if lost.Requests == 0 || lost.Requests > int64(len(ds[2].calls())) {
				t.Errorf("lost agent: %d requests kept of %d sent, want its data up to its last snapshot", lost.Requests, len(ds[2].calls()))
			}
			a, b := ds[0].calls(), ds[1].calls()
			t.Logf("lost %v after the start; survivors sent %d and %d; reasons %q", lost.LostAt.Sub(ctl.StartTime()), len(a), len(b), f.DegradedReasons)
			switch policy {
			case scenarios.LossContinue:
				// The survivors send their own shares, no more, no less.
				if len(a) != 100 || len(b) != 100 {
					t.Errorf("survivors sent %d and %d, want their shares of 100", len(a), len(b))
				}
			case scenarios.LossRebalance:
				// They take the lost share from just after the last
				// arrival it reported sending: more than their own,
				// nothing lost (but for a request handed to a worker as
				// the agent closed), and twice only what it sent after
				// its last report: 5 at 50/s for a PositionInterval;
				// a loaded machine delays reports, hence the slack.
				total := len(a) + len(b) + len(ds[2].calls())
				if len(a) <= 110 || len(b) <= 110 || total < 298 || total > 330 {
					t.Errorf("survivors sent %d and %d, %d in all; want more than their shares and the schedule's 300, at most 30 twice", len(a), len(b), total)
				}
			case scenarios.LossAbort:
				// They stop as soon as the loss is seen.
				for _, c := range [][]time.Time{a, b} {
					if late := c[len(c)-1].Sub(*lost.LostAt); late > time.Second {
						t.Errorf("a survivor still sent %v after the loss", late)
					}
				}
			}
		})
	}
}

// TestLeaseExpires: an agent whose controller goes silent stops sending
// within its lease and drops the assignment.
func TestLeaseExpires(t *testing.T) {
	t.Parallel()
	eps, ds := localFleet(t, 1)
	s := mustParse(t, "name: l\ntarget: {driver: sim}\nphases:\n  - {name: a, duration: 10s, rate: 100/s}\n")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stream, err := eps[0].Client.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	const lease = 400 * time.Millisecond
	start := time.Now().Add(50 * time.Millisecond)
	err = stream.Send(&pb.ControllerMessage{Body: &pb.ControllerMessage_Assignment{Assignment: &pb.Assignment{
		RunId: "silent", ScenarioFile: "l.yaml", ScenarioYaml: string(s.Source), Part: 0, Parts: 1,
		StartUnixNanos: start.UnixNano(), LeaseNanos: int64(lease), SnapshotIntervalNanos: int64(100 * time.Millisecond),
		ProtocolVersion: ProtocolVersion,
	}}})
	if err != nil {
		t.Fatal(err)
	}
	// Read everything and never renew: the final snapshot must come, and
	// say why.
	var final *pb.Snapshot
	for final == nil {
		m, err := stream.Recv()
		if err != nil {
			t.Fatalf("stream ended without a final snapshot: %v", err)
		}
		if s := m.GetSnapshot(); s.GetFinal() {
			final = s
		}
	}
	if !strings.Contains(final.GetInterrupted(), "lease expired") {
		t.Errorf("final snapshot says %q, want a lease expiry", final.GetInterrupted())
	}
	calls := ds[0].calls()
	if len(calls) == 0 {
		t.Fatal("no calls at all")
	}
	if last := calls[len(calls)-1].Sub(start); last > lease+300*time.Millisecond {
		t.Errorf("last call %v after the start, want within the lease %v (+300ms slack)", last, lease)
	}
	time.Sleep(300 * time.Millisecond)
	if n := len(ds[0].calls()); n != len(calls) {
		t.Errorf("%d more calls after the final snapshot", n-len(calls))
	}
	info, err := eps[0].Client.Info(context.Background(), &pb.InfoRequest{})
	if err != nil || info.GetBusy() {
		t.Errorf("after the lease the agent is busy=%v (%v), want it free", info.GetBusy(), err)
	}
}

// TestRefusals: an assignment the agent must refuse reaches the
// controller as a RefusedError from Start, and nothing is sent.
func TestRefusals(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opts []AgentOption
		text string
		want string
	}{
		{"target outside the allow-list", []AgentOption{WithAllowTargets("*.example.com", "10.1.2.3:*")},
			"name: r\ntarget: {driver: http, url: 'http://127.0.0.1:9/'}\nphases:\n  - {name: a, duration: 1s, rate: 10}\n",
			"target 127.0.0.1:9 not allowed"},
		{"rate above the cap", []AgentOption{WithMaxRate(50)},
			"name: r\ntarget: {driver: sim}\nphases:\n  - {name: a, duration: 1s, ramp: {from: 10, to: 60}}\n",
			"above this agent's cap"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			eps, ds := localFleet(t, 1, tt.opts...)
			ctl, err := New(Config{Scenario: mustParse(t, tt.text), Agents: eps})
			if err != nil {
				t.Fatal(err)
			}
			err = ctl.Start(context.Background())
			var re *RefusedError
			if !errors.As(err, &re) || !strings.Contains(re.Reason, tt.want) {
				t.Fatalf("Start: %v, want a refusal saying %q", err, tt.want)
			}
			time.Sleep(200 * time.Millisecond)
			if n := len(ds[0].calls()); n != 0 {
				t.Errorf("%d requests sent after a refusal", n)
			}
		})
	}
}

// TestBusyAgent: an agent runs one assignment at a time.
func TestBusyAgent(t *testing.T) {
	t.Parallel()
	eps, _ := localFleet(t, 1)
	s := mustParse(t, "name: b\ntarget: {driver: sim}\nphases:\n  - {name: a, duration: 1s, rate: 10}\n")
	first, err := New(Config{Scenario: s, Agents: eps})
	if err != nil {
		t.Fatal(err)
	}
	if err := first.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	second, _ := New(Config{Scenario: s, Agents: eps})
	var re *RefusedError
	if err := second.Start(context.Background()); !errors.As(err, &re) || !strings.Contains(re.Reason, "busy") {
		t.Errorf("second controller: %v, want a busy refusal", err)
	}
	if _, err := first.Wait(context.Background()); err != nil {
		t.Error(err)
	}
}

// TestAgentShutdown: an agent shut down mid-run (SIGTERM) stops sending,
// sends its final snapshot with everything it sent, and counts as lost.
func TestAgentShutdown(t *testing.T) {
	t.Parallel()
	eps, ds := localFleet(t, 1)
	d := &fakeDriver{}
	a, err := NewAgent(WithDriver(d))
	if err != nil {
		t.Fatal(err)
	}
	ep := Local(a)
	t.Cleanup(func() { ep.Close() })
	s := mustParse(t, "name: s\ntarget: {driver: sim}\nphases:\n  - {name: a, duration: 2s, rate: 100/s}\n")
	ctl, err := New(Config{Scenario: s, Agents: []*Endpoint{eps[0], ep}, StartDelay: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := ctl.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	time.AfterFunc(time.Until(ctl.StartTime().Add(500*time.Millisecond)), a.Shutdown)
	if _, err := ctl.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	f := ctl.Fleet()
	got := f.Agents[1]
	if got.Status != "lost" || !strings.Contains(got.Error, "agent shutting down") || !f.Degraded {
		t.Errorf("status %q, error %q, degraded %v; want lost for shutting down", got.Status, got.Error, f.Degraded)
	}
	if sent := int64(len(d.calls())); got.Requests != sent || sent == 0 || sent > 40 {
		t.Errorf("%d requests recorded, %d sent: want all of the first half second's, in the final snapshot", got.Requests, sent)
	}
	if n := len(ds[0].calls()); n != 100 {
		t.Errorf("the other agent sent %d, want its whole share of 100", n)
	}
	refused, _ := New(Config{Scenario: s, Agents: []*Endpoint{ep}})
	var re *RefusedError
	if err := refused.Start(context.Background()); !errors.As(err, &re) || !strings.Contains(re.Reason, "shutting down") {
		t.Errorf("a shut-down agent took an assignment: %v", err)
	}
}
