package fleet

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"

	pb "github.com/coldbench/coldbench/proto/coldbench/v1"
	"github.com/coldbench/coldbench/results"
	"github.com/coldbench/coldbench/scenarios"
)

// conn is the controller's side of one agent during a run.
type conn struct {
	ep          *Endpoint
	index       int
	part, parts int             // first share
	offset, rtt time.Duration   // agent clock minus controller clock; round trip
	firstDue    time.Duration   // offset of the share's first arrival from the run's start
	share       *scenarios.Plan // the first share compiled, handed to a local agent

	stream pb.Agent_RunClient
	cancel context.CancelFunc
	sendMu sync.Mutex

	// Guarded by Controller.mu.
	status    string // pending, running, done, stopped, lost
	errText   string
	lostAt    time.Time
	over      bool // final snapshot received, or lost
	heard     time.Time
	tally     *results.Tally
	progress  *pb.Progress
	taken     time.Time // when the last snapshot was taken, controller clock
	firstSend time.Time // controller clock
	snapshots int
	bytes     int64
	segs      []segPlan // the schedule segments it runs, with its reported positions (resume.go)
}

// eventKind is what a conn's receiving goroutine tells the controller.
type eventKind int

const (
	evReady eventKind = iota
	evFinal           // the final snapshot; msg says if the agent stopped early
	evError           // an AgentError: code and msg
	evGone            // the stream broke before the final snapshot
)

type event struct {
	c    *conn
	kind eventKind
	code pb.AgentError_Code
	gen  int32
	msg  string
}

// send sends m on the agent's stream; an error means the stream is gone,
// which the receiving side reports.
func (c *conn) send(m *pb.ControllerMessage) error {
	c.sendMu.Lock()
	defer c.sendMu.Unlock()
	return c.stream.Send(m)
}

// agentClock converts a controller time to the agent's clock.
func (c *conn) agentClock(t time.Time) int64 { return t.Add(c.offset).UnixNano() }

// recv reads the agent's messages until the stream ends: data goes
// straight into the conn under ctl.mu; what the controller must act on
// goes to ctl.events.
func (ctl *Controller) recv(c *conn) {
	final := false
	cache := decodeCache{}
	for {
		m, err := c.stream.Recv()
		if err != nil {
			if !final {
				msg := err.Error()
				if errors.Is(err, io.EOF) {
					msg = "the agent closed the run"
				}
				ctl.notify(event{c: c, kind: evGone, msg: msg})
			}
			return
		}
		ctl.mu.Lock()
		c.heard = time.Now()
		ctl.mu.Unlock()
		switch b := m.Body.(type) {
		case *pb.AgentMessage_Ready:
			ctl.notify(event{c: c, kind: evReady, gen: b.Ready.GetGeneration()})
		case *pb.AgentMessage_Started:
			ctl.mu.Lock()
			c.firstSend = time.Unix(0, b.Started.GetFirstSendUnixNanos()).Add(-c.offset)
			ctl.mu.Unlock()
		case *pb.AgentMessage_Error:
			ctl.notify(event{c: c, kind: evError, code: b.Error.GetCode(), msg: b.Error.GetMessage()})
		case *pb.AgentMessage_Position:
			ctl.mu.Lock()
			c.position(b.Position)
			ctl.mu.Unlock()
		case *pb.AgentMessage_Snapshot:
			s := b.Snapshot
			t, err := decodeSnapshot(s, ctl.tallyPhases(), c.offset, cache)
			if err != nil {
				ctl.notify(event{c: c, kind: evError, code: pb.AgentError_FAILED, msg: "bad snapshot: " + err.Error()})
				continue
			}
			ctl.mu.Lock()
			c.tally, c.progress = t, s.GetProgress()
			c.taken = fromUnix(s.GetTakenUnixNanos(), c.offset)
			c.snapshots++
			c.bytes += int64(proto.Size(m))
			ctl.mu.Unlock()
			ctl.log.Debug("snapshot", "agent", c.ep.Name, "sent", s.GetProgress().GetSent(), "taken", c.taken)
			select {
			case ctl.updated <- struct{}{}:
			default:
			}
			if s.GetFinal() {
				final = true
				ctl.notify(event{c: c, kind: evFinal, msg: s.GetInterrupted()})
			}
		}
	}
}

// notify hands an event to the controller's loop, unless the run is over.
func (ctl *Controller) notify(e event) {
	select {
	case ctl.events <- e:
	case <-ctl.streamCtx.Done():
	}
}

// probeSample is one clock probe: the controller's clock when it was sent
// and when the reply came (with monotonic readings), and the agent's.
type probeSample struct {
	sent, received time.Time
	agent          time.Time
}

// estimateClock picks the probe with the smallest round trip, where the
// agent's reading is closest to the midpoint of the exchange, and returns
// the agent's clock minus the controller's, and that round trip.
func estimateClock(samples []probeSample) (offset, rtt time.Duration) {
	best := -1
	for i, s := range samples {
		if d := s.received.Sub(s.sent); best < 0 || d < rtt {
			best, rtt = i, d
		}
	}
	if best < 0 {
		return 0, 0
	}
	s := samples[best]
	mid := s.sent.Add(rtt / 2).Round(0) // wall clock only: the agent's is a wall reading
	return s.agent.Sub(mid), rtt
}

// probe estimates the agent's clock offset and round trip from n probes.
func (c *conn) probe(ctx context.Context, n int) error {
	samples := make([]probeSample, 0, n)
	for range n {
		sent := time.Now()
		r, err := c.ep.Client.ProbeClock(ctx, &pb.ClockProbe{ControllerUnixNanos: sent.UnixNano()})
		if err != nil {
			return fmt.Errorf("probe clock: %w", err)
		}
		samples = append(samples, probeSample{sent: sent, received: time.Now(), agent: time.Unix(0, r.GetAgentUnixNanos())})
	}
	c.offset, c.rtt = estimateClock(samples)
	return nil
}
