package fleet

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	pb "github.com/coldbench/coldbench/proto/coldbench/v1"
	"github.com/coldbench/coldbench/results"
	"github.com/coldbench/coldbench/scenarios"
)

// Config is one run on a fleet of agents.
type Config struct {
	Scenario *scenarios.Scenario
	// Agents run the scenario, each a share; the caller owns them.
	Agents []*Endpoint
	// OnAgentLoss overrides the scenario's on_agent_loss when set.
	OnAgentLoss scenarios.AgentLoss
	// Lease is how long an agent goes on without hearing from the
	// controller, and how long the controller waits to hear from an agent
	// before it counts it lost (default 3 s).
	Lease time.Duration
	// Snapshot is how often agents send snapshots (default 1 s).
	Snapshot time.Duration
	// StartDelay is how far ahead of the assignments the common start is
	// set; 0 chooses from the slowest round trip (see lead).
	StartDelay time.Duration
	// Probes is the number of clock probes per agent (default 8).
	Probes int
	// RunID names the run in the agents' logs.
	RunID string
	Log   *slog.Logger
}

// Errors of a run that could not start or had to stop.
var (
	// ErrAllLost: every agent was lost before the run's end.
	ErrAllLost = errors.New("every agent was lost")
)

// RefusedError is returned by Start when an agent refused its assignment
// (target outside its allow-list, rate above its cap, busy, ...). Nothing
// was sent to the target.
type RefusedError struct {
	Agent, Reason string
	// Invalid: the assignment itself was refused (its scenario, the
	// allow-list, the rate cap, the protocol version), not the moment.
	Invalid bool
}

func (e *RefusedError) Error() string {
	return fmt.Sprintf("agent %s refused the assignment: %s", e.Agent, e.Reason)
}

// AbortError is returned by Wait when the run was aborted because an agent
// was lost and the policy is abort.
type AbortError struct {
	Agent, Reason string
}

func (e *AbortError) Error() string {
	return fmt.Sprintf("aborted: agent %s lost: %s (on_agent_loss: abort)", e.Agent, e.Reason)
}

// Controller runs one scenario on its agents: Start, then Wait. Snapshot,
// Fleet and Progress may be called from any goroutine meanwhile.
type Controller struct {
	cfg         Config
	log         *slog.Logger
	policy      scenarios.AgentLoss
	plan        *scenarios.Plan     // the whole schedule
	phases      []results.PhasePlan // what the whole plan asks of each phase
	agentPhases []results.PhasePlan // names and durations only, for agents' tallies
	conns       []*conn
	start       time.Time // the common start, controller clock
	lead        time.Duration
	gen         int32

	events       chan event
	updated      chan struct{}
	streamCtx    context.Context
	cancelStream context.CancelFunc
	renewDone    chan struct{}
	closeOnce    sync.Once

	mu      sync.Mutex // guards the conns' data, reasons, started
	reasons []string
	started bool
}

// New prepares a controller; nothing is contacted before Start.
func New(cfg Config) (*Controller, error) {
	if len(cfg.Agents) == 0 {
		return nil, errors.New("fleet: no agents")
	}
	s := cfg.Scenario
	plan, err := scenarios.Compile(s)
	if err != nil {
		return nil, err
	}
	policy := s.OnAgentLoss
	if cfg.OnAgentLoss != "" {
		policy = cfg.OnAgentLoss
	}
	if _, ok := scenarios.ParseAgentLoss(string(policy)); !ok {
		return nil, fmt.Errorf("on_agent_loss %q: want abort, continue or rebalance", policy)
	}
	if cfg.Lease <= 0 {
		cfg.Lease = DefaultLease
	}
	if cfg.Snapshot <= 0 {
		cfg.Snapshot = DefaultSnapshot
	}
	if cfg.Probes <= 0 {
		cfg.Probes = 8
	}
	if 2*cfg.Snapshot > cfg.Lease {
		return nil, fmt.Errorf("fleet: snapshots every %s with a lease of %s: the lease must cover two snapshots", cfg.Snapshot, cfg.Lease)
	}
	if cfg.RunID == "" {
		cfg.RunID = s.Name + "-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	ctl := &Controller{
		cfg:         cfg,
		log:         cfg.Log.With("run", cfg.RunID),
		policy:      policy.Policy(),
		plan:        plan,
		phases:      make([]results.PhasePlan, len(plan.Phases)),
		agentPhases: phasePlans(plan),
		events:      make(chan event),
		updated:     make(chan struct{}, 1),
	}
	for i, p := range plan.Phases {
		ctl.phases[i] = results.PhasePlan{Name: p.Name, Duration: p.Duration, Planned: p.Planned, Rate: p.Rate}
	}
	n := len(cfg.Agents)
	for i, ep := range cfg.Agents {
		share := plan // one agent's share is the whole
		if n > 1 {
			if share, err = scenarios.CompileShare(s, i, n); err != nil {
				return nil, err
			}
		}
		ctl.conns = append(ctl.conns, &conn{ep: ep, index: i, part: i, parts: n, firstDue: firstArrival(share), share: share, status: "pending",
			segs: []segPlan{{part: i, parts: n, cut: noCut, startPhase: -1}}})
	}
	return ctl, nil
}

