package results

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPlanRoundTrip(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := &Capacity{Header: Header{Schema: CapacitySchema, Scenario: "s"}, Steps: []CapacityStep{{Name: "01-10rps", Target: 10, Complete: true, Pass: true,
		Instances: &CapacityInstances{Max: 3, Mean: 2.5, Samples: 8}}},
		Result: CapacityResult{MaxSustainable: 0, MaxSustainableRPS: 10, Break: -1, Knee: -1}}
	if err := WriteCapacity(dir, p); err != nil {
		t.Fatal(err)
	}
	back, err := LoadCapacity(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(back.Steps) != 1 || *back.Steps[0].Instances != *p.Steps[0].Instances || back.Result != p.Result {
		t.Errorf("round trip: %+v", back)
	}
	// Another schema is refused, by name.
	if err := os.WriteFile(filepath.Join(dir, CapacityFile), []byte(`{"schema": "coldbench.plan/v9"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadCapacity(filepath.Join(dir, CapacityFile)); err == nil || !strings.Contains(err.Error(), `"coldbench.plan/v9" is not supported`) {
		t.Errorf("LoadCapacity of another schema: %v", err)
	}
	if _, err := LoadCapacity(t.TempDir()); err == nil || !strings.Contains(err.Error(), "no plan record there") {
		t.Errorf("LoadCapacity of an empty directory: %v", err)
	}
}
