package runner_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/coldbench/coldbench/drivers"
	"github.com/coldbench/coldbench/drivers/sim"
	"github.com/coldbench/coldbench/internal/runner"
	"github.com/coldbench/coldbench/results"
	"github.com/coldbench/coldbench/scenarios"
)

// classifyScenario is the smoke scenario's traffic with a slower init.
const classifyScenario = `
name: classify
target:
  driver: sim
  keep_alive: 2s
  handler: 10ms
  handler_jitter: 2ms
  init: {mean: 600ms, stddev: 50ms}
max_in_flight: 200
phases:
  - {name: cold-burst, duration: 1s, burst: {requests: 20}}
  - {name: warm, duration: 5s, rate: 50/s}
  - {name: idle, duration: 4s, idle: true}
  - {name: cold-again, duration: 1s, burst: {requests: 20}}
`

// TestClassificationAgainstGroundTruth runs smoke-like traffic against the
// emulator and checks every request's cold/warm decision against the
// emulator's own record: all right with its headers, at least 95% right
// with headers and instance ids ignored (inference alone).
func TestClassificationAgainstGroundTruth(t *testing.T) {
	tests := []struct {
		name       string
		ignore     bool
		wantSource drivers.ColdSource
		minRight   float64
	}{
		{"platform headers", false, drivers.SourcePlatform, 1.0},
		{"inference alone", true, drivers.SourceInferred, 0.95},
	}
	// Not parallel, and cold starts well apart from warm requests: the
	// classifier is under test here, not how the machine schedules two runs
	// at once under the race detector.
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := scenarios.Parse("classify.yaml", []byte(classifyScenario))
			if err != nil {
				t.Fatal(err)
			}
			s.Cold.IgnorePlatform = tt.ignore
			d, err := sim.Open(context.Background(), s.Target.Config.(*sim.Config))
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			var checked, right, colds int
			observe := func(c *drivers.Call, smp results.Sample) {
				if smp.Outcome != drivers.OK {
					return
				}
				truth, ok := d.Emulator().TruthByID(c.ID)
				if !ok {
					t.Errorf("request %s is not in the emulator's record", c.ID)
					return
				}
				if smp.Source != tt.wantSource {
					t.Errorf("request %s decided by %s, want %s", c.ID, smp.Source, tt.wantSource)
				}
				checked++
				if truth.Cold {
					colds++
				}
				if truth.Cold == (smp.Temp == drivers.Cold) {
					right++
				}
			}
			res, err := runner.Run(context.Background(), runner.Config{
				Scenario: s, Dir: filepath.Join(t.TempDir(), "run"), Driver: d, Observer: observe,
			})
			if err != nil {
				t.Fatal(err)
			}
			frac := float64(right) / float64(checked)
			t.Logf("%d requests, %d truly cold, %.2f%% classified right", checked, colds, 100*frac)
			if checked == 0 || colds == 0 || colds == checked {
				t.Fatalf("%d requests, %d cold: the scenario must have both", checked, colds)
			}
			if frac < tt.minRight {
				t.Errorf("%.2f%% right, want at least %.0f%%", 100*frac, 100*tt.minRight)
			}
			if int64(checked) != res.Run.Totals.OK {
				t.Errorf("observed %d ok requests, run.json says %d", checked, res.Run.Totals.OK)
			}
		})
	}
}
