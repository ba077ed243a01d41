package fleet

import (
	"fmt"

	pb "github.com/coldbench/coldbench/proto/coldbench/v1"
	"github.com/coldbench/coldbench/scenarios"
)

// An agent in another process gets the scenario as the text the controller
// parsed it from, byte for byte, and the controller's overrides in fields
// of their own; it parses the text and applies the overrides with the
// functions the controller used. (An agent in the controller's process is
// handed the scenario and its share compiled instead: handOver.)

// sendScenario puts s in asg: its source text, file name and overrides.
// s must have been parsed (Start checks that it has a Source).
func sendScenario(asg *pb.Assignment, s *scenarios.Scenario) {
	asg.ScenarioFile = s.File
	asg.ScenarioYaml = string(s.Source)
	asg.TargetUrl = s.TargetURL
}

// receiveScenario is the agent's side of sendScenario: the scenario asg
// carries, parsed, with the overrides applied as the controller applied
// them (scenarios.SetTarget for --target) and asg's seed.
func receiveScenario(asg *pb.Assignment) (*scenarios.Scenario, error) {
	s, err := scenarios.Parse(asg.GetScenarioFile(), []byte(asg.GetScenarioYaml()))
	if err != nil {
		return nil, fmt.Errorf("scenario: %w", err)
	}
	if u := asg.GetTargetUrl(); u != "" {
		if err := scenarios.SetTarget(s, u); err != nil {
			return nil, fmt.Errorf("scenario %s: %w", asg.GetScenarioFile(), err)
		}
	}
	if asg.GetSeed() != 0 {
		s.Seed = asg.GetSeed()
	}
	return s, nil
}
