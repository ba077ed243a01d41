// Package fleet runs a scenario on agents: the controller that splits a
// run across them, syncs their clocks, keeps their leases, merges their
// snapshots and handles the loss of one; and the agent service that takes
// an assignment and drives the engine for its share. A local run is the
// same controller with one agent served in-process (Local), so there is
// one code path for both.
package fleet

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"sync"
	"time"

	"github.com/coldbench/coldbench/drivers"
	"github.com/coldbench/coldbench/internal/engine"
	pb "github.com/coldbench/coldbench/proto/coldbench/v1"
	"github.com/coldbench/coldbench/results"
	"github.com/coldbench/coldbench/scenarios"
)

// Defaults of a run's timing, which the controller sends in each
// assignment.
const (
	DefaultLease    = 3 * time.Second
	DefaultSnapshot = time.Second
)

// Agent is the agent service: it takes one assignment at a time from a
// controller and runs its share of the scenario with the engine.
type Agent struct {
	pb.UnimplementedAgentServer
	o agentOptions

	mu       sync.Mutex
	busy     string    // run id of the assignment being run, or empty
	handed   *handOver // from a controller in this process, for its next assignment
	shutdown chan struct{}
	shutOnce sync.Once
}

type agentOptions struct {
	allow    AllowList
	maxRate  float64
	version  string
	log      *slog.Logger
	driver   drivers.Driver
	observer engine.Observer
	warn     func(string) // a driver's warning at open; nil: the log's
	// clockOffset is a test's wrong clock (WithClockOffset).
	clockOffset time.Duration
	// protocol is ProtocolVersion, or a test's other one
	// (WithProtocolVersion).
	protocol uint32
}

// AgentOption configures an Agent.
type AgentOption func(*agentOptions) error

// WithAllowTargets limits the hosts the agent sends to (see AllowList).
func WithAllowTargets(patterns ...string) AgentOption {
	return func(o *agentOptions) error {
		l, err := ParseAllowList(patterns)
		o.allow = l
		return err
	}
}

// WithMaxRate refuses assignments whose share asks for more than r
// requests per second at its peak; 0 means no cap.
func WithMaxRate(r float64) AgentOption {
	return func(o *agentOptions) error {
		if r < 0 {
			return fmt.Errorf("max rate %g: must not be negative", r)
		}
		o.maxRate = r
		return nil
	}
}

// WithVersion sets the version the agent reports.
func WithVersion(v string) AgentOption {
	return func(o *agentOptions) error { o.version = v; return nil }
}

// WithProtocolVersion makes the agent speak protocol version v instead of
// ProtocolVersion: for tests of a version-skewed controller and agent.
func WithProtocolVersion(v uint32) AgentOption {
	return func(o *agentOptions) error { o.protocol = v; return nil }
}

// WithLogger sets the agent's structured log.
func WithLogger(l *slog.Logger) AgentOption {
	return func(o *agentOptions) error { o.log = l; return nil }
}

// WithDriver makes the agent send through d instead of opening the
// scenario's target; the caller keeps ownership of d. For in-process
// agents only (tests, and runs whose caller opened the target).
func WithDriver(d drivers.Driver) AgentOption {
	return func(o *agentOptions) error { o.driver = d; return nil }
}

// WithObserver sets a hook that sees every finished request, for
// in-process agents.
func WithObserver(f engine.Observer) AgentOption {
	return func(o *agentOptions) error { o.observer = f; return nil }
}

// WithWarn sends the warnings a driver gives when the agent opens the
// target (drivers.Warn) to warn instead of the agent's log: an in-process
// agent's caller shows them to the user.
func WithWarn(warn func(msg string)) AgentOption {
	return func(o *agentOptions) error { o.warn = warn; return nil }
}

// NewAgent makes an agent service.
func NewAgent(opts ...AgentOption) (*Agent, error) {
	o := agentOptions{version: "dev", log: slog.New(slog.DiscardHandler), protocol: ProtocolVersion}
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return nil, err
		}
	}
	return &Agent{o: o, shutdown: make(chan struct{})}, nil
}

