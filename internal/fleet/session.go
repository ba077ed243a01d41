package fleet

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coldbench/coldbench/drivers"
	"github.com/coldbench/coldbench/internal/engine"
	pb "github.com/coldbench/coldbench/proto/coldbench/v1"
	"github.com/coldbench/coldbench/results"
	"github.com/coldbench/coldbench/scenarios"
)

// errLease stops an agent whose controller went quiet: a load generator
// must never run away.
var errLease = errors.New("lease expired: no word from the controller")

// errShutdown stops the run of an agent told to shut down (SIGTERM).
var errShutdown = errors.New("agent shutting down")

// session is one accepted assignment on an agent: one engine per segment
// of the schedule it covers (one, plus one per rebalance), a lease, and the
// snapshots it sends.
type session struct {
	a           *Agent
	log         *slog.Logger
	s           *scenarios.Scenario
	start       time.Time // the run's start, agent clock
	lease       time.Duration
	every       time.Duration
	part, parts int
	plan        *scenarios.Plan // the first share, compiled in prepare
	planned     int64
	phases      []results.PhasePlan // names and durations, for snapshots
	target      string
	drv         *sendWatch
	closeDriver func() error

	done  chan *segment
	cache *deltaCache // owned by run's loop

	// mu guards what a rebalance, handled as it arrives by the receiving
	// goroutine, shares with run's loop.
	mu      sync.Mutex
	gen     int32
	segs    []*segment
	running int
	closed  bool // every engine finished: the run is over
}

// segment is one engine of a session and the window of the schedule it
// covers.
type segment struct {
	eng      *engine.Engine
	win      *window
	gen, seq int32          // the assignment that started it; 0 its share, 1… its catch-ups
	ws       []*windowed    // per phase, to turn the engine's position into the share's
	finished bool           // set, under session.mu, once done delivered it
	final    *results.Tally // the engine's own result, once finished
}

// run follows the assignment to its end, a stop, the lease's expiry or
// the agent's shutdown, and ends with a final snapshot.
func (s *session) run(stream pb.Agent_RunServer) error {
	ctx, cancel := context.WithCancelCause(stream.Context())
	defer cancel(nil)
	s.done = make(chan *segment)
	s.cache = newDeltaCache()
	out := newOutbox(stream, cancel)
	defer out.close(5 * time.Second)

	// The lease is kept by a timer of its own, reset by the receiving
	// goroutine, so that nothing the sending side does (a controller that
	// stopped reading fills the stream's window) can keep the agent going.
	lease := time.AfterFunc(s.lease, func() { cancel(errLease) })
	defer lease.Stop()
	go func() {
		for {
			m, err := stream.Recv()
			if err != nil {
				cancel(fmt.Errorf("controller gone: %w", err))
				return
			}
			lease.Reset(s.lease)
			switch b := m.Body.(type) {
			case *pb.ControllerMessage_Stop:
				// At once, whatever the loop is busy with.
				cancel(fmt.Errorf("stopped by the controller: %s", b.Stop.GetReason()))
			case *pb.ControllerMessage_Assignment:
				// At once too: the resume point is near.
				s.reassign(ctx, b.Assignment, out)
			}
		}
	}()

	s.mu.Lock()
	err := s.startSegment(ctx, s.part, s.parts, newWindow(0), -1, 0, 0, 0)
	s.mu.Unlock()
	if err != nil {
		out.send(errorMessage(pb.AgentError_FAILED, err))
		return nil
	}
	out.send(&pb.AgentMessage{Body: &pb.AgentMessage_Ready{Ready: &pb.Ready{Planned: s.planned}}})

	tick := time.NewTicker(s.every)
	defer tick.Stop()
	posTick := time.NewTicker(PositionInterval)
	defer posTick.Stop()
	started := s.drv.started
	stopped := ctx.Done()
	shutdown := s.a.shutdown
loop:
	for {
		select {
		case <-shutdown:
			shutdown = nil
			cancel(errShutdown)
		case <-stopped:
			stopped = nil
			cause := context.Cause(ctx)
			if errors.Is(cause, errLease) {
				s.log.Warn("stopping: lease expired", "lease", s.lease)
			} else {
				s.log.Info("stopping", "why", cause)
			}
		case <-started:
			started = nil
			out.send(&pb.AgentMessage{Body: &pb.AgentMessage_Started{Started: &pb.Started{FirstSendUnixNanos: s.a.clock(s.drv.first.Load())}}})
		case <-posTick.C:
			out.offer(&pb.AgentMessage{Body: &pb.AgentMessage_Position{Position: s.position()}})
		case <-tick.C:
			if snap, err := s.snapshot(); err == nil {
				if out.offer(&pb.AgentMessage{Body: &pb.AgentMessage_Snapshot{Snapshot: snap}}) {
					s.cache.commit()
				}
			} else {
				s.log.Error("snapshot", "err", err)
			}
		case seg := <-s.done:
			s.mu.Lock()
			seg.finished = true
			s.running--
			s.closed = s.running == 0
			over := s.closed
			s.mu.Unlock()
			if over {
				break loop
			}
		}
	}

	snap, err := s.snapshot()
	if err != nil {
		out.send(errorMessage(pb.AgentError_FAILED, err))
		return nil
	}
	snap.Final = true
	if ctx.Err() != nil {
		snap.Interrupted = context.Cause(ctx).Error()
	}
	out.send(&pb.AgentMessage{Body: &pb.AgentMessage_Snapshot{Snapshot: snap}})
	s.cache.commit()
	s.log.Info("run over", "sent", snap.Progress.GetSent(), "interrupted", snap.Interrupted)
	return nil
}

