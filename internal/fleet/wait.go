package fleet

import (
	"context"
	"fmt"
	"time"

	pb "github.com/coldbench/coldbench/proto/coldbench/v1"
	"github.com/coldbench/coldbench/results"
	"github.com/coldbench/coldbench/scenarios"
)

// stopGrace is how long agents get to send their final snapshot once
// stopped: the engine's grace for requests in flight (2 s) and a snapshot.
const stopGrace = 2*time.Second + 2*DefaultSnapshot

// Wait follows the run to its end and returns the merged tally. When ctx
// ends first, every agent is stopped, their final snapshots are merged and
// the error is ctx's cause. A lost agent is handled by the policy (see
// scenarios.AgentLoss); under abort Wait returns an *AbortError, and if
// every agent is lost, ErrAllLost. The tally is returned in every case.
func (ctl *Controller) Wait(ctx context.Context) (*results.Tally, error) {
	defer ctl.shutdown("run over")
	watch := time.NewTicker(ctl.cfg.Lease / 6)
	defer watch.Stop()
	var (
		stopErr  error
		deadline <-chan time.Time
		done     = ctx.Done()
	)
	stop := func(err error, reason string) {
		if stopErr != nil {
			return
		}
		stopErr = err
		ctl.stopAll(reason)
		deadline = time.After(stopGrace + ctl.cfg.Lease)
	}
	for len(ctl.live()) > 0 {
		select {
		case <-done:
			done = nil
			stop(context.Cause(ctx), "interrupted: "+context.Cause(ctx).Error())
		case <-deadline:
			for _, c := range ctl.live() {
				ctl.lose(c, "no final snapshot after being stopped")
			}
		case now := <-watch.C:
			ctl.mu.Lock()
			var quiet []*conn
			for _, c := range ctl.conns {
				if !c.over && now.Sub(c.heard) > ctl.cfg.Lease {
					quiet = append(quiet, c)
				}
			}
			ctl.mu.Unlock()
			for _, c := range quiet {
				if err := ctl.lost(c, fmt.Sprintf("no word from it for %s", ctl.cfg.Lease)); err != nil {
					stop(err, err.Error())
				}
			}
		case e := <-ctl.events:
			if ctl.isOver(e.c) {
				continue // its loss or its end is handled already
			}
			var why string
			switch e.kind {
			case evReady:
				continue
			case evFinal:
				if e.msg == "" || stopErr != nil {
					ctl.finish(e.c, e.msg)
					continue
				}
				why = "stopped early: " + e.msg
			case evError:
				if e.code == pb.AgentError_REFUSED {
					ctl.degrade(fmt.Sprintf("agent %s refused its rebalanced share: %s", e.c.ep.Name, e.msg))
					continue
				}
				why = e.msg
			case evGone:
				why = e.msg
			}
			if stopErr != nil {
				// Stopping anyway: an agent that fails now loses nothing more.
				ctl.lose(e.c, why)
				continue
			}
			if err := ctl.lost(e.c, why); err != nil {
				stop(err, err.Error())
			}
		}
	}
	t := ctl.Snapshot()
	if stopErr != nil {
		return t, stopErr
	}
	return t, nil
}

func (ctl *Controller) isOver(c *conn) bool {
	ctl.mu.Lock()
	defer ctl.mu.Unlock()
	return c.over
}

// finish records an agent's final snapshot.
func (ctl *Controller) finish(c *conn, interrupted string) {
	ctl.mu.Lock()
	defer ctl.mu.Unlock()
	c.over = true
	c.status = "done"
	if interrupted != "" {
		c.status, c.errText = "stopped", interrupted
	}
	c.cancel()
}

// lose marks c lost and closes its stream; its last snapshot stays.
func (ctl *Controller) lose(c *conn, why string) {
	ctl.mu.Lock()
	defer ctl.mu.Unlock()
	if c.over {
		return
	}
	c.over, c.status, c.errText, c.lostAt = true, "lost", why, time.Now()
	c.cancel()
}

func (ctl *Controller) degrade(reason string) {
	ctl.log.Warn("run degraded", "why", reason)
	ctl.mu.Lock()
	ctl.reasons = append(ctl.reasons, reason)
	ctl.mu.Unlock()
}

// lost handles the loss of an agent mid-run by the policy. It returns an
// error when the run must stop: abort, or no agent left.
func (ctl *Controller) lost(c *conn, why string) error {
	ctl.lose(c, why)
	at := time.Since(ctl.start).Truncate(time.Millisecond)
	ctl.degrade(fmt.Sprintf("agent %s lost %s after the start (%s); its data up to its last snapshot is kept; on_agent_loss: %s",
		c.ep.Name, at, why, ctl.policy))
	if len(ctl.live()) == 0 {
		return fmt.Errorf("%w (the last, %s: %s)", ErrAllLost, c.ep.Name, why)
	}
	switch ctl.policy {
	case scenarios.LossAbort:
		return &AbortError{Agent: c.ep.Name, Reason: why}
	case scenarios.LossRebalance:
		ctl.rebalance(c)
	}
	return nil
}

// rebalance hands the rest of the schedule to the survivors. Rather than
// split the lost share alone, it re-splits the whole schedule from a
// resume point among the survivors: survivor j of m runs part j of m from
// there, and every engine a survivor runs already stops before it (see
// window). Each arrival from the resume point on is then sent by exactly
// one survivor whatever happened before, and a second loss is handled the
// same way. The resume point is one lead ahead, so that every survivor
// hears of it in time. What lost did not send before it, from just after
// the last arrival it reported (Position), goes to the survivors as
// catch-ups, sent at once (resume.go).
func (ctl *Controller) rebalance(lost *conn) {
	live := ctl.live()
	resume := min(max(time.Since(ctl.start)+ctl.computeLead(), 0), ctl.plan.Duration())
	ctl.mu.Lock()
	cus := catchUps(lost, resume)
	ctl.gen++
	asgs := make([]*pb.Assignment, len(live))
	for j, c := range live {
		for i := range c.segs {
			c.segs[i].cut = min(c.segs[i].cut, resume)
		}
		asgs[j] = ctl.assignment(c, j, len(live), resume)
		c.segs = append(c.segs, segPlan{gen: ctl.gen, part: j, parts: len(live), from: resume, cut: noCut, startPhase: -1})
	}
	// Each stretch to one survivor, in turn: a stretch is what one agent
	// would have sent in a few hundred milliseconds.
	for k, cu := range cus {
		j := k % len(live)
		asgs[j].CatchUp = append(asgs[j].CatchUp, cu)
		live[j].segs = append(live[j].segs, segPlan{gen: ctl.gen, seq: int32(len(asgs[j].CatchUp)), part: int(cu.GetPart()), parts: int(cu.GetParts()),
			from: time.Duration(cu.GetFromOffsetNanos()), cut: time.Duration(cu.GetUntilOffsetNanos()), startPhase: cu.GetPhase(), startNext: cu.GetNext()})
	}
	ctl.mu.Unlock()
	for j, c := range live {
		c.send(&pb.ControllerMessage{Body: &pb.ControllerMessage_Assignment{Assignment: asgs[j]}})
	}
	ctl.log.Info("rebalanced", "survivors", len(live), "resume", resume, "generation", ctl.gen, "catch_ups", len(cus))
	ctl.degrade(fmt.Sprintf("rebalanced: %d surviving agents took the whole schedule from %s on; %s",
		len(live), resume.Truncate(time.Millisecond), describeCatchUps(lost.ep.Name, cus)))
}