// firstArrival is when a plan's first arrival is due, from its start.
func firstArrival(p *scenarios.Plan) time.Duration {
	for _, ph := range p.Phases {
		if at, ok := ph.Schedule.At(0); ok && at < ph.Duration {
			return ph.Start + at
		}
	}
	return 0
}

// Duration is the whole schedule's length.
func (ctl *Controller) Duration() time.Duration { return ctl.plan.Duration() }

// Policy is the agent-loss policy in force.
func (ctl *Controller) Policy() scenarios.AgentLoss { return ctl.policy }

// computeLead is how far ahead of now the controller sets a moment every agent
// must learn of in time: the common start, or a rebalance's resume point.
// Five of the slowest round trips cover the message and the agent's set-up
// with room to spare; 300 ms more cover parsing the scenario and opening
// the target on a busy machine.
func (ctl *Controller) computeLead() time.Duration {
	if ctl.cfg.StartDelay > 0 {
		return ctl.cfg.StartDelay
	}
	var slowest time.Duration
	for _, c := range ctl.conns {
		slowest = max(slowest, c.rtt)
	}
	return 300*time.Millisecond + 5*slowest
}

// Start syncs clocks with every agent, sends each its share with one
// common start time and waits until all have accepted. If any refuses or
// cannot be reached, every agent is stopped before the start and the error
// says which and why.
func (ctl *Controller) Start(ctx context.Context) error {
	// Clock sync and a look at each agent, all at once.
	errs := make([]error, len(ctl.conns))
	var wg sync.WaitGroup
	for i, c := range ctl.conns {
		wg.Go(func() {
			pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			info, err := c.ep.Client.Info(pctx, &pb.InfoRequest{ProtocolVersion: ProtocolVersion})
			if err == nil && info.GetProtocolVersion() != ProtocolVersion {
				// Before anything else: a skewed pair would fail mid-run
				// on a message one side cannot read.
				errs[i] = &VersionError{Agent: c.ep.Name, AgentBuild: info.GetVersion(), AgentProtocol: info.GetProtocolVersion(), Protocol: ProtocolVersion}
				return
			}
			if err == nil {
				err = c.probe(pctx, ctl.cfg.Probes)
			}
			if err != nil {
				errs[i] = fmt.Errorf("agent %s: %w", c.ep.Name, err)
				return
			}
			ctl.log.Info("agent", "agent", c.ep.Name, "version", info.GetVersion(), "cores", info.GetCores(),
				"offset", c.offset, "rtt", c.rtt)
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}

	// Agents in other processes parse the scenario from the text it was
	// parsed from here (scenario.go); an agent in this one is handed it,
	// compiled. A scenario built in Go has no text to send.
	for _, c := range ctl.conns {
		if c.ep.local == nil && len(ctl.cfg.Scenario.Source) == 0 {
			return fmt.Errorf("agent %s: scenario %s has no source text to send (built in Go, it can run only on an agent in this process)", c.ep.Name, ctl.cfg.Scenario.Name)
		}
	}
	var err error
	ctl.lead = ctl.computeLead()
	ctl.streamCtx, ctl.cancelStream = context.WithCancel(context.WithoutCancel(ctx))
	ctl.start = time.Now().Add(ctl.lead)
	for _, c := range ctl.conns {
		sctx, cancel := context.WithCancel(ctl.streamCtx)
		c.cancel = cancel
		c.heard = time.Now()
		if c.stream, err = c.ep.Client.Run(sctx); err != nil {
			ctl.shutdown("could not start")
			return fmt.Errorf("agent %s: %w", c.ep.Name, err)
		}
		go ctl.recv(c)
		asg := ctl.assignment(c, c.part, c.parts, 0)
		if c.ep.local != nil {
			asg.ScenarioFile = ctl.cfg.Scenario.File
			c.ep.local.hand(&handOver{runID: ctl.cfg.RunID, s: ctl.cfg.Scenario, share: c.share})
		} else {
			sendScenario(asg, ctl.cfg.Scenario)
		}
		c.send(&pb.ControllerMessage{Body: &pb.ControllerMessage_Assignment{Assignment: asg}})
	}
	ctl.renewDone = make(chan struct{})
	go ctl.renew()

	// Every agent must accept before the run counts as started.
	pending := len(ctl.conns)
	timeout := time.NewTimer(max(30*time.Second, 2*ctl.lead))
	defer timeout.Stop()
	for pending > 0 {
		select {
		case <-ctx.Done():
			ctl.shutdown("interrupted before the start")
			return context.Cause(ctx)
		case <-timeout.C:
			ctl.shutdown("an agent did not accept in time")
			return errors.New("agents did not all accept their assignments in time")
		case e := <-ctl.events:
			switch e.kind {
			case evReady:
				pending--
				ctl.setStatus(e.c, "running", "")
			case evError:
				ctl.shutdown("agent " + e.c.ep.Name + " refused the assignment")
				return &RefusedError{Agent: e.c.ep.Name, Reason: e.msg, Invalid: e.code == pb.AgentError_INVALID}
			default:
				ctl.shutdown("agent " + e.c.ep.Name + " was lost before the start")
				return fmt.Errorf("agent %s: lost before the start: %s", e.c.ep.Name, e.msg)
			}
		}
	}
	ctl.mu.Lock()
	ctl.started = true
	ctl.mu.Unlock()
	ctl.log.Info("all agents ready", "agents", len(ctl.conns), "start", ctl.start, "lead", ctl.lead)
	return nil
}

// assignment is c's share part of parts from resume on.
func (ctl *Controller) assignment(c *conn, part, parts int, resume time.Duration) *pb.Assignment {
	return &pb.Assignment{
		RunId:                 ctl.cfg.RunID,
		Part:                  int32(part),
		Parts:                 int32(parts),
		Seed:                  ctl.cfg.Scenario.Seed,
		StartUnixNanos:        c.agentClock(ctl.start),
		LeaseNanos:            int64(ctl.cfg.Lease),
		SnapshotIntervalNanos: int64(ctl.cfg.Snapshot),
		Generation:            ctl.gen,
		ResumeOffsetNanos:     int64(resume),
		ProtocolVersion:       ProtocolVersion,
	}
}

// renew sends every agent still running a lease renewal three times per
// lease, until the run's streams close.
func (ctl *Controller) renew() {
	defer close(ctl.renewDone)
	tick := time.NewTicker(ctl.cfg.Lease / 3)
	defer tick.Stop()
	for {
		select {
		case <-ctl.streamCtx.Done():
			return
		case now := <-tick.C:
			for _, c := range ctl.live() {
				c.send(&pb.ControllerMessage{Body: &pb.ControllerMessage_Renew{Renew: &pb.LeaseRenewal{SentUnixNanos: now.UnixNano()}}})
			}
		}
	}
}

// live lists the agents that have neither finished nor been lost.
func (ctl *Controller) live() []*conn {
	ctl.mu.Lock()
	defer ctl.mu.Unlock()
	var out []*conn
	for _, c := range ctl.conns {
		if !c.over {
			out = append(out, c)
		}
	}
	return out
}

func (ctl *Controller) setStatus(c *conn, status, why string) {
	ctl.mu.Lock()
	defer ctl.mu.Unlock()
	c.status = status
	if why != "" {
		c.errText = why
	}
}

// stopAll asks every live agent to stop.
func (ctl *Controller) stopAll(reason string) {
	for _, c := range ctl.live() {
		c.send(&pb.ControllerMessage{Body: &pb.ControllerMessage_Stop{Stop: &pb.Stop{Reason: reason}}})
	}
}

// Close stops every agent still running and closes the run's streams. Wait
// does it at its end; a caller that gives up between Start and Wait calls
// it instead.
func (ctl *Controller) Close() { ctl.shutdown("the controller closed the run") }

// shutdown stops every agent and closes the run's streams, once.
func (ctl *Controller) shutdown(reason string) {
	if ctl.streamCtx == nil {
		return
	}
	ctl.closeOnce.Do(func() {
		ctl.stopAll(reason)
		ctl.cancelStream()
		if ctl.renewDone != nil {
			<-ctl.renewDone
		}
	})
}
