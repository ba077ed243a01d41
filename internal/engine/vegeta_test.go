package engine

import (
	"context"
	"net/http"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/coldbench/coldbench/drivers"
	"github.com/coldbench/coldbench/scenarios"
)

// TestVegetaPacerDrivesPhase: vegeta's own pacers drive a phase through
// scenarios.FromPacer, each sending exactly the hits vegeta's own attack
// loop sends in the phase (vegetaHits).
func TestVegetaPacerDrivesPhase(t *testing.T) {
	t.Parallel()
	d := openHTTP(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}), nil)
	const dur = 500 * time.Millisecond
	phases := []scenarios.PlannedPhase{
		{Name: "constant", Duration: dur},
		{Name: "linear", Start: dur, Duration: dur},
	}
	for i, p := range []vegeta.Pacer{
		vegeta.ConstantPacer{Freq: 100, Per: time.Second}, // the first hit one interval in: 49 in 0.5 s
		vegeta.LinearPacer{StartAt: vegeta.Rate{Freq: 20, Per: time.Second}, Slope: 80},
	} {
		phases[i].Schedule, phases[i].Planned = scenarios.FromPacer(p, dur), vegetaHits(p, dur)
		if phases[i].Planned < 15 {
			t.Fatalf("%s: vegeta sends %d hits in %v; the test wants a phase with traffic", phases[i].Name, phases[i].Planned, dur)
		}
	}
	e, err := New(d, plan(phases...))
	if err != nil {
		t.Fatal(err)
	}
	tally, err := e.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range tally.Phases {
		if want := phases[i].Planned; p.Sent != want || p.Outcomes[drivers.OK] != want {
			t.Errorf("phase %s: sent %d, ok %d, want %d", p.Name, p.Sent, p.Outcomes[drivers.OK], want)
		}
	}
}

// vegetaHits is how many hits vegeta's attack loop sends in d: it sends
// when Pace says to, else sleeps the wait it says.
func vegetaHits(p vegeta.Pacer, d time.Duration) int64 {
	var hits uint64
	var t time.Duration
	for t < d {
		wait, stop := p.Pace(t, hits)
		if stop {
			break
		}
		if wait > 0 {
			t += wait
			continue
		}
		hits++
	}
	return int64(hits)
}
