package results

import "time"

// Header is what every record of a study says first: which schema, which
// scenario against which target, by which coldbench, when, and whether it
// ran to its end. Run, Tune and Capacity embed it, so its fields stand at the
// top level of run.json, tune.json and plan.json.
type Header struct {
	Schema           string    `json:"schema"`
	Scenario         string    `json:"scenario"`
	ScenarioFile     string    `json:"scenario_file"`
	Target           string    `json:"target"`
	Driver           string    `json:"driver"`
	ColdbenchVersion string    `json:"coldbench_version"`
	StartedAt        time.Time `json:"started_at"`  // UTC
	FinishedAt       time.Time `json:"finished_at"` // UTC; for an incomplete record, when it was last written
	// Complete is set when the study ended as planned: a run's last
	// phase, a sweep's last setting, a ramp's confirmed failing step or
	// last rate.
	Complete bool `json:"complete"`
}