// Shutdown stops the assignment being run, if any: the agent stops
// sending, lets requests in flight finish and sends its final snapshot.
// The agent refuses assignments from then on.
func (a *Agent) Shutdown() {
	a.shutOnce.Do(func() { close(a.shutdown) })
}

// Info describes the agent.
func (a *Agent) Info(context.Context, *pb.InfoRequest) (*pb.InfoReply, error) {
	host, _ := os.Hostname()
	a.mu.Lock()
	busy := a.busy != ""
	a.mu.Unlock()
	return &pb.InfoReply{
		Version:      a.o.version,
		Hostname:     host,
		Cores:        int32(runtime.NumCPU()),
		MaxRate:      a.o.maxRate,
		AllowTargets: a.o.allow,
		Busy:         busy,
		// ProtocolVersion: the controller compares.
		ProtocolVersion: a.o.protocol,
	}, nil
}

// ProbeClock answers with the agent's clock.
func (a *Agent) ProbeClock(_ context.Context, p *pb.ClockProbe) (*pb.ClockReply, error) {
	return &pb.ClockReply{ControllerUnixNanos: p.GetControllerUnixNanos(), AgentUnixNanos: a.clock(time.Now().UnixNano())}, nil
}

// Run carries one run. The first message must be the assignment; one the
// agent refuses is answered with an AgentError before anything is sent to
// the target.
func (a *Agent) Run(stream pb.Agent_RunServer) error {
	m, err := stream.Recv()
	if err != nil {
		return err
	}
	asg := m.GetAssignment()
	if asg == nil {
		return errors.New("the first message of a run must be an assignment")
	}
	log := a.o.log.With("run", asg.GetRunId(), "part", asg.GetPart(), "parts", asg.GetParts())
	sess, err := a.accept(stream.Context(), asg, log)
	if err != nil {
		log.Warn("assignment refused", "err", err)
		code := pb.AgentError_REFUSED
		if errors.As(err, new(invalidError)) {
			code = pb.AgentError_INVALID
		}
		return stream.Send(&pb.AgentMessage{Body: &pb.AgentMessage_Error{Error: &pb.AgentError{
			Code: code, Message: err.Error(),
		}}})
	}
	defer a.release(sess)
	log.Info("assignment accepted", "target", sess.target, "start", sess.start, "planned", sess.planned)
	return sess.run(stream)
}

// accept checks an assignment and readies a session for it: parsed,
// allowed, within the rate cap, compiled, target opened.
func (a *Agent) accept(ctx context.Context, asg *pb.Assignment, log *slog.Logger) (*session, error) {
	select {
	case <-a.shutdown:
		return nil, errShutdown
	default:
	}
	a.mu.Lock()
	if a.busy != "" {
		busy := a.busy
		a.mu.Unlock()
		return nil, fmt.Errorf("agent busy with run %s", busy)
	}
	a.busy = asg.GetRunId() + " " // never empty while held
	a.mu.Unlock()

	sess, err := a.prepare(ctx, asg, log)
	if err != nil {
		a.release(nil)
		return nil, err
	}
	return sess, nil
}