// startSegment starts an engine for part of parts of the scenario, over
// the arrivals in window w, from arrival next of phase when phase ≥ 0 (a
// catch-up), for the assignment of generation gen (seq 0: its share; 1…:
// its catch-ups). Called with mu held.
func (s *session) startSegment(ctx context.Context, part, parts int, w *window, phase int, next uint64, gen, seq int32) error {
	plan, err := s.share(part, parts)
	if err != nil {
		return err
	}
	opts := []engine.Option{
		engine.WithMaxInFlight(s.s.MaxInFlight),
		engine.WithSeed(s.s.Seed),
		engine.WithDetection(Detection(s.s.Cold)),
		engine.WithTrace(Trace(s.s.Trace)),
		engine.WithStart(s.start),
	}
	if seq > 0 {
		// A catch-up's arrivals are overdue by design: send them all,
		// even those of a phase already over.
		opts = append(opts, engine.WithOverdue())
	}
	if s.a.o.observer != nil {
		opts = append(opts, engine.WithObserver(s.a.o.observer))
	}
	wp, ws := windowPlanAfter(plan, w, phase, next)
	eng, err := engine.New(s.drv, wp, opts...)
	if err != nil {
		return err
	}
	seg := &segment{eng: eng, win: w, gen: gen, seq: seq, ws: ws}
	s.segs = append(s.segs, seg)
	s.running++
	go func() {
		// The engine's error is ctx's, which the loop knows already.
		seg.final, _ = eng.Run(ctx)
		s.done <- seg
	}()
	return nil
}

// reassign takes a rebalanced share: every engine running is cut at the
// resume offset and a new one covers the new share from there (see
// window). A share above the rate cap is refused and the old one kept.
//
// A rebalance that arrives after its resume point (a stalled agent)
// resumes from now instead: resuming in the past would send the new
// share's overdue arrivals at once, on top of those the old share already
// sent. The survivors then switch at slightly different moments, and an
// arrival in both an old and a new share between them may be sent twice;
// none is sent in a burst.
func (s *session) reassign(ctx context.Context, asg *pb.Assignment, out *outbox) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || ctx.Err() != nil || asg.GetGeneration() <= s.gen {
		return // over, or a stale or repeated assignment
	}
	part, parts := int(asg.GetPart()), int(asg.GetParts())
	from := time.Duration(asg.GetResumeOffsetNanos())
	if now := time.Since(s.start) + time.Millisecond; now > from {
		s.log.Warn("rebalance arrived late; resuming from now", "resume", from, "now", now)
		from = now
	}
	err := s.a.checkRate(s.s, parts)
	if err == nil && (parts < 1 || part < 0 || part >= parts) {
		err = fmt.Errorf("part %d of %d", part, parts)
	}
	if err != nil {
		s.log.Warn("rebalanced share refused", "err", err)
		out.offer(errorMessage(pb.AgentError_REFUSED, fmt.Errorf("rebalanced share: %w", err)))
		return
	}
	for _, seg := range s.segs {
		seg.win.cutAt(from)
	}
	gen := asg.GetGeneration()
	if err := s.startSegment(ctx, part, parts, newWindow(from), -1, 0, gen, 0); err != nil {
		out.offer(errorMessage(pb.AgentError_FAILED, err))
		return
	}
	// A lost agent's stretches: overdue, so the engine sends them at once
	// (measured from their due times: late, as they are).
	for i, cu := range asg.GetCatchUp() {
		w := newWindow(time.Duration(cu.GetFromOffsetNanos()))
		w.cutAt(time.Duration(cu.GetUntilOffsetNanos()))
		err := s.startSegment(ctx, int(cu.GetPart()), int(cu.GetParts()), w, int(cu.GetPhase()), cu.GetNext(), gen, int32(i+1))
		if err != nil {
			out.offer(errorMessage(pb.AgentError_FAILED, fmt.Errorf("catch-up %d: %w", i+1, err)))
			return
		}
		s.log.Info("catching up a lost agent's share", "part", cu.GetPart(), "parts", cu.GetParts(), "phase", cu.GetPhase(), "after", cu.GetNext(),
			"until", time.Duration(cu.GetUntilOffsetNanos()))
	}
	s.gen = gen
	s.log.Info("share rebalanced", "part", part, "parts", parts, "from", from, "generation", s.gen)
	out.offer(&pb.AgentMessage{Body: &pb.AgentMessage_Ready{Ready: &pb.Ready{Generation: s.gen, Planned: -1}}})
}

