package tune

import (
	"bytes"
	"strings"
	"testing"

	"github.com/coldbench/coldbench/report"
	"github.com/coldbench/coldbench/results"
)

// TestMemoryUsedPerSetting: a setting that used all its memory does not
// win; the recommendation says what the winner used of its memory and
// which smaller swept sizes would not fit, and the tuning reports show
// memory used and headroom per setting.
func TestMemoryUsedPerSetting(t *testing.T) {
	t.Parallel()
	// memory×10+prewarm, typical, warm p99, cold p99, cold rate, monthly.
	rec := sweepOf("cost",
		[6]float64{1280, 80, 90, 400, 0.05, 9.0},   // the cheapest, but used all 128 MB: not ranked
		[6]float64{2560, 60, 70, 350, 0.05, 11.0},  // 212 of 256 MB
		[6]float64{5120, 50, 60, 300, 0.05, 10.0},  // cheapest: 212 of 512 MB
		[6]float64{10240, 45, 55, 290, 0.05, 15.0}, // the platform reported nothing
	)
	used := map[int]int{128: 128, 256: 212, 512: 212}
	for i := range rec.Settings {
		s := &rec.Settings[i]
		if u := used[s.MemoryMB]; u > 0 {
			s.MaxMemoryUsedMB = u
			s.MemoryHeadroom = 1 - float64(u)/float64(s.MemoryMB)
			s.MemoryUsed = &results.MemoryUsed{Count: 50, P50MB: int64(u) - 5, P99MB: int64(u), MaxMB: int64(u)}
		}
	}
	rec.Recommendation = Recommend(rec)
	if rec.Recommendation.Winner != "512mb-p0" || rec.Settings[0].Rank != 0 {
		t.Fatalf("winner %s, 128 MB ranked %d", rec.Recommendation.Winner, rec.Settings[0].Rank)
	}
	want := "At 512 MB without prewarm it used 212 MB of 512 MB (59% headroom); it would not fit in 128 MB."
	if got := rec.Recommendation.Memory; got != want {
		t.Errorf("memory note\n got %q\nwant %q", got, want)
	}

	var text bytes.Buffer
	if err := report.TuneText(&text, rec); err != nil {
		t.Fatal(err)
	}
	lead, rest := report.TuneSections(rec)
	var mdText strings.Builder
	for _, s := range append(lead, rest...) {
		mdText.WriteString(s.Markdown)
	}
	for _, w := range []string{
		"128mb-p0: 128 MB of 128 MB, no headroom",
		"256mb-p0: 212 MB of 256 MB, 17% headroom",
		"512mb-p0: 212 MB of 512 MB, 59% headroom",
		want,
	} {
		if !strings.Contains(text.String(), w) {
			t.Errorf("text report lacks %q:\n%s", w, text.String())
		}
	}
	for _, w := range []string{"212 MB of 512 MB, 59% headroom", "it would not fit in 128 MB"} {
		if !strings.Contains(mdText.String(), w) {
			t.Errorf("markdown report lacks %q", w)
		}
	}
	if strings.Contains(text.String(), "1024mb-p0: ") {
		t.Error("a setting without memory used is listed with some")
	}
}

// TestMemoryNoteWithoutReports: no memory used reported, no note.
func TestMemoryNoteWithoutReports(t *testing.T) {
	t.Parallel()
	rec := sweepOf("cost", [6]float64{5120, 50, 60, 300, 0.05, 10.0})
	if r := Recommend(rec); r.Memory != "" {
		t.Errorf("memory note %q without any memory reported", r.Memory)
	}
}
