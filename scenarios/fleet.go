package scenarios

import "strings"

// AgentLoss says what a distributed run does when it loses an agent
// mid-run. In every case the lost agent's data up to its last snapshot is
// kept and the run is marked degraded, naming the agent.
type AgentLoss string

// The agent-loss policies. The zero value means LossContinue.
const (
	// LossAbort stops the whole run: the others are stopped, the partial
	// result is written and the run is incomplete.
	LossAbort AgentLoss = "abort"
	// LossContinue lets the survivors finish their own shares; the lost
	// share's traffic is missing from the rest of the run.
	LossContinue AgentLoss = "continue"
	// LossRebalance hands the lost share to the survivors for the rest of
	// the run, so that the total rate stays on schedule.
	LossRebalance AgentLoss = "rebalance"
)

// AgentLossPolicies lists the valid policies.
var AgentLossPolicies = []AgentLoss{LossAbort, LossContinue, LossRebalance}

// ParseAgentLoss reads a policy name; the empty string is LossContinue.
func ParseAgentLoss(s string) (AgentLoss, bool) {
	if s == "" {
		return LossContinue, true
	}
	for _, p := range AgentLossPolicies {
		if AgentLoss(s) == p {
			return p, true
		}
	}
	return "", false
}

// Policy is l with the default applied.
func (l AgentLoss) Policy() AgentLoss {
	if l == "" {
		return LossContinue
	}
	return l
}

// agentLoss checks the on_agent_loss field.
func (v *validator) agentLoss(l AgentLoss) {
	if _, ok := ParseAgentLoss(string(l)); !ok {
		names := make([]string, len(AgentLossPolicies))
		for i, p := range AgentLossPolicies {
			names[i] = string(p)
		}
		v.add("on_agent_loss", "unknown policy %q (want %s)", l, strings.Join(names, ", "))
	}
}
