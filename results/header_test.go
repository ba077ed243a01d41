package results

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestHeaderFlattens holds run.json, tune.json and plan.json to the key
// order they had before Header was embedded: its fields first, at the top
// level, then each record's own.
func TestHeaderFlattens(t *testing.T) {
	t.Parallel()
	h := Header{Schema: "s", Scenario: "n"}
	head := `{"schema":"s","scenario":"n","scenario_file":"","target":"","driver":"","coldbench_version":"","started_at":"0001-01-01T00:00:00Z","finished_at":"0001-01-01T00:00:00Z","complete":false,`
	tests := []struct {
		name string
		rec  any
		next string // the key after the header
	}{
		{"run", &Run{Header: h}, `"interrupted":""`},
		{"tune", &Tune{Header: h}, `"host":`},
		{"plan", &Capacity{Header: h}, `"host":`},
	}
	for _, tt := range tests {
		b, err := json.Marshal(tt.rec)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(string(b), head+tt.next) {
			t.Errorf("%s.json starts %.300s", tt.name, b)
		}
	}
}
