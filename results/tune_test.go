package results

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestTuneRoundTrip(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	rate := 0.05
	in := &Tune{
		Header: Header{
			Schema:    TuneSchema,
			Scenario:  "checkout",
			StartedAt: time.Date(2026, 11, 25, 17, 0, 0, 0, time.UTC),
		},
		Strategy: "slo",
		SLO:      &TuneSLO{WarmP99Ms: 250, ColdRate: &rate},
		Pricing:  TunePricing{Table: "aws-lambda-x86_64", Rates: map[string]float64{"gb_second": 0.0000166667}},
		Settings: []TuneSetting{{Name: SettingName(1024, 2), MemoryMB: 1024, Prewarm: 2, Complete: true,
			RunDir: filepath.Join(SettingsDir, "1024mb-p2"), Cost: TuneCost{Monthly: 22.5}}},
		Recommendation: &Recommendation{Strategy: "slo", Winner: "1024mb-p2", After: TuneSnapshot{Setting: "1024mb-p2", Monthly: 22.5}},
	}
	if err := WriteTune(dir, in); err != nil {
		t.Fatal(err)
	}
	out, err := LoadTune(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(in, out) {
		t.Errorf("round trip:\n%+v\n%+v", in, out)
	}
	if s := out.Setting("1024mb-p2"); s == nil || s.RunDir != "settings/1024mb-p2" || out.Setting("nope") != nil {
		t.Errorf("Setting lookup: %+v", s)
	}
	// Another schema, and no record at all, are errors that name the file.
	bad := filepath.Join(t.TempDir(), TuneFile)
	os.WriteFile(bad, []byte(`{"schema": "coldbench.run/v1"}`), 0o644)
	if _, err := LoadTune(bad); err == nil || !strings.Contains(err.Error(), `schema "coldbench.run/v1"`) {
		t.Errorf("wrong schema: %v", err)
	}
	if _, err := LoadTune(t.TempDir()); err == nil || !strings.Contains(err.Error(), "no tuning record") {
		t.Errorf("empty directory: %v", err)
	}
}
