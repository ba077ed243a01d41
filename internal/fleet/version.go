package fleet

import "fmt"

// ProtocolVersion is the version of the controller–agent API this build
// speaks. It grows by one whenever what one side sends could be misread by
// the other (a new histogram key or outcome class, a new meaning for a
// field); a controller and an agent of different versions fail at connect
// instead of mid-run ("unknown histogram key"). Version 1 added it, with
// Position and CatchUp (resume after the last arrival sent) and the
// redirect outcome class; agents before it report 0. Version 2 sends the
// scenario's source text with --target beside it (Assignment.target_url),
// which an agent of version 1 would ignore and load the file's own target.
const ProtocolVersion = 2

// VersionError is a controller and an agent that speak different
// versions of the protocol. Nothing was sent to the target.
type VersionError struct {
	Agent         string // the agent's address
	AgentBuild    string // the agent's coldbench version, when it said
	AgentProtocol uint32
	Protocol      uint32 // the controller's
}

func (e *VersionError) Error() string {
	newer, older := "agent", "controller"
	if e.AgentProtocol < e.Protocol {
		newer, older = older, newer
	}
	build := ""
	if e.AgentBuild != "" {
		build = fmt.Sprintf(" (coldbench %s)", e.AgentBuild)
	}
	return fmt.Sprintf("agent %s%s speaks controller-agent protocol %d, this controller protocol %d: upgrade the %s to the %s's coldbench version (both sides must run the same protocol)",
		e.Agent, build, e.AgentProtocol, e.Protocol, older, newer)
}

// checkProtocol is the agent's side: an assignment from a controller of
// another protocol version is refused, naming both.
func checkProtocol(agent, controller uint32) error {
	if agent == controller {
		return nil
	}
	which := "agent" // the older side
	if controller < agent {
		which = "controller"
	}
	return fmt.Errorf("controller speaks controller-agent protocol %d, this agent protocol %d: upgrade the %s (both sides must run the same coldbench version)", controller, agent, which)
}