func (a *Agent) prepare(ctx context.Context, asg *pb.Assignment, log *slog.Logger) (*session, error) {
	if err := checkProtocol(a.o.protocol, asg.GetProtocolVersion()); err != nil {
		return nil, invalidError{err}
	}
	part, parts := int(asg.GetPart()), int(asg.GetParts())
	s, plan := a.take(asg, part, parts)
	if s == nil {
		var err error
		if s, err = receiveScenario(asg); err != nil {
			return nil, invalidError{err}
		}
	}
	if err := a.o.allow.CheckTarget(s); err != nil {
		return nil, invalidError{err}
	}
	if err := a.checkRate(s, parts); err != nil {
		return nil, invalidError{err}
	}
	if plan == nil {
		var err error
		if plan, err = scenarios.CompileShare(s, part, parts); err != nil {
			return nil, invalidError{err}
		}
	}
	if asg.GetStartUnixNanos() == 0 {
		return nil, errors.New("assignment has no start time")
	}
	sess := &session{
		a:       a,
		log:     log,
		s:       s,
		start:   time.Unix(0, asg.GetStartUnixNanos()-int64(a.o.clockOffset)), // on the agent's clock
		lease:   durationOr(asg.GetLeaseNanos(), DefaultLease),
		every:   durationOr(asg.GetSnapshotIntervalNanos(), DefaultSnapshot),
		part:    part,
		parts:   parts,
		plan:    plan,
		planned: plan.Planned(),
		phases:  phasePlans(plan),
		target:  describe(s.Target),
	}
	d := a.o.driver
	if d == nil {
		warn := a.o.warn
		if warn == nil {
			warn = func(msg string) { log.Warn("target", "warning", msg) }
		}
		var err error
		if d, err = OpenTarget(drivers.WithWarn(ctx, warn), s); err != nil {
			return nil, err
		}
		sess.closeDriver = d.Close
	}
	sess.drv = newSendWatch(d)
	return sess, nil
}

// invalidError marks a refusal of the assignment itself (AgentError
// INVALID), as against one of the moment (busy, target unreachable).
type invalidError struct{ error }

func (e invalidError) Unwrap() error { return e.error }

// checkRate refuses a share above the agent's rate cap.
func (a *Agent) checkRate(s *scenarios.Scenario, parts int) error {
	if r := PeakRate(s, parts); a.o.maxRate > 0 && r > a.o.maxRate {
		return fmt.Errorf("share peaks at %.1f requests/s, above this agent's cap of %.1f (--max-rate)", r, a.o.maxRate)
	}
	return nil
}

func (a *Agent) release(sess *session) {
	if sess != nil && sess.closeDriver != nil {
		if err := sess.closeDriver(); err != nil {
			sess.log.Warn("close target", "err", err)
		}
	}
	a.mu.Lock()
	a.busy = ""
	a.mu.Unlock()
}

// phasePlans lists the phases of plan with their names and durations only:
// the controller knows what the whole plan asked for.
func phasePlans(plan *scenarios.Plan) []results.PhasePlan {
	out := make([]results.PhasePlan, len(plan.Phases))
	for i, p := range plan.Phases {
		out[i] = results.PhasePlan{Name: p.Name, Duration: p.Duration}
	}
	return out
}

func durationOr(ns int64, def time.Duration) time.Duration {
	if ns <= 0 {
		return def
	}
	return time.Duration(ns)
}

// describe says what a target is, for people.
func describe(t scenarios.Target) string {
	if s, ok := t.Config.(fmt.Stringer); ok {
		return t.Driver + " " + s.String()
	}
	return t.Driver
}

// handOver is what a controller in the same process gives its local agent
// beside the assignment: the scenario it holds and this agent's share of
// it compiled, so that a local run parses and compiles its scenario once
// instead of a second time from the assignment's YAML.
type handOver struct {
	runID string
	s     *scenarios.Scenario
	share *scenarios.Plan
}

// hand keeps h for the assignment of run h.runID.
func (a *Agent) hand(h *handOver) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.handed = h
}

// take returns the scenario and the compiled share handed over for asg,
// or nils when there is none that fits it: the scenario then comes from
// asg's YAML.
func (a *Agent) take(asg *pb.Assignment, part, parts int) (*scenarios.Scenario, *scenarios.Plan) {
	a.mu.Lock()
	h := a.handed
	a.handed = nil
	a.mu.Unlock()
	if h == nil || h.runID != asg.GetRunId() || h.share.Part != part || h.share.Parts != parts ||
		(asg.GetSeed() != 0 && asg.GetSeed() != h.s.Seed) {
		return nil, nil
	}
	return h.s, h.share
}