// position is how far each segment got, in its share's numbering
// (a few bytes a segment; see resume.go).
func (s *session) position() *pb.Position {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := &pb.Position{}
	// Finished segments too: their last position is their end, which
	// the controller may not have heard yet.
	for _, seg := range s.segs {
		phase, n := seg.eng.Position()
		if phase >= len(seg.ws) {
			continue
		}
		p.Segments = append(p.Segments, &pb.SegmentPosition{Generation: seg.gen, Seq: seg.seq, Phase: int32(phase), Next: seg.ws[phase].skip + n})
	}
	return p
}

// snapshot merges the segments' tallies into one message.
func (s *session) snapshot() (*pb.Snapshot, error) {
	type view struct {
		seg   *segment
		final *results.Tally
	}
	s.mu.Lock()
	views := make([]view, len(s.segs))
	for i, seg := range s.segs {
		views[i].seg = seg
		if seg.finished {
			views[i].final = seg.final // written before done delivered seg
		}
	}
	s.mu.Unlock()
	var t *results.Tally
	if len(views) > 1 {
		t = results.NewTally(s.phases)
	}
	var pr engine.Progress
	for _, v := range views {
		seg, st := v.seg, v.final
		if st == nil {
			st = seg.eng.Snapshot()
		}
		if t == nil {
			t = st // one engine: its copy is the agent's tally
		} else if err := t.Merge(st); err != nil {
			return nil, err
		}
		p := seg.eng.Progress()
		pr.Phase = max(pr.Phase, p.Phase)
		pr.Sent += p.Sent
		pr.Done += p.Done
		pr.InFlight += p.InFlight
		pr.Errors += p.Errors
		pr.Cold += p.Cold
		pr.Dropped += p.Dropped
	}
	snap, err := encodeSnapshot(t, pr, time.Now(), s.cache)
	if err == nil {
		s.a.shiftSnapshot(snap)
	}
	return snap, err
}

func errorMessage(code pb.AgentError_Code, err error) *pb.AgentMessage {
	return &pb.AgentMessage{Body: &pb.AgentMessage_Error{Error: &pb.AgentError{Code: code, Message: err.Error()}}}
}

// outbox sends a session's messages from a goroutine of its own, so that a
// controller that stops reading never blocks the session's loop.
type outbox struct {
	ch   chan *pb.AgentMessage
	done chan struct{}
}

func newOutbox(stream pb.Agent_RunServer, fail context.CancelCauseFunc) *outbox {
	o := &outbox{ch: make(chan *pb.AgentMessage, 16), done: make(chan struct{})}
	go func() {
		defer close(o.done)
		for m := range o.ch {
			if err := stream.Send(m); err != nil {
				fail(fmt.Errorf("controller gone: %w", err))
				for range o.ch {
				}
				return
			}
		}
	}()
	return o
}

// send queues m, waiting for room.
func (o *outbox) send(m *pb.AgentMessage) { o.ch <- m }

// offer queues m if there is room and says whether it did. A snapshot
// not queued is not committed to the stream's delta state, so the next
// one carries its counts too.
func (o *outbox) offer(m *pb.AgentMessage) bool {
	select {
	case o.ch <- m:
		return true
	default:
		return false
	}
}

// close sends what is queued, waiting at most timeout.
func (o *outbox) close(timeout time.Duration) {
	close(o.ch)
	select {
	case <-o.done:
	case <-time.After(timeout):
	}
}

// sendWatch wraps the session's driver to catch the first actual send, for
// the controller's start-skew measurement. It takes the moment the engine
// hands the request to the driver: the generator's own timing, without the
// connection set-up a first request to a target pays.
type sendWatch struct {
	drivers.Driver
	first   atomic.Int64 // unix nanos of the first send; 0 before
	once    sync.Once
	started chan struct{}
}

func newSendWatch(d drivers.Driver) *sendWatch {
	return &sendWatch{Driver: d, started: make(chan struct{})}
}

// Invoke notes the first send and passes the call on.
func (w *sendWatch) Invoke(ctx context.Context, c *drivers.Call) error {
	if w.first.Load() == 0 {
		if w.first.CompareAndSwap(0, time.Now().UnixNano()) {
			w.once.Do(func() { close(w.started) })
		}
	}
	return w.Driver.Invoke(ctx, c)
}

// share is part of parts of the scenario compiled: the share prepared with
// the assignment when it is that one (a first segment), else compiled now
// (a rebalance).
func (s *session) share(part, parts int) (*scenarios.Plan, error) {
	if s.plan != nil && s.plan.Part == part && s.plan.Parts == parts {
		return s.plan, nil
	}
	return scenarios.CompileShare(s.s, part, parts)
}
