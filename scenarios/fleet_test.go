package scenarios

import (
	"strings"
	"testing"
)

func TestOnAgentLoss(t *testing.T) {
	t.Parallel()
	const head = "name: x\ntarget: {driver: fake}\nphases:\n  - {name: a, duration: 1s, rate: 1}\n"
	for _, p := range []string{"abort", "continue", "rebalance"} {
		s, err := Parse("x.yaml", []byte(head+"on_agent_loss: "+p+"\n"))
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if s.OnAgentLoss.Policy() != AgentLoss(p) {
			t.Errorf("%s: policy %q", p, s.OnAgentLoss.Policy())
		}
	}
	s, err := Parse("x.yaml", []byte(head))
	if err != nil || s.OnAgentLoss.Policy() != LossContinue {
		t.Errorf("default: %v, %q; want continue", err, s.OnAgentLoss.Policy())
	}
	_, err = Parse("x.yaml", []byte(head+"on_agent_loss: retry\n"))
	if err == nil || !strings.Contains(err.Error(), "x.yaml:5:") || !strings.Contains(err.Error(), "on_agent_loss") || !strings.Contains(err.Error(), "rebalance") {
		t.Errorf("bad policy: %v, want an error at x.yaml:5 naming the field and the policies", err)
	}
}
